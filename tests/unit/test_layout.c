// Concat, split and permute against the CPU reference: both dtypes, random ranks, shapes and
// permutations, and (split run) rows and slices spread over several binding windows.
#include <stdlib.h>
#include <string.h>

#include "dg_layout.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_concat(dg_dtype dt, int ndim, const int64_t *shape, int axis, int n) {
  dg_tensor parts[3], split[3];
  const dg_tensor *pp[3];
  dg_tensor *sp[3];
  float *host[3];
  int64_t sizes[3], os[5], outer = 1, inner = 1, total = 0;
  memcpy(os, shape, (size_t)ndim * sizeof *os);
  for (int i = 0; i < n; i++) {
    int64_t s[5];
    memcpy(s, shape, (size_t)ndim * sizeof *s);
    s[axis] = sizes[i] = dg_test_int(1, (int)shape[axis]);
    total += sizes[i];
    parts[i] = dg_test_tensor(dt, ndim, s, -2, 2, &host[i]);
    split[i] = dg_test_poisoned(dt, ndim, s);
    pp[i] = &parts[i];
    sp[i] = &split[i];
  }
  os[axis] = total;
  for (int k = 0; k < axis; k++)
    outer *= shape[k];
  for (int k = axis + 1; k < ndim; k++)
    inner *= shape[k];
  dg_tensor out = dg_test_poisoned(dt, ndim, os);
  char what[96];
  snprintf(what, sizeof what, "concat %s ndim=%d axis=%d n=%d outer=%lld inner=%lld", dg_dtype_name(dt), ndim, axis, n,
           (long long)outer, (long long)inner);
  if (dg_test_ok(dg_concat(T.stream, pp, n, axis, &out), what)) {
    int64_t m = dg_tensor_numel(&out);
    float *got = dg_test_read(&out), *want = malloc((size_t)m * sizeof *want);
    dg_ref_concat((const float *const *)host, sizes, n, outer, inner, want);
    dg_test_close(what, got, want, m, 1e-30); // a copy: exact
    free(got);
    free(want);
    snprintf(what, sizeof what, "split %s ndim=%d axis=%d n=%d", dg_dtype_name(dt), ndim, axis, n);
    if (dg_test_ok(dg_split(T.stream, &out, axis, sp, n), what)) {
      for (int i = 0; i < n; i++) {
        float *g = dg_test_read(&split[i]);
        dg_test_close(what, g, host[i], dg_tensor_numel(&split[i]), 1e-30);
        free(g);
      }
    }
  }
  for (int i = 0; i < n; i++)
    free(host[i]);
}

static void check_permute(dg_dtype dt, int ndim, const int64_t *shape, const int *perm) {
  int64_t os[5];
  for (int i = 0; i < ndim; i++)
    os[i] = shape[perm[i]];
  float *x;
  dg_tensor tx = dg_test_tensor(dt, ndim, shape, -2, 2, &x), to = dg_test_poisoned(dt, ndim, os);
  char what[96];
  snprintf(what, sizeof what, "permute %s ndim=%d perm=%d%d%d%d%d n=%lld", dg_dtype_name(dt), ndim, perm[0],
           ndim > 1 ? perm[1] : 0, ndim > 2 ? perm[2] : 0, ndim > 3 ? perm[3] : 0, ndim > 4 ? perm[4] : 0,
           (long long)dg_tensor_numel(&tx));
  int64_t n = dg_tensor_numel(&tx),
          w = (int64_t)(dg_device_get_info(T.device)->max_binding_bytes / dg_dtype_size(dt)) - 64;
  if (perm[0] != 0 && n > w) {
    dg_check_error(dg_permute(T.stream, &tx, perm, &to), DG_ERR_UNSUPPORTED, "binding limit", what);
  } else if (dg_test_ok(dg_permute(T.stream, &tx, perm, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    dg_ref_permute(x, ndim, shape, perm, want);
    dg_test_close(what, got, want, n, 1e-30);
    free(got);
    free(want);
  }
  free(x);
}

static void random_perm(int n, int *perm) {
  for (int i = 0; i < n; i++)
    perm[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = dg_test_int(0, i), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

int main(void) {
  dg_test_init("test_layout");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    for (int i = 0; i < 6; i++) {
      int ndim = dg_test_int(1, 5), perm[5];
      int64_t shape[5];
      for (int k = 0; k < ndim; k++)
        shape[k] = dg_test_int(1, ndim > 3 ? 6 : 13);
      check_concat(dt, ndim, shape, dg_test_int(0, ndim - 1), dg_test_int(1, 3));
      random_perm(ndim, perm);
      check_permute(dt, ndim, shape, perm);
    }
    int64_t unet[4] = {2, 40, 24, 24}; // skip-connection concat; rows longer than a window in the split run
    check_concat(dt, 4, unet, 1, 2);
    int64_t tall[2] = {3000, 7};
    check_concat(dt, 2, tall, 1, 3);
    int64_t heads[4] = {8, 20, 16, 16};
    int nchw_to_nhwc[4] = {0, 2, 3, 1}, swap[4] = {1, 0, 2, 3};
    check_permute(dt, 4, heads, nchw_to_nhwc); // chunks along dim 0 in the split run
    check_permute(dt, 4, heads, swap);         // unsupported in the split run (input must be bound whole)
    int64_t mat[2] = {12, 4 * dg_test_int(1, 9)}, odd[3] = {3, 6, 10};
    int t2[2] = {1, 0}, t3[3] = {0, 2, 1};
    check_permute(dt, 2, mat, t2); // 4x4-block transpose
    check_permute(dt, 3, odd, t3); // transpose that is not in 4x4 blocks
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t a[2] = {2, 3}, b[2] = {3, 3}, c[2] = {2, 7}, h3[3] = {2, 3, 1};
  dg_tensor ta = dg_test_tensor(DG_F32, 2, a, 0, 1, NULL), tb = dg_test_tensor(DG_F32, 2, b, 0, 1, NULL);
  dg_tensor tc = dg_test_poisoned(DG_F32, 2, c), t3 = dg_test_poisoned(DG_F32, 3, h3);
  const dg_tensor *in[2] = {&ta, &tb};
  dg_tensor *outs[2] = {&ta, &ta};
  dg_check_error(dg_concat(T.stream, in, 2, 1, &tc), DG_ERR_ARG, "does not match", "concat mismatch");
  in[1] = &ta;
  dg_check_error(dg_concat(T.stream, in, 2, 1, &tc), DG_ERR_ARG, "add up", "concat sizes");
  dg_check_error(dg_concat(T.stream, in, 2, 2, &tc), DG_ERR_ARG, "axis", "concat axis");
  dg_check_error(dg_split(T.stream, &tc, 1, outs, 2), DG_ERR_ARG, "add up", "split sizes");
  int bad[2] = {0, 0}, ok[2] = {1, 0};
  dg_check_error(dg_permute(T.stream, &ta, bad, &tc), DG_ERR_ARG, "permutation", "permute perm");
  dg_check_error(dg_permute(T.stream, &ta, ok, &t3), DG_ERR_ARG, "out", "permute out shape");
  return dg_test_finish();
}
