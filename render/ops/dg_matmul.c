#include "dg_matmul.h"

#include "dg_gemm.h"
#include "dg_op_util.h"

static int64_t leading(const dg_tensor *t, int keep) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim - keep; i++)
    n *= t->shape[i];
  return n;
}

dg_status dg_matmul(dg_stream *s, const dg_tensor *a, bool trans_a, const dg_tensor *b, bool trans_b, dg_tensor *out) {
  char sa[96], sb[96], so[96];
  DG_TRY(dg_check_same_dtype("matmul", a, b));
  DG_TRY(dg_check_same_dtype("matmul", a, out));
  if (a->ndim < 2 || b->ndim < 2 || out->ndim < 2)
    return dg_fail(DG_ERR_ARG, "matmul: operands need at least 2 dims (a %s, b %s, out %s)",
                   dg_shape_str(a, sa, sizeof sa), dg_shape_str(b, sb, sizeof sb), dg_shape_str(out, so, sizeof so));
  int64_t M = a->shape[a->ndim - (trans_a ? 1 : 2)], K = a->shape[a->ndim - (trans_a ? 2 : 1)];
  int64_t Kb = b->shape[b->ndim - (trans_b ? 1 : 2)], N = b->shape[b->ndim - (trans_b ? 2 : 1)];
  int64_t za = leading(a, 2), zb = leading(b, 2), batch = za > zb ? za : zb;
  if (K != Kb || M < 1 || N < 1 || K < 1)
    return dg_fail(DG_ERR_ARG, "matmul: inner dims differ: a %s%s, b %s%s", dg_shape_str(a, sa, sizeof sa),
                   trans_a ? " (transposed)" : "", dg_shape_str(b, sb, sizeof sb), trans_b ? " (transposed)" : "");
  if (za != zb && za != 1 && zb != 1)
    return dg_fail(DG_ERR_ARG, "matmul: batch counts differ (%lld vs %lld): a %s, b %s", (long long)za, (long long)zb,
                   dg_shape_str(a, sa, sizeof sa), dg_shape_str(b, sb, sizeof sb));
  if (out->shape[out->ndim - 2] != M || out->shape[out->ndim - 1] != N || leading(out, 2) != batch)
    return dg_fail(DG_ERR_ARG, "matmul: out has shape %s, expected %lld matrices of [%lld, %lld]",
                   dg_shape_str(out, so, sizeof so), (long long)batch, (long long)M, (long long)N);
  dg_gemm_desc g = {.label = "matmul",
                    .batch = batch,
                    .M = M,
                    .N = N,
                    .K = K,
                    .a = a,
                    .b = b,
                    .c = out,
                    .a_sz = za == 1 ? 0 : M * K,
                    .a_sm = trans_a ? 1 : K,
                    .a_sk = trans_a ? M : 1,
                    .b_sz = zb == 1 ? 0 : K * N,
                    .b_sk = trans_b ? 1 : N,
                    .b_sn = trans_b ? K : 1,
                    .c_sz = M * N,
                    .c_sm = N};
  return dg_gemm(s, &g);
}

dg_status dg_linear(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, dg_tensor *y) {
  return dg_linear_ex(s, x, w, bias, NULL, y);
}

/* The checks and GEMM of a linear layer y = x w^T + bias. With gate (GEGLU in the epilogue) w is [2F, in] and
   y [.., F]: the first F rows of w give the values, the last F their gates. */
static dg_status linear_gemm(dg_stream *s, const char *op, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                             const dg_tensor *residual, dg_tensor *y, bool gate) {
  char sx[96], sw[96], sy[96];
  DG_TRY(dg_check_same_dtype(op, x, w));
  DG_TRY(dg_check_same_dtype(op, x, y));
  if (bias) DG_TRY(dg_check_same_dtype(op, x, bias));
  if (w->ndim != 2 || x->ndim < 1 || y->ndim < 1 || (gate && w->shape[0] % 2))
    return dg_fail(DG_ERR_ARG, "%s: weight must be %s (got %s), x [..., in] (got %s)", op,
                   gate ? "[2F, in]" : "[out, in]", dg_shape_str(w, sw, sizeof sw), dg_shape_str(x, sx, sizeof sx));
  int64_t nw = w->shape[0], nout = gate ? nw / 2 : nw, nin = w->shape[1], rows = leading(x, 1);
  if (x->shape[x->ndim - 1] != nin || nin < 1 || nout < 1)
    return dg_fail(DG_ERR_ARG, "%s: x %s does not end in weight's in-features (weight %s)", op,
                   dg_shape_str(x, sx, sizeof sx), dg_shape_str(w, sw, sizeof sw));
  if (y->shape[y->ndim - 1] != nout || leading(y, 1) != rows)
    return dg_fail(DG_ERR_ARG, "%s: y has shape %s, expected %lld rows of %lld", op, dg_shape_str(y, sy, sizeof sy),
                   (long long)rows, (long long)nout);
  if (bias && dg_tensor_numel(bias) != nw)
    return dg_fail(DG_ERR_ARG, "%s: bias has %lld elements, expected %lld", op, (long long)dg_tensor_numel(bias),
                   (long long)nw);
  if (residual) {
    DG_TRY(dg_check_same_dtype(op, x, residual));
    if (dg_tensor_numel(residual) != dg_tensor_numel(y))
      return dg_fail(DG_ERR_ARG, "%s: residual has %lld elements, y %lld", op, (long long)dg_tensor_numel(residual),
                     (long long)dg_tensor_numel(y));
  }
  if (rows == 0) return DG_OK;
  dg_gemm_desc g = {.label = op,
                    .batch = 1,
                    .M = rows,
                    .N = nout,
                    .K = nin,
                    .a = x,
                    .b = w,
                    .c = y,
                    .bias = bias,
                    .bias_mode = 1,
                    .a_sm = nin,
                    .a_sk = 1,
                    .b_sk = 1,
                    .b_sn = nin,
                    .c_sm = nout,
                    .residual = residual,
                    .gate_n = gate ? nout : 0};
  return dg_gemm(s, &g);
}

dg_status dg_linear_ex(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                       const dg_tensor *residual, dg_tensor *y) {
  return linear_gemm(s, "linear", x, w, bias, residual, y, false);
}

dg_status dg_linear_geglu(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, dg_tensor *y) {
  return linear_gemm(s, "linear_geglu", x, w, bias, NULL, y, true);
}

dg_status dg_linear_stacked(dg_stream *s, const dg_tensor *x, const dg_tensor *w, dg_tensor *y) {
  char sx[96], sw[96], sy[96];
  DG_TRY(dg_check_same_dtype("linear_stacked", x, w));
  DG_TRY(dg_check_same_dtype("linear_stacked", x, y));
  if (w->ndim != 3 || x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[2] || w->shape[0] < 1 || w->shape[1] < 1 ||
      w->shape[2] < 1)
    return dg_fail(DG_ERR_ARG, "linear_stacked: weight must be [S, out, in] (got %s) for x [..., in] (got %s)",
                   dg_shape_str(w, sw, sizeof sw), dg_shape_str(x, sx, sizeof sx));
  int64_t n = w->shape[0], nout = w->shape[1], nin = w->shape[2], rows = leading(x, 1);
  if (y->ndim < 2 || y->shape[0] != n || y->shape[y->ndim - 1] != nout || dg_tensor_numel(y) != n * rows * nout)
    return dg_fail(DG_ERR_ARG, "linear_stacked: y has shape %s, expected [%lld, ..., %lld] with %lld rows each",
                   dg_shape_str(y, sy, sizeof sy), (long long)n, (long long)nout, (long long)rows);
  if (rows == 0) return DG_OK;
  dg_gemm_desc g = {.label = "linear_stacked",
                    .batch = n,
                    .M = rows,
                    .N = nout,
                    .K = nin,
                    .a = x,
                    .b = w,
                    .c = y,
                    .a_sm = nin,
                    .a_sk = 1,
                    .b_sz = nout * nin,
                    .b_sk = 1,
                    .b_sn = nin,
                    .c_sz = rows * nout,
                    .c_sm = nout,
                    .whole_batch = true};
  return dg_gemm(s, &g);
}
