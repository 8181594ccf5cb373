// Sum, mean and max along an axis against the CPU reference: both dtypes, every axis of random
// 1- to 5-D shapes, and (split run) outer slices over several binding windows.
#include <stdlib.h>

#include "dg_reduce.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check(dg_reduce_op op, dg_dtype dt, int ndim, const int64_t *shape, int axis) {
  int64_t outer = 1, inner = 1, a = shape[axis];
  for (int k = 0; k < axis; k++)
    outer *= shape[k];
  for (int k = axis + 1; k < ndim; k++)
    inner *= shape[k];
  int64_t os[1] = {outer * inner};
  float *x;
  // Positive data for sums (a relative error against a near-zero sum says little).
  dg_tensor tx = dg_test_tensor(dt, ndim, shape, op == DG_REDUCE_MAX ? -3 : 0.5f, 3, &x);
  dg_tensor to = dg_test_poisoned(dt, 1, os);
  char what[96];
  snprintf(what, sizeof what, "reduce op %d %s outer=%lld a=%lld inner=%lld", op, dg_dtype_name(dt), (long long)outer,
           (long long)a, (long long)inner);
  int64_t window = (int64_t)(dg_device_get_info(T.device)->max_binding_bytes / dg_dtype_size(dt)) - 64;
  if (a * inner > window) {
    dg_check_error(dg_reduce(T.stream, op, &tx, axis, &to), DG_ERR_UNSUPPORTED, "binding limit", what);
  } else if (dg_test_ok(dg_reduce(T.stream, op, &tx, axis, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)os[0] * sizeof *want);
    dg_ref_reduce(op, x, outer, a, inner, want);
    dg_test_close(what, got, want, os[0], dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

int main(void) {
  dg_test_init("test_reduce");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    for (int op = 0; op < 3; op++) {
      for (int i = 0; i < 3; i++) {
        int ndim = dg_test_int(1, 5);
        int64_t shape[5];
        for (int k = 0; k < ndim; k++)
          shape[k] = dg_test_int(1, ndim > 3 ? 7 : 25);
        check((dg_reduce_op)op, dt, ndim, shape, dg_test_int(0, ndim - 1));
      }
      int64_t rows[2] = {300, 320}, chw[3] = {320, 48, 48};
      check((dg_reduce_op)op, dt, 2, rows, 1); // split run: several windows (vec4 rows)
      int64_t r4[3] = {dg_test_int(1, 3), dg_test_int(1, 30), 4 * dg_test_int(1, 40)};
      check((dg_reduce_op)op, dt, 3, r4, 2);  // last axis, vec4 rows
      check((dg_reduce_op)op, dt, 3, chw, 0); // long axis, unsupported with a tiny binding limit
    }
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t s[2] = {3, 4}, wrong[1] = {4};
  dg_tensor x = dg_test_tensor(DG_F32, 2, s, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 1, wrong);
  dg_check_error(dg_reduce(T.stream, DG_REDUCE_SUM, &x, 2, &o), DG_ERR_ARG, "axis", "bad axis");
  dg_check_error(dg_reduce(T.stream, DG_REDUCE_SUM, &x, 1, &o), DG_ERR_ARG, "out", "out size");
  dg_check_error(dg_reduce(T.stream, (dg_reduce_op)7, &x, 1, &o), DG_ERR_ARG, "op", "bad op");
  return dg_test_finish();
}
