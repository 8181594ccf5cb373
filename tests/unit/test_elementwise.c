// Elementwise ops against the CPU reference: every op, both dtypes, broadcasting, odd sizes, and
// (when run with a small DIRIGENT_MAX_BINDING) tensors split across several bindings.
#include <stdlib.h>

#include "dg_elementwise.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_binary(dg_binary_op op, dg_dtype dt, int ndim, const int64_t *shape, int bndim,
                         const int64_t *bshape) {
  float *a, *b;
  dg_tensor ta = dg_test_tensor(dt, ndim, shape, -2, 2, &a);
  dg_tensor tb = dg_test_tensor(dt, bndim, bshape, op == DG_DIV ? 0.5f : -2, 2, &b);
  dg_tensor to = dg_test_poisoned(dt, ndim, shape);
  int64_t inner, count, n = dg_tensor_numel(&ta);
  dg_broadcast_params("test", &ta, &tb, &inner, &count);
  if (dg_test_ok(dg_binary(T.stream, op, &ta, &tb, &to), "binary")) {
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    dg_ref_binary(op, a, b, n, inner, count, want);
    char what[96];
    snprintf(what, sizeof what, "binary op %d %s n=%lld bcount=%lld", op, dg_dtype_name(dt), (long long)n,
             (long long)count);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(a);
  free(b);
}

// GEGLU of x [rows, 2f] (f odd or a multiple of 4: the scalar and the vec4 shader).
static void check_geglu(dg_dtype dt, int64_t rows, int64_t f) {
  float *x;
  int64_t xs[3] = {1, rows, 2 * f}, os[3] = {1, rows, f};
  dg_tensor tx = dg_test_tensor(dt, 3, xs, -3, 3, &x), to = dg_test_poisoned(dt, 3, os);
  char what[64];
  snprintf(what, sizeof what, "geglu %s rows=%lld f=%lld", dg_dtype_name(dt), (long long)rows, (long long)f);
  if (dg_test_ok(dg_geglu(T.stream, &tx, &to), what)) {
    float *got = dg_test_read(&to), *want = malloc((size_t)(rows * f) * sizeof *want);
    dg_ref_geglu(x, rows, f, want);
    dg_test_close(what, got, want, rows * f, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

static void check_unary(dg_unary_op op, dg_dtype dt, int64_t n) {
  float *a;
  int64_t shape[1] = {n};
  dg_tensor ta = dg_test_tensor(dt, 1, shape, -6, 6, &a);
  dg_tensor to = dg_test_poisoned(dt, 1, shape);
  float alpha = dg_test_uniform(-2, 2), beta = dg_test_uniform(-1, 1);
  if (op == DG_CLAMP) alpha = dg_test_uniform(-4, 0), beta = dg_test_uniform(0, 4); // lo <= hi
  if (dg_test_ok(dg_unary(T.stream, op, &ta, &to, alpha, beta), "unary")) {
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    dg_ref_unary(op, a, n, alpha, beta, want);
    char what[64];
    snprintf(what, sizeof what, "unary op %d %s n=%lld", op, dg_dtype_name(dt), (long long)n);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(a);
}

int main(void) {
  dg_test_init("test_elementwise");
  uint64_t limit = dg_device_get_info(T.device)->max_binding_bytes;
  // Large enough to need several windows when the binding limit is lowered for the split run.
  int64_t big = limit < (1u << 20) ? (int64_t)(limit / 4) * 3 + 17 : 70001;
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    dg_binary_op ops[] = {DG_ADD, DG_MUL, DG_SUB, DG_DIV};
    for (int i = 0; i < 4; i++) {
      int64_t full[4] = {2, dg_test_int(1, 9), dg_test_int(1, 33), dg_test_int(1, 31)};
      check_binary(ops[i], dt, 4, full, 4, full); // same shape
      int64_t chan[3] = {full[1], 1, 1};
      check_binary(ops[i], dt, 4, full, 3, chan); // per channel
      int64_t scalar[1] = {1};
      check_binary(ops[i], dt, 4, full, 1, scalar); // scalar
      int64_t row[1] = {full[3]};
      check_binary(ops[i], dt, 4, full, 1, row); // last dim
    }
    int64_t bigshape[2] = {big, 1};
    check_binary(DG_ADD, dt, 2, bigshape, 2, bigshape);
    dg_unary_op un[] = {DG_SCALE, DG_SILU, DG_GELU, DG_GELU_TANH, DG_QUICK_GELU, DG_SIGMOID, DG_COPY, DG_RELU, DG_CLAMP,
                          DG_LEAKY_RELU};
    for (int i = 0; i < 10; i++) {
      check_unary(un[i], dt, dg_test_int(1, 5000));
      check_unary(un[i], dt, big);
    }
    check_geglu(dt, dg_test_int(1, 20), 2 * dg_test_int(1, 10) + 1);
    check_geglu(dt, dg_test_int(1, 20), 4 * dg_test_int(1, 10));
    check_geglu(dt, big / 512 + 3, 256); // split run: rows over several windows
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  // Argument errors are reported, not crashed on.
  int64_t s1[2] = {3, 4}, s2[2] = {4, 3};
  dg_tensor a = dg_test_tensor(DG_F32, 2, s1, 0, 1, NULL), b = dg_test_tensor(DG_F32, 2, s2, 0, 1, NULL);
  dg_tensor h = dg_test_tensor(DG_F16, 2, s1, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 2, s1);
  dg_check_error(dg_binary(T.stream, DG_ADD, &a, &b, &o), DG_ERR_ARG, "broadcast", "shape mismatch");
  dg_check_error(dg_binary(T.stream, DG_ADD, &a, &h, &o), DG_ERR_ARG, "dtype", "dtype mismatch");
  dg_check_error(dg_unary(T.stream, (dg_unary_op)DG_DIV, &a, &o, 0, 0), DG_ERR_ARG, "bad op", "binary op as unary");
  dg_check_error(dg_geglu(T.stream, &a, &o), DG_ERR_ARG, "doubled", "geglu shape");
  return dg_test_finish();
}
