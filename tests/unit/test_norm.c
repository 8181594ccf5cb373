// Group norm (with and without SiLU), layer norm and softmax against the CPU reference: both
// dtypes, random and odd shapes, the vec4 and scalar paths, and chunks split at the binding limit.
#include <math.h>
#include <stdlib.h>

#include "dg_norm.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_group_norm(dg_dtype dt, int64_t n, int64_t c, int64_t h, int64_t w, int groups, bool affine,
                             bool silu) {
  int64_t shape[4] = {n, c, h, w}, cs[1] = {c};
  float *x, *g = NULL, *b = NULL;
  float offset = dg_test_uniform(-3, 3); // a mean far from 0 exercises the variance computation
  dg_tensor tx = dg_test_tensor(dt, 4, shape, offset - 2, offset + 2, &x);
  dg_tensor tg, tb, to = dg_test_poisoned(dt, 4, shape);
  if (affine) {
    tg = dg_test_tensor(dt, 1, cs, 0.5f, 1.5f, &g);
    tb = dg_test_tensor(dt, 1, cs, -1, 1, &b);
  }
  int64_t total = n * c * h * w;
  if (dg_test_ok(dg_group_norm(T.stream, &tx, groups, affine ? &tg : NULL, affine ? &tb : NULL, 1e-5f, silu, &to),
                 "group_norm")) {
    float *got = dg_test_read(&to), *want = malloc((size_t)total * sizeof *want);
    dg_ref_group_norm(x, n, c, h * w, groups, g, b, 1e-5f, silu, want);
    char what[128];
    snprintf(what, sizeof what, "group_norm%s %s [%lld,%lld,%lld,%lld] G=%d affine=%d", silu ? "_silu" : "",
             dg_dtype_name(dt), (long long)n, (long long)c, (long long)h, (long long)w, groups, affine);
    dg_test_close(what, got, want, total, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(g);
  free(b);
}

static void check_layer_norm(dg_dtype dt, int64_t rows, int64_t len, bool affine) {
  int64_t shape[2] = {rows, len}, ls[1] = {len};
  float *x, *g = NULL, *b = NULL;
  dg_tensor tx = dg_test_tensor(dt, 2, shape, -2, 3, &x), tg, tb, to = dg_test_poisoned(dt, 2, shape);
  if (affine) {
    tg = dg_test_tensor(dt, 1, ls, 0.5f, 1.5f, &g);
    tb = dg_test_tensor(dt, 1, ls, -1, 1, &b);
  }
  if (dg_test_ok(dg_layer_norm(T.stream, &tx, affine ? &tg : NULL, affine ? &tb : NULL, 1e-5f, &to), "layer_norm")) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(rows * len) * sizeof *want);
    dg_ref_layer_norm(x, rows, len, g, b, 1e-5f, want);
    char what[96];
    snprintf(what, sizeof what, "layer_norm %s [%lld,%lld] affine=%d", dg_dtype_name(dt), (long long)rows,
             (long long)len, affine);
    dg_test_close(what, got, want, rows * len, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(g);
  free(b);
}

static void check_softmax(dg_dtype dt, int64_t rows, int64_t len, float scale) {
  int64_t shape[2] = {rows, len};
  float *x;
  dg_tensor tx = dg_test_tensor(dt, 2, shape, -4, 4, &x), to = dg_test_poisoned(dt, 2, shape);
  if (dg_test_ok(dg_softmax(T.stream, &tx, scale, &to), "softmax")) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(rows * len) * sizeof *want);
    dg_ref_softmax(x, rows, len, scale, want);
    char what[96];
    snprintf(what, sizeof what, "softmax %s [%lld,%lld] scale=%g", dg_dtype_name(dt), (long long)rows, (long long)len,
             scale);
    dg_test_close(what, got, want, rows * len, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

int main(void) {
  dg_test_init("test_norm");
  printf("buffer device addresses: %s\n", dg_device_get_info(T.device)->buffer_address ? "on" : "off");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    int gs[] = {1, 2, 4, 32};
    for (int i = 0; i < 4; i++) {
      int groups = gs[i];
      int64_t c = groups * dg_test_int(1, 3);
      check_group_norm(dt, dg_test_int(1, 2), c, dg_test_int(1, 13), dg_test_int(1, 13), groups, true, i % 2);
      check_group_norm(dt, dg_test_int(1, 2), c, 4 * dg_test_int(1, 5), 4, groups, i != 2, i % 2 == 0); // vec4 path
    }
    check_group_norm(dt, 1, 64, 32, 32, 32, true, true);  // SD-like, long rows
    check_group_norm(dt, 2, 64, 24, 24, 32, true, false); // several binding windows in the split run
    check_layer_norm(dt, dg_test_int(1, 40), dg_test_int(1, 300), true);
    check_layer_norm(dt, dg_test_int(1, 40), 4 * dg_test_int(1, 100), true);
    check_layer_norm(dt, dg_test_int(1, 40), 4 * dg_test_int(1, 100), false);
    check_layer_norm(dt, 300, 320, true); // split run: several windows
    check_layer_norm(dt, 1001, 64, true);   // CPU: several rows per workgroup, the last one short
    check_layer_norm(dt, 70, 1280, true);   // CPU: 40 vec4s per lane held in registers
    check_layer_norm(dt, 5, 1540, false);   // CPU: too long to hold, the general loops
    check_softmax(dt, dg_test_int(1, 50), dg_test_int(1, 200), dg_test_uniform(0.1f, 2));
    check_softmax(dt, dg_test_int(1, 50), 4 * dg_test_int(1, 300), 1);
    check_softmax(dt, 1, 5000, 0.5f);
    check_softmax(dt, 200, 77, 0.125f); // split run: several windows
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t s4[4] = {2, 6, 3, 3}, s1[1] = {6}, s5[1] = {5};
  dg_tensor x = dg_test_tensor(DG_F32, 4, s4, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 4, s4);
  dg_tensor g = dg_test_tensor(DG_F32, 1, s1, 0, 1, NULL), g5 = dg_test_tensor(DG_F32, 1, s5, 0, 1, NULL);
  dg_tensor h = dg_test_poisoned(DG_F16, 4, s4);
  dg_check_error(dg_group_norm(T.stream, &x, 4, &g, &g, 1e-5f, false, &o), DG_ERR_ARG, "groups", "bad groups");
  dg_check_error(dg_group_norm(T.stream, &x, 3, &g5, &g5, 1e-5f, false, &o), DG_ERR_ARG, "gamma", "gamma size");
  dg_check_error(dg_group_norm(T.stream, &x, 3, &g, NULL, 1e-5f, false, &o), DG_ERR_ARG, "beta", "beta missing");
  dg_check_error(dg_group_norm(T.stream, &x, 3, &g, &g, 1e-5f, false, &h), DG_ERR_ARG, "dtype", "dtype");
  dg_check_error(dg_layer_norm(T.stream, &x, &g, &g, 1e-5f, &o), DG_ERR_ARG, "gamma", "ln gamma size");
  dg_check_error(dg_softmax(T.stream, &x, 1, &g), DG_ERR_ARG, "out", "softmax out size");
  dg_check_error(dg_softmax(T.stream, &x, NAN, &o), DG_ERR_ARG, "NaN", "softmax scale");
  return dg_test_finish();
}
