// The Masked Noise Encoder against the `mne/` fixtures (tools/train/dgtrain/make_fixtures_mne.py, a tiny random
// encoder with the reference's names for the generator of `stylegan/`): ws and both noise maps of two images,
// the generator's reconstruction from them (full-channel layer noise replacing block b8's noise), style mixing
// with the content's noise maps; f32 and f16 storage. Also the W+-only ablation (no noise_net: the same ws, no
// maps), the loader's errors for a missing and a mis-shaped tensor, and the image size check.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_mne.h"
#include "dg_stylegan2.h"
#include "dg_test.h"
#include "golden_util.h"

static dg_status open_model(const char *dir, const char *file, dg_weights **w, dg_model_config *cfg) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  DG_TRY(dg_weights_open(path, w));
  return dg_model_config_load(path, *w, cfg);
}

// Synthesis with the encoder's maps as noise of block b<noise_res> (conv0 and conv1), const noise elsewhere.
static dg_status synth(const dg_nn_ctx *nn, const dg_stylegan2 *g, const dg_mne *e, const dg_tensor *ws,
                       const dg_tensor noise[2], dg_tensor *img) {
  const dg_tensor *np[DG_SG_MAX_NOISE] = {0};
  for (int b = 1; b < g->n_blocks; b++)
    if (g->blocks[b].res == e->noise_res) np[2 * b - 1] = &noise[0], np[2 * b] = &noise[1];
  return dg_stylegan2_synthesis(nn, g, ws, np, DG_SG_NOISE_CONST, img);
}

static void run(dg_dtype dt, const dg_weights *ew, const dg_model_config *ecfg, const dg_weights *gw,
                const dg_model_config *gcfg, dg_safetensors *st) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_mne *e = calloc(1, sizeof *e);
  dg_stylegan2 *g = calloc(1, sizeof *g);
  char what[96];
  if (!dg_test_ok(dg_mne_load(&(dg_nn_src){ew, T.arena, dt}, ecfg, e), "mne load") ||
      !dg_test_ok(dg_stylegan2_load(&(dg_nn_src){gw, T.arena, dt}, gcfg, g), "stylegan2 load"))
    goto done;
  dg_check(e->num_ws == 8 && e->w_dim == 16 && e->fpn_dim == 8 && e->has_noise && e->noise_channels == 16 &&
               e->n_noise_convs == 3 && e->noise_res == 8 && e->height == 32 && e->width == 64 && e->blocks[1] == 2,
           "mne sizes from the shapes and the config");
  dg_tensor images = golden_tensor(st, "images", dt), ws, noise[2], img;
  snprintf(what, sizeof what, "mne encode %s", dg_dtype_name(dt));
  if (!dg_test_ok(dg_mne_encode(&nn, e, &images, &ws, noise), what)) goto done;
  golden_check("mne ws", &ws, st, "ws", dt);
  golden_check("mne noise.0", &noise[0], st, "noise.0", dt);
  golden_check("mne noise.1", &noise[1], st, "noise.1", dt);
  if (dg_test_ok(synth(&nn, g, e, &ws, noise, &img), "mne reconstruction"))
    golden_check("G(E(images))", &img, st, "image_recon", dt);
  dg_tensor wc, wsty, n0[2], mixed;
  dg_tensor_items(&ws, 0, 1, &wc);
  dg_tensor_items(&ws, 1, 1, &wsty);
  dg_tensor_items(&noise[0], 0, 1, &n0[0]);
  dg_tensor_items(&noise[1], 0, 1, &n0[1]);
  const dg_tensor *styles[1] = {&wsty};
  if (dg_test_ok(dg_stylegan2_mix(&nn, g, &wc, styles, 1, 0.6f, &mixed), "mne mix") &&
      dg_test_ok(synth(&nn, g, e, &mixed, n0, &img), "mne mix synthesis"))
    golden_check("G(mix(ws 0, ws 1, 0.6), noise 0)", &img, st, "image_mix", dt);
  // the wrong image size is refused naming both
  int64_t bad[4] = {1, 3, 32, 32};
  dg_tensor small;
  dg_nn_alloc(&nn, 4, bad, &small);
  dg_status s = dg_mne_encode(&nn, e, &small, &ws, noise);
  dg_check(s == DG_ERR_ARG && strstr(dg_last_error(), "images [1, 3, 32, 32], expected [N <= 32, 3, 32, 64]"),
           "image size error: %s", dg_last_error());
done:
  free(e), free(g);
  dg_arena_release(T.arena, mark);
}

// The W+-only ablation: the same heads give the same ws; no noise maps.
static void wplus(dg_safetensors *st) {
  dg_weights *w = NULL;
  dg_model_config cfg = {0};
  dg_mne *e = calloc(1, sizeof *e);
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
  if (dg_test_ok(open_model(golden_dir, "weights_wplus.safetensors", &w, &cfg), "wplus open") &&
      dg_test_ok(dg_mne_load(&(dg_nn_src){w, T.arena, DG_F32}, &cfg, e), "wplus load")) {
    dg_check(!e->has_noise, "the W+-only encoder has no noise maps");
    dg_tensor images = golden_tensor(st, "images", DG_F32), ws, noise[2];
    if (dg_test_ok(dg_mne_encode(&nn, e, &images, &ws, noise), "wplus encode")) {
      golden_check("wplus ws", &ws, st, "ws", DG_F32);
      dg_check(noise[0].ndim == 0 && noise[1].ndim == 0, "wplus: no noise maps returned");
    }
  }
  dg_arena_release(T.arena, mark);
  free(e);
  dg_model_config_free(&cfg);
  dg_weights_close(w);
}

static void bad_checkpoint(const char *file, const char *want) {
  dg_weights *w = NULL;
  dg_model_config cfg = {0};
  dg_mne *e = calloc(1, sizeof *e);
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  if (dg_test_ok(open_model(golden_dir, file, &w, &cfg), file)) {
    dg_status s = dg_mne_load(&(dg_nn_src){w, T.arena, DG_F32}, &cfg, e);
    dg_check(s == DG_ERR_FORMAT && strstr(dg_last_error(), want), "%s: status %d, error '%s', expected '%s'", file, s,
             dg_last_error(), want);
  }
  dg_arena_release(T.arena, mark);
  free(e);
  dg_model_config_free(&cfg);
  dg_weights_close(w);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_mne");
  char gdir[1024];
  snprintf(gdir, sizeof gdir, "%s/../stylegan", golden_dir);
  dg_weights *ew = NULL, *gw = NULL;
  dg_model_config ecfg = {0}, gcfg = {0};
  dg_safetensors *st = golden_open("fixture.safetensors");
  if (dg_test_ok(open_model(golden_dir, "weights.safetensors", &ew, &ecfg), "encoder") &&
      dg_test_ok(open_model(gdir, "weights.safetensors", &gw, &gcfg), "generator") && st) {
    run(DG_F32, ew, &ecfg, gw, &gcfg, st);
    run(DG_F16, ew, &ecfg, gw, &gcfg, st);
    wplus(st);
    bad_checkpoint("bad_missing.safetensors", "mne encoder: the checkpoint has no tensor fine_styles.0.linear.linear.bias");
    bad_checkpoint("bad_shape.safetensors",
                   "mne encoder: tensor FPN_module.layer2.0.conv2.weight has shape [4, 4, 1, 1], expected [4, 4, 3, 3]");
  }
  dg_model_config_free(&ecfg);
  dg_model_config_free(&gcfg);
  dg_weights_close(ew);
  dg_weights_close(gw);
  dg_safetensors_close(st);
  return dg_test_finish();
}
