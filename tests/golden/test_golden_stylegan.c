// The StyleGAN2 generator against the `stylegan/` fixtures (tools/train/dgtrain/make_fixtures_stylegan.py, a
// tiny random model with StyleGAN2-ADA's names): the mapping with truncation, and the synthesis of per-layer ws
// with the noise_const buffers, without noise and with given noise maps, batch 2; f32 and f16 storage. Also the
// loader's errors for a missing and a mis-shaped tensor, and the ws shape check.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_stylegan2.h"
#include "dg_test.h"
#include "golden_util.h"

static void run(dg_dtype dt, const dg_weights *w, const dg_model_config *cfg, dg_safetensors *st) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_stylegan2 *m = calloc(1, sizeof *m);
  char what[96];
  if (!dg_test_ok(dg_stylegan2_load(&src, cfg, m), "stylegan2 load")) goto done;
  dg_check(m->z_dim == 16 && m->w_dim == 16 && m->n_mapping == 3 && m->n_blocks == 4 && m->num_ws == 8 &&
               m->n_noise == 7 && m->height == 32 && m->width == 64 && m->conv_clamp == 256.0f,
           "stylegan2 sizes from the shapes");
  int64_t nz;
  float *z = golden_read(st, "z", &nz);
  dg_tensor wv;
  snprintf(what, sizeof what, "stylegan2 mapping");
  if (dg_test_ok(dg_stylegan2_mapping(&nn, m, z, 2, 0.7f, &wv), what)) golden_check(what, &wv, st, "w", dt);
  free(z);
  dg_tensor ws = golden_tensor(st, "ws", dt), img;
  snprintf(what, sizeof what, "stylegan2 image_const");
  if (dg_test_ok(dg_stylegan2_synthesis(&nn, m, &ws, NULL, DG_SG_NOISE_CONST, &img), what))
    golden_check(what, &img, st, "image_const", dt);
  snprintf(what, sizeof what, "stylegan2 image_none");
  if (dg_test_ok(dg_stylegan2_synthesis(&nn, m, &ws, NULL, DG_SG_NOISE_NONE, &img), what))
    golden_check(what, &img, st, "image_none", dt);
  dg_tensor noise[7];
  const dg_tensor *np[7];
  for (int i = 0; i < 7; i++) {
    char name[32];
    snprintf(name, sizeof name, "noise.%d", i);
    noise[i] = golden_tensor(st, name, dt);
    np[i] = &noise[i];
  }
  snprintf(what, sizeof what, "stylegan2 image_noise");
  if (dg_test_ok(dg_stylegan2_synthesis(&nn, m, &ws, np, DG_SG_NOISE_NONE, &img), what))
    golden_check(what, &img, st, "image_noise", dt);
  // broadcast: every layer the same w
  dg_tensor wsb;
  if (dg_test_ok(dg_stylegan2_broadcast(&nn, m, &wv, &wsb), "stylegan2 broadcast")) {
    float *a = dg_test_read(&wv), *b = dg_test_read(&wsb);
    bool same = true;
    for (int n = 0; n < 2; n++)
      for (int l = 0; l < 8; l++)
        for (int d = 0; d < 16; d++)
          same = same && b[(n * 8 + l) * 16 + d] == a[n * 16 + d];
    dg_check(same, "stylegan2 broadcast copies w to every layer");
    free(a), free(b);
  }
  // a wrong ws shape is refused by name
  dg_tensor wsbad;
  dg_tensor_reshape(&ws, 3, (int64_t[3]){4, 4, 16}, &wsbad);
  dg_status s = dg_stylegan2_synthesis(&nn, m, &wsbad, NULL, DG_SG_NOISE_CONST, &img);
  dg_check(s == DG_ERR_ARG && strstr(dg_last_error(), "ws has shape [4, 4, 16]"), "ws shape error: %s",
           dg_last_error());
done:
  free(m);
  dg_arena_release(T.arena, mark);
}

// Stores with a tensor left out or mis-shaped (bad_*.safetensors, the mapping only) fail naming it.
static void bad_checkpoint(const char *file, const char *want) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", golden_dir, file);
  dg_weights *w = NULL;
  if (!dg_test_ok(dg_weights_open(path, &w), file)) return;
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, DG_F32};
  dg_stylegan2 *m = calloc(1, sizeof *m);
  dg_status s = dg_stylegan2_load(&src, NULL, m);
  dg_check(s == DG_ERR_FORMAT && strstr(dg_last_error(), want), "%s: status %d, error '%s', expected '%s'", file, s,
           dg_last_error(), want);
  free(m);
  dg_arena_release(T.arena, mark);
  dg_weights_close(w);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_stylegan");
  char path[1024];
  snprintf(path, sizeof path, "%s/weights.safetensors", golden_dir);
  dg_weights *w = NULL;
  dg_model_config cfg;
  dg_safetensors *st = golden_open("fixture.safetensors");
  if (dg_test_ok(dg_weights_open(path, &w), "weights") && dg_test_ok(dg_model_config_load(path, w, &cfg), "config") &&
      st) {
    run(DG_F32, w, &cfg, st);
    run(DG_F16, w, &cfg, st);
    bad_checkpoint("bad_missing.safetensors", "no tensor synthesis.b4.const");
    bad_checkpoint("bad_shape.safetensors", "tensor mapping.fc1.weight has shape [16, 8], expected [16, 16]");
    dg_model_config_free(&cfg);
  }
  dg_weights_close(w);
  dg_safetensors_close(st);
  return dg_test_finish();
}
