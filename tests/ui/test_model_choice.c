// Model choices (app/dg_model_choice, render/pipelines dg_model_set_check): the tiny complete model
// of tests/pipeline passes the device-free check with its kind named; files that cannot be loaded
// (missing, not safetensors, a lone VAE, a folder without its UNet or without any tokenizer) fail with
// a message naming the file, and so do configurations the engine cannot run (heads that do not divide a
// width, a zero VAE scale, unparsable JSON); "default" follows DIRIGENT_MODEL; names shown to the user; the
// temporal layers of a folder's video UNet, from its header.
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_check.h"
#include "dg_generate.h"
#include "dg_model_choice.h"

#define TINY DG_SOURCE_DIR "/tests/pipeline/tiny_model"

static bool copy(const char *from, const char *to) {
  gchar *data;
  gsize n;
  bool ok = g_file_get_contents(from, &data, &n, NULL) && g_file_set_contents(to, data, (gssize)n, NULL);
  g_free(data);
  return ok;
}

static void expect_failure(const char *path, const dg_model_options *o, const char *needle, const char *what) {
  char kind[256] = "untouched";
  dg_status s = dg_model_set_check(path, o, kind, sizeof kind);
  dg_check(s != DG_OK, "%s: refused", what);
  dg_check(strstr(dg_last_error(), needle) != NULL, "%s: message '%s' contains '%s'", what, dg_last_error(), needle);
  dg_check(!strcmp(kind, "untouched"), "%s: kind left alone on failure", what);
}

static void test_check(const char *tmp) {
  char kind[256] = "";
  dg_check_status(dg_model_choice_check(TINY, kind, sizeof kind), "tiny model folder checks");
  dg_check(!strcmp(kind, "Dirigent model folder: text encoder, UNet, VAE, ALDM layout ControlNet"), "kind: '%s'", kind);
  dg_check_status(dg_model_set_check(TINY, NULL, NULL, 0), "its own tokenizer/, no kind wanted");
  // The editor's Generate checks the canvas size against the model's rule before anything loads.
  dg_check_status(dg_model_choice_check_size(TINY, 64, 32), "a 64x32 canvas");
  dg_check_error(dg_model_choice_check_size(TINY, 66, 32), DG_ERR_ARG, "multiples of 4 from 4 to 4096",
                 "a 66x32 canvas");

  char *missing = g_build_filename(tmp, "missing", NULL);
  expect_failure(missing, NULL, missing, "a missing path");
  char *text = g_build_filename(tmp, "notes.safetensors", NULL);
  g_file_set_contents(text, "not a checkpoint at all, just some text that is long enough", -1, NULL);
  expect_failure(text, NULL, text, "a text file");
  expect_failure(TINY "/vae.safetensors", NULL, TINY "/vae.safetensors: no CLIP text encoder", "a lone VAE");
  expect_failure(TINY "/unet.safetensors", NULL, TINY "/unet.safetensors: no CLIP text encoder", "a lone UNet");

  // A Dirigent folder whose unet.safetensors is really the VAE, then one without a tokenizer.
  char *folder = g_build_filename(tmp, "broken_model", NULL);
  g_mkdir(folder, 0700);
  char *t = g_build_filename(folder, "text_encoder.safetensors", NULL), *u = g_build_filename(folder, "unet.safetensors", NULL),
       *v = g_build_filename(folder, "vae.safetensors", NULL);
  dg_check(copy(TINY "/text_encoder.safetensors", t) && copy(TINY "/vae.safetensors", u) &&
               copy(TINY "/vae.safetensors", v),
           "copied the parts");
  char *want = g_strdup_printf("%s: no image UNet", u);
  expect_failure(folder, NULL, want, "a folder whose UNet file holds a VAE");
  g_unlink(u);
  expect_failure(folder, NULL, u, "a folder without unet.safetensors");
  copy(TINY "/unet.safetensors", u);
  expect_failure(folder, NULL, "no tokenizer found", "a folder without a tokenizer and no fallback");
  dg_model_options o = {.default_tokenizer_dir = TINY "/tokenizer"};
  dg_check_status(dg_model_set_check(folder, &o, kind, sizeof kind), "the same folder with a fallback tokenizer");
  dg_check(!strcmp(kind, "Dirigent model folder: text encoder, UNet, VAE"), "no ControlNet in the kind: '%s'", kind);
  o.control = "colour";
  expect_failure(folder, &o, "has no controlnet_colour.safetensors", "a ControlNet asked for but absent");
  g_unlink(t), g_unlink(u), g_unlink(v), g_rmdir(folder), g_unlink(text);
  g_free(t), g_free(u), g_free(v), g_free(want), g_free(folder), g_free(text), g_free(missing);
}

// Configurations the engine cannot run are refused when the model is picked, not on Generate: the
// JSON beside a part overrides its metadata, and each bad value is named with its file.
static void test_bad_configs(const char *tmp) {
  static const char *const parts[] = {"text_encoder", "unet", "vae", "controlnet_aldm"};
  static const struct {
    const char *part, *json, *needle;
  } cases[] = {
      {"unet", "{\"num_heads\": -1, \"num_head_channels\": 4096}", "num_head_channels 4096 does not divide the width 32"},
      {"unet", "{\"num_heads\": 1e12}", "'num_heads' is 1000000000000, not a whole number"},
      {"controlnet_aldm", "{\"num_heads\": 0}", "'num_heads' is 0"},
      {"text_encoder", "{\"heads\": 5}", "'heads' is 5"},
      {"vae", "{\"scale_factor\": 0}", "'scale_factor' is 0"},
      {"vae", "{\"scale_factor\": ", "invalid JSON"},
  };
  char *folder = g_build_filename(tmp, "bad_config", NULL);
  g_mkdir(folder, 0700);
  for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
    char *name = g_strdup_printf("%s.safetensors", parts[i]), *from = g_build_filename(TINY, name, NULL),
         *to = g_build_filename(folder, name, NULL);
    dg_check(copy(from, to), "copied %s", name);
    g_free(name), g_free(from), g_free(to);
  }
  dg_model_options o = {.default_tokenizer_dir = TINY "/tokenizer"};
  dg_check_status(dg_model_set_check(folder, &o, NULL, 0), "the copied folder checks");
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *name = g_strdup_printf("%s.json", cases[i].part), *json = g_build_filename(folder, name, NULL);
    g_file_set_contents(json, cases[i].json, -1, NULL);
    char *what = g_strdup_printf("%s: %s", name, cases[i].json);
    expect_failure(folder, &o, cases[i].needle, what);
    expect_failure(folder, &o, json, what);
    g_unlink(json);
    g_free(name), g_free(json), g_free(what);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
    char *name = g_strdup_printf("%s.safetensors", parts[i]), *path = g_build_filename(folder, name, NULL);
    g_unlink(path);
    g_free(name), g_free(path);
  }
  g_rmdir(folder);
  g_free(folder);
}

static void test_names(void) {
  dg_check(dg_model_choice_is_default("default") && dg_model_choice_is_default("") && !dg_model_choice_is_default("/m"),
           "what counts as the default");
  g_setenv("DIRIGENT_MODEL", TINY "/", TRUE);
  char *path = dg_model_choice_path("default"), *name = dg_model_choice_name("default");
  dg_check(path && !strcmp(path, TINY "/"), "default follows DIRIGENT_MODEL: %s", path ? path : "(null)");
  dg_check(!strcmp(name, "Default: tiny_model"), "default's name: '%s'", name);
  g_free(path), g_free(name);
  path = dg_model_choice_path("/m/v1-5.safetensors"), name = dg_model_choice_name("/m/v1-5.safetensors");
  dg_check(!strcmp(path, "/m/v1-5.safetensors") && !strcmp(name, "v1-5"), "a file: %s named '%s'", path, name);
  g_free(path), g_free(name);
  name = dg_model_choice_name("/m/world_model/");
  dg_check(!strcmp(name, "world_model"), "a folder named '%s'", name);
  g_free(name);
  g_unsetenv("DIRIGENT_MODEL");
  path = dg_model_choice_path("default"), name = dg_model_choice_name("default");
  dg_check(path ? !strcmp(name, "Default (embedded)") : !strcmp(name, "Default (none installed)"),
           "without DIRIGENT_MODEL: '%s' (%s)", name, path ? path : "none installed");
  g_free(path), g_free(name);
}

// The attention picture's layers: the temporal transformers of a folder's video_unet.safetensors, read from its
// header (the tiny video UNet has 4), none for a folder without one or a missing path.
static void test_video_layers(const char *tmp) {
  char *folder = g_build_filename(tmp, "video-model", NULL),
       *unet = g_build_filename(folder, "video_unet.safetensors", NULL);
  g_mkdir(folder, 0700);
  dg_check(symlink(DG_SOURCE_DIR "/tests/pipeline/tiny_video_unet.safetensors", unet) == 0, "link the video UNet");
  dg_check(dg_model_choice_video_layers(folder) == 4, "the tiny video UNet has 4 temporal layers (%d)",
           dg_model_choice_video_layers(folder));
  dg_check(dg_model_choice_video_layers(TINY) == 0 && dg_model_choice_video_layers(NULL) == 0 &&
               dg_model_choice_video_layers("/no/such/model") == 0,
           "no video UNet, no layers");
  g_unlink(unet), g_rmdir(folder);
  g_free(unet), g_free(folder);
}

int main(void) {
  char *tmp = g_dir_make_tmp("dg_model_choice_XXXXXX", NULL);
  test_check(tmp);
  test_bad_configs(tmp);
  test_names();
  test_video_layers(tmp);
  g_rmdir(tmp);
  g_free(tmp);
  return dg_check_finish("test_model_choice");
}
