// Nearest 2x upsampling, average pooling and strided subsampling against the CPU reference: both
// dtypes, odd sizes, 2- to 5-D tensors, and (split run) planes spread over several windows.
#include <stdlib.h>

#include "dg_ref.h"
#include "dg_resample.h"
#include "dg_test.h"

static void check(int mode, dg_dtype dt, int ndim, const int64_t *shape, int k) {
  int64_t h = shape[ndim - 2], w = shape[ndim - 1], planes = 1, os[5];
  for (int i = 0; i < ndim - 2; i++)
    planes *= shape[i];
  for (int i = 0; i < ndim; i++)
    os[i] = shape[i];
  os[ndim - 2] = mode == 0 ? 2 * h : mode == 1 ? h / k : (h + k - 1) / k;
  os[ndim - 1] = mode == 0 ? 2 * w : mode == 1 ? w / k : (w + k - 1) / k;
  float *x;
  dg_tensor tx = dg_test_tensor(dt, ndim, shape, -2, 2, &x), to = dg_test_poisoned(dt, ndim, os);
  dg_status st = mode == 0   ? dg_upsample_nearest2x(T.stream, &tx, &to)
                 : mode == 1 ? dg_avg_pool(T.stream, &tx, k, &to)
                             : dg_downsample(T.stream, &tx, k, &to);
  char what[96];
  snprintf(what, sizeof what, "resample mode %d %s planes=%lld %lldx%lld k=%d", mode, dg_dtype_name(dt),
           (long long)planes, (long long)h, (long long)w, k);
  if (dg_test_ok(st, what)) {
    int64_t n = dg_tensor_numel(&to);
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    dg_ref_resample(mode, x, planes, h, w, k, want);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

int main(void) {
  dg_test_init("test_resample");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    for (int mode = 0; mode < 3; mode++) {
      int k = mode == 0 ? 2 : dg_test_int(1, 4);
      int64_t s4[4] = {dg_test_int(1, 2), dg_test_int(1, 9), dg_test_int(k, 21), dg_test_int(k, 21)};
      check(mode, dt, 4, s4, k);
      int64_t s2[2] = {dg_test_int(k, 40), dg_test_int(k, 40)};
      check(mode, dt, 2, s2, k);
      int64_t s5[5] = {1, 3, 2, dg_test_int(k, 9), dg_test_int(k, 9)};
      check(mode, dt, 5, s5, k);
      int64_t big[4] = {2, 40, 24, 24}; // several windows in the split run (vec4 upsample)
      check(mode, dt, 4, big, 2);
      int64_t w4[3] = {dg_test_int(1, 5), dg_test_int(4, 9), 4 * dg_test_int(1, 6)}; // vec4 upsample (k <= 4)
      check(mode, dt, 3, w4, mode == 0 ? 2 : k);
    }
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t s[3] = {2, 5, 5}, wrong[3] = {2, 9, 9}, one[1] = {5};
  dg_tensor x = dg_test_tensor(DG_F32, 3, s, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 3, wrong);
  dg_tensor v = dg_test_tensor(DG_F32, 1, one, 0, 1, NULL);
  dg_check_error(dg_upsample_nearest2x(T.stream, &x, &o), DG_ERR_ARG, "out", "upsample out shape");
  dg_check_error(dg_avg_pool(T.stream, &x, 0, &o), DG_ERR_ARG, "kernel", "pool k 0");
  dg_check_error(dg_avg_pool(T.stream, &x, 6, &o), DG_ERR_ARG, "smaller", "pool k > size");
  dg_check_error(dg_downsample(T.stream, &v, 2, &o), DG_ERR_ARG, "[..., H, W]", "1-D input");
  return dg_test_finish();
}
