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

// Style mixing: strength 0 is the content's ws and image (with its noise), 1 with one exemplar the exemplar's
// ws, 0.4 with two exemplars content + 0.4 (mean - content) on the host; errors for strength and shapes.
static void mix(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *ws, const dg_tensor *const *noise,
                dg_dtype dt, dg_safetensors *st) {
  int64_t n = dg_tensor_numel(ws);
  float *c = dg_test_read(ws), *s1 = malloc((size_t)n * sizeof *s1), *s2 = malloc((size_t)n * sizeof *s2);
  for (int64_t i = 0; i < n; i++)
    s1[i] = c[n - 1 - i], s2[i] = 0.5f * c[i] - 0.25f; // two other "exemplars"
  dg_tensor S1 = *ws, S2 = *ws, out, img;
  dg_nn_alloc(nn, 3, ws->shape, &S1);
  dg_nn_alloc(nn, 3, ws->shape, &S2);
  dg_tensor_write_f32(&S1, s1);
  dg_tensor_write_f32(&S2, s2);
  for (int64_t i = 0; i < n; i++) { // the values as stored
    s1[i] = dt == DG_F16 ? dg_f16_to_f32(dg_f32_to_f16(s1[i])) : s1[i];
    s2[i] = dt == DG_F16 ? dg_f16_to_f32(dg_f32_to_f16(s2[i])) : s2[i];
  }
  const dg_tensor *one[1] = {&S1}, *two[2] = {&S1, &S2};
  double tol = dg_test_tolerance(dt);
  if (dg_test_ok(dg_stylegan2_mix(nn, m, ws, one, 1, 0.0f, &out), "mix 0")) {
    float *g = dg_test_read(&out);
    dg_test_close("mix strength 0 = content ws", g, c, n, tol);
    free(g);
    if (dg_test_ok(dg_stylegan2_synthesis(nn, m, &out, noise, DG_SG_NOISE_NONE, &img), "mix 0 synthesis"))
      golden_check("mix strength 0 image = content's", &img, st, "image_noise", dt);
  }
  if (dg_test_ok(dg_stylegan2_mix(nn, m, ws, one, 1, 1.0f, &out), "mix 1")) {
    float *g = dg_test_read(&out);
    dg_test_close("mix strength 1 = style ws", g, s1, n, tol);
    free(g);
  }
  if (dg_test_ok(dg_stylegan2_mix(nn, m, ws, two, 2, 0.4f, &out), "mix 0.4 of two")) {
    float *g = dg_test_read(&out), *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++)
      want[i] = c[i] + 0.4f * (0.5f * (s1[i] + s2[i]) - c[i]);
    dg_test_close("mix 0.4 of the mean of two styles", g, want, n, tol);
    free(g), free(want);
    // the mixed image differs from the content's (the style moved it)
    if (dg_test_ok(dg_stylegan2_synthesis(nn, m, &out, noise, DG_SG_NOISE_NONE, &img), "mix synthesis")) {
      int64_t ni;
      float *got = dg_test_read(&img), *content = golden_read(st, "image_noise", &ni);
      double e = dg_test_rel_err(got, content, ni);
      dg_check(e > 0.05, "mixed image vs the content's: relative difference %.3g, expected > 0.05", e);
      free(got), free(content);
    }
  }
  dg_status e = dg_stylegan2_mix(nn, m, ws, one, 1, 1.5f, &out);
  dg_check(e == DG_ERR_ARG && strstr(dg_last_error(), "strength 1.5"), "mix strength 1.5: %s", dg_last_error());
  e = dg_stylegan2_mix(nn, m, ws, one, 0, 0.5f, &out);
  dg_check(e == DG_ERR_ARG, "mix without styles: status %d", e);
  free(c), free(s1), free(s2);
}

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
  mix(&nn, m, &ws, np, dt, st);
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
  golden_init(argc, argv, "test_stylegan");
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
