#include "dg_elementwise.h"

#include "dg_op_util.h"

#define LOCAL 256

typedef struct push4 {
  uint32_t n4, a_off, b_off, o_off;
  float alpha, beta;
  uint32_t f4;
} push4;

typedef struct push {
  uint32_t n, a_off, b_off, o_off, base, b_inner, b_count;
  float alpha, beta;
} push;

dg_status dg_broadcast_params(const char *op, const dg_tensor *a, const dg_tensor *b, int64_t *inner, int64_t *count) {
  char sa[96], sb[96];
  if (b->ndim > a->ndim) goto bad;
  int64_t bs[DG_MAX_DIMS];
  int off = a->ndim - b->ndim;
  for (int i = 0; i < a->ndim; i++) bs[i] = i < off ? 1 : b->shape[i - off];
  int first = -1, last = -1;
  for (int i = 0; i < a->ndim; i++)
    if (bs[i] != 1) {
      if (first < 0) first = i;
      last = i;
    }
  *inner = 1;
  *count = 1;
  if (first < 0) return DG_OK; // scalar
  for (int i = first; i <= last; i++) {
    if (bs[i] != a->shape[i]) goto bad;
    *count *= bs[i];
  }
  for (int i = last + 1; i < a->ndim; i++) *inner *= a->shape[i];
  return DG_OK;
bad:
  return dg_fail(DG_ERR_ARG, "%s: cannot broadcast %s to %s", op, dg_shape_str(b, sb, sizeof sb),
                 dg_shape_str(a, sa, sizeof sa));
}

// Runs the elementwise shaders over a in windows that respect the binding limit: the vec4 shader
// over the largest multiple of 4 elements when b is absent or full-size, the scalar shader for
// broadcasting and for the tail.
static dg_status run(dg_stream *s, uint32_t op, const char *label, const dg_tensor *a, const dg_tensor *b,
                     int64_t inner, int64_t count, dg_tensor *out, float alpha, float beta) {
  const dg_device *d = dg_stream_device(s);
  int64_t n = dg_tensor_numel(a);
  int64_t chunk = dg_window_elems(d, a) / 64 * 64; // multiple of 64: vec4 windows stay aligned
  if (chunk > (1ll << 31)) chunk = 1ll << 31;
  bool b_full = b && count == n && inner == 1;
  if (b && !b_full && dg_tensor_numel(b) * (int64_t)dg_dtype_size(b->dtype) > (int64_t)dg_device_get_info(d)->max_binding_bytes)
    return dg_fail(DG_ERR_ARG, "%s: broadcast operand too large", label);
  int64_t n_vec = (!b || b_full) ? n / 4 * 4 : 0;
  dg_kernel *p4 = NULL, *p1 = NULL;
  uint32_t spec[3] = {LOCAL, op, b_full};
  if (n_vec) DG_TRY(dg_op_kernel(s, "elementwise_vec4", a->dtype, spec, 2, &p4));
  if (n_vec < n) DG_TRY(dg_op_kernel(s, "elementwise", a->dtype, spec, 3, &p1));
  for (int64_t first = 0; first < n; first += chunk) {
    int64_t m = n - first < chunk ? n - first : chunk;
    dg_binding bind[3];
    uint32_t a_off, b_off = 0, o_off, gx, gy;
    bind[0] = dg_window(d, a, first, m, false, &a_off);
    if (b_full) bind[1] = dg_window(d, b, first, m, false, &b_off);
    else bind[1] = b ? dg_bind(b, false) : bind[0];
    bind[2] = dg_window(d, out, first, m, true, &o_off);
    int64_t m4 = first + m <= n_vec ? m : n_vec > first ? n_vec - first : 0;
    if (m4) {
      push4 pc = {(uint32_t)(m4 / 4), a_off / 4, b_off / 4, o_off / 4, alpha, beta, 0};
      dg_grid_1d(d, ((uint64_t)m4 / 4 + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, p4, bind, 3, &pc, sizeof pc, gx, gy, 1, label));
    }
    if (m4 < m) { // scalar tail (or everything, when broadcasting)
      // A full-size b is windowed like a, so it is indexed from the window start (base 0).
      push pc = {.n = (uint32_t)(m - m4), .a_off = a_off + (uint32_t)m4, .b_off = b_off + (uint32_t)m4,
                 .o_off = o_off + (uint32_t)m4, .base = b_full ? 0 : (uint32_t)(first + m4),
                 .b_inner = (uint32_t)inner, .b_count = b_full ? (uint32_t)(m - m4) : (uint32_t)count,
                 .alpha = alpha, .beta = beta};
      dg_grid_1d(d, ((uint64_t)(m - m4) + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, p1, bind, 3, &pc, sizeof pc, gx, gy, 1, label));
    }
  }
  return DG_OK;
}

dg_status dg_binary(dg_stream *s, dg_binary_op op, const dg_tensor *a, const dg_tensor *b, dg_tensor *out) {
  const char *label = op == DG_ADD ? "add" : op == DG_MUL ? "mul" : op == DG_SUB ? "sub" : "div";
  if (op != DG_ADD && op != DG_MUL && op != DG_SUB && op != DG_DIV) return dg_fail(DG_ERR_ARG, "binary: bad op %d", op);
  DG_TRY(dg_check_same_dtype(label, a, b));
  DG_TRY(dg_check_same_dtype(label, a, out));
  DG_TRY(dg_check_numel(label, "out", out, dg_tensor_numel(a)));
  int64_t inner, count;
  DG_TRY(dg_broadcast_params(label, a, b, &inner, &count));
  if (inner > UINT32_MAX || count > UINT32_MAX) return dg_fail(DG_ERR_ARG, "%s: tensor too large", label);
  return run(s, (uint32_t)op, label, a, b, inner, count, out, 0, 0);
}

#define GEGLU 13 // the OP constant of the elementwise shaders

dg_status dg_unary(dg_stream *s, dg_unary_op op, const dg_tensor *a, dg_tensor *out, float alpha, float beta) {
  static const char *labels[] = {[DG_SCALE] = "scale", [DG_SILU] = "silu", [DG_GELU] = "gelu",
                                 [DG_GELU_TANH] = "gelu_tanh", [DG_QUICK_GELU] = "quick_gelu",
                                 [DG_SIGMOID] = "sigmoid", [DG_COPY] = "copy", [DG_RELU] = "relu",
                                 [DG_CLAMP] = "clamp", [DG_LEAKY_RELU] = "leaky_relu"};
  if (op < DG_SCALE || op > DG_LEAKY_RELU || op == (dg_unary_op)DG_DIV || op == (dg_unary_op)GEGLU)
    return dg_fail(DG_ERR_ARG, "unary: bad op %d", op);
  DG_TRY(dg_check_same_dtype(labels[op], a, out));
  DG_TRY(dg_check_numel(labels[op], "out", out, dg_tensor_numel(a)));
  return run(s, (uint32_t)op, labels[op], a, NULL, 1, 1, out, alpha, beta);
}

dg_status dg_geglu(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  char sx[96], so[96];
  int64_t f = out->ndim ? out->shape[out->ndim - 1] : 0, n = dg_tensor_numel(out);
  bool ok = out->ndim == x->ndim && f > 0 && x->shape[x->ndim - 1] == 2 * f;
  for (int i = 0; ok && i < x->ndim - 1; i++)
    ok = x->shape[i] == out->shape[i];
  if (!ok)
    return dg_fail(DG_ERR_ARG, "geglu: x %s must be out %s with the last dim doubled", dg_shape_str(x, sx, sizeof sx),
                   dg_shape_str(out, so, sizeof so));
  DG_TRY(dg_check_same_dtype("geglu", x, out));
  if (2 * n > UINT32_MAX) return dg_fail(DG_ERR_ARG, "geglu: tensor too large");
  const dg_device *d = dg_stream_device(s);
  int64_t rows = n / f, per = dg_window_elems(d, x) / (2 * f);
  if (per < 1) return dg_fail(DG_ERR_UNSUPPORTED, "geglu: one row of %lld exceeds the binding limit", (long long)(2 * f));
  dg_kernel *p4 = NULL, *p1 = NULL;
  uint32_t spec[3] = {LOCAL, GEGLU, 0};
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    int64_t nr = rows - r0 < per ? rows - r0 : per;
    uint32_t x_off, o_off, gx, gy;
    dg_binding bind[3] = {dg_window(d, x, r0 * 2 * f, nr * 2 * f, false, &x_off)};
    bind[1] = bind[0];
    bind[2] = dg_window(d, out, r0 * f, nr * f, true, &o_off);
    if (f % 4 == 0 && x_off % 4 == 0 && o_off % 4 == 0) { // vec4s
      if (!p4) DG_TRY(dg_op_kernel(s, "elementwise_vec4", x->dtype, spec, 2, &p4));
      push4 pc = {(uint32_t)(nr * f / 4), x_off / 4, 0, o_off / 4, 0, 0, (uint32_t)(f / 4)};
      dg_grid_1d(d, ((uint64_t)pc.n4 + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, p4, bind, 3, &pc, sizeof pc, gx, gy, 1, "geglu"));
    } else {
      if (!p1) DG_TRY(dg_op_kernel(s, "elementwise", x->dtype, spec, 3, &p1));
      push pc = {.n = (uint32_t)(nr * f), .a_off = x_off, .o_off = o_off, .b_inner = (uint32_t)f, .b_count = 1};
      dg_grid_1d(d, ((uint64_t)pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, p1, bind, 3, &pc, sizeof pc, gx, gy, 1, "geglu"));
    }
  }
  return DG_OK;
}
