// The model set's tiny decoder (DG_ROLE_TINY_DECODER) and dg_generate's fast_decode, on folders of links:
// - the default model (assets/models, latent factor 8) with the golden fixture's tiny decoder: the set loads
//   it; fast_decode decodes with it (another image), without fast_decode the image is the VAE decoder's, the
//   same bytes as a set without the tiny decoder, where fast_decode falls back to the VAE decoder;
// - a tiny decoder beside a VAE of another latent factor (tests/pipeline/tiny_model, f = 2), or one with a
//   tensor missing: the set refuses to open, naming the file (and the tensor).
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dg_generate.h"
#include "dg_test.h"

#define W 256
#define H 128

// DIR/NAME -> TARGET for every model file of SRC (*.safetensors and *.json) and the tokenizer folder.
static void link_models(const char *src, const char *dir) {
  GDir *d = g_dir_open(src, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));) {
    if (!g_str_has_suffix(n, ".safetensors") && !g_str_has_suffix(n, ".json") && strcmp(n, "tokenizer")) continue;
    if (g_str_has_prefix(n, "tiny_decoder.")) continue; // the test chooses the tiny decoder
    char *from = g_build_filename(src, n, NULL), *to = g_build_filename(dir, n, NULL);
    dg_check(symlink(from, to) == 0, "link %s", to);
    g_free(from), g_free(to);
  }
  if (d) g_dir_close(d);
}

static char *folder(const char *models, const char *tiny) {
  char *dir = g_dir_make_tmp("dg-live-decoder-XXXXXX", NULL);
  link_models(models, dir);
  if (tiny) {
    char *to = g_build_filename(dir, "tiny_decoder.safetensors", NULL);
    dg_check(symlink(tiny, to) == 0, "link %s", to);
    g_free(to);
  }
  return dir;
}

static void remove_folder(char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));) {
    char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
    g_free(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
  g_free(dir);
}

static bool generate(dg_model_set *m, bool fast, uint8_t *rgb) {
  dg_generate_params p = {.prompt = "a red car on a road",
                          .width = W,
                          .height = H,
                          .steps = 1,
                          .cfg = 1.0f,
                          .seed = 3,
                          .sampler = DG_SAMPLER_DDIM,
                          .fast_decode = fast};
  return dg_test_ok(dg_generate(m, &p, rgb), fast ? "generate, fast decode" : "generate");
}

int main(void) {
  dg_test_init("test_live_decoder");
  const char *tok = DG_ASSETS_DIR "/tokenizer";
  dg_model_options mo = {.default_tokenizer_dir = tok, .dtype = DG_F32};
  static uint8_t vae[W * H * 3], tiny[W * H * 3], fallback[W * H * 3];
  char *with = folder(DG_ASSETS_DIR "/models", DG_GOLDEN_TINY "/weights.safetensors");
  dg_model_set *m = NULL;
  if (dg_test_ok(dg_model_set_open(T.device, with, &mo, &m), "open the default model with a tiny decoder")) {
    dg_check(dg_model_set_has(m, DG_ROLE_TINY_DECODER), "the set has the tiny decoder");
    dg_check(strstr(dg_model_set_describe(m), "tiny decoder (live frames): widths 16/12/8/8") != NULL, "described: %s",
             dg_model_set_describe(m));
    if (generate(m, false, vae) && generate(m, true, tiny)) {
      int differ = 0;
      for (int i = 0; i < W * H * 3; i++)
        differ += vae[i] != tiny[i];
      dg_check(differ > W * H, "fast decode gives another image (%d of %d values differ)", differ, W * H * 3);
    }
    dg_model_set_close(m);
  }
  char *without = folder(DG_ASSETS_DIR "/models", NULL);
  if (dg_test_ok(dg_model_set_open(T.device, without, &mo, &m), "open the default model without a tiny decoder")) {
    dg_check(!dg_model_set_has(m, DG_ROLE_TINY_DECODER), "no tiny decoder in the set");
    uint8_t *again = tiny; // the VAE image again, from the set without the tiny decoder
    if (generate(m, false, again))
      dg_check(!memcmp(again, vae, sizeof vae), "without fast decode: the VAE decoder's image, byte for byte");
    if (generate(m, true, fallback))
      dg_check(!memcmp(fallback, vae, sizeof vae), "fast decode without a tiny decoder: the VAE decoder's image");
    dg_model_set_close(m);
  }
  char *other = folder(DG_PIPELINE_DIR "/tiny_model", DG_GOLDEN_TINY "/weights.safetensors");
  dg_status s = dg_model_set_open(T.device, other, &(dg_model_options){0}, &m);
  dg_check(s == DG_ERR_FORMAT &&
               strstr(dg_last_error(), "tiny_decoder.safetensors: the tiny decoder takes 4-channel "
                                       "latents at 1/8 of the image, the VAE's are 4 channels at 1/2"),
           "a tiny decoder for another latent factor: %s", dg_last_error());
  char *bad = folder(DG_ASSETS_DIR "/models", DG_GOLDEN_TINY "/bad_missing.safetensors");
  s = dg_model_set_open(T.device, bad, &mo, &m);
  dg_check(s == DG_ERR_FORMAT && strstr(dg_last_error(), "missing tensor 'tiny_decoder.level.1.block.1.conv2.bias'"),
           "a tiny decoder with a tensor missing: %s", dg_last_error());
  remove_folder(with), remove_folder(without), remove_folder(other), remove_folder(bad);
  return dg_test_finish();
}
