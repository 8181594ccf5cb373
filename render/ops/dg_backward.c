#include "dg_backward.h"

#include <math.h>

#include "dg_attention.h"
#include "dg_gemm.h"
#include "dg_norm.h"
#include "dg_op_util.h"

#define LOCAL 64

// The whole of t as one binding; an error naming the op and tensor when it passes the limit.
static dg_status whole(dg_stream *s, const char *op, const char *what, const dg_tensor *t, bool write, dg_binding *b,
                       uint32_t *off) {
  const dg_device *d = dg_stream_device(s);
  int64_t n = dg_tensor_numel(t);
  if (n > dg_window_elems(d, t) || n > UINT32_MAX)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: %s of %lld elements exceeds the binding limit", op, what, (long long)n);
  *b = dg_window(d, t, 0, n, write, off);
  return DG_OK;
}

static dg_status dispatch(dg_stream *s, const char *shader, dg_dtype dt, const uint32_t *spec, int n_spec,
                          const dg_binding *bind, int n_bind, const void *pc, size_t pc_size, uint64_t lanes,
                          const char *label) {
  dg_kernel *k;
  uint32_t gx, gy;
  DG_TRY(dg_op_kernel(s, shader, dt, spec, n_spec, &k));
  dg_grid_1d(dg_stream_device(s), (lanes + LOCAL - 1) / LOCAL, &gx, &gy);
  return dg_stream_dispatch(s, k, bind, n_bind, pc, pc_size, gx, gy, 1, label);
}

dg_status dg_conv2d_backward(dg_stream *s, const dg_tensor *dy, const dg_tensor *w, const dg_conv2d_params *params,
                             dg_tensor *dx) {
  const char *op = "conv2d_backward";
  char sd[96], sw[96], sx[96];
  dg_conv2d_params p = params ? *params : (dg_conv2d_params){0};
  int sh = p.stride_h ? p.stride_h : 1, sv = p.stride_w ? p.stride_w : 1;
  if (p.groups > 1) return dg_fail(DG_ERR_UNSUPPORTED, "%s: grouped convolutions have no backward", op);
  bool ok = dy->ndim == 4 && w->ndim == 4 && dx->ndim == 4 && dy->shape[0] == dx->shape[0] &&
            dy->shape[1] == w->shape[0] && dx->shape[1] == w->shape[1];
  if (ok) {
    int64_t ho = (dx->shape[2] + 2 * p.pad_h + p.pad_b - w->shape[2]) / sh + 1;
    int64_t wo = (dx->shape[3] + 2 * p.pad_w + p.pad_r - w->shape[3]) / sv + 1;
    ok = ho == dy->shape[2] && wo == dy->shape[3];
  }
  if (!ok)
    return dg_fail(DG_ERR_ARG, "%s: dy %s, w %s and dx %s do not match a convolution", op, dg_shape_str(dy, sd, sizeof sd),
                   dg_shape_str(w, sw, sizeof sw), dg_shape_str(dx, sx, sizeof sx));
  DG_TRY(dg_check_same_dtype(op, dy, w));
  DG_TRY(dg_check_same_dtype(op, dy, dx));
  dg_binding b[3];
  uint32_t o[3];
  DG_TRY(whole(s, op, "dy", dy, false, &b[0], &o[0]));
  DG_TRY(whole(s, op, "w", w, false, &b[1], &o[1]));
  DG_TRY(whole(s, op, "dx", dx, true, &b[2], &o[2]));
  uint32_t pc[16] = {(uint32_t)dx->shape[0], (uint32_t)dx->shape[1], (uint32_t)dx->shape[2], (uint32_t)dx->shape[3],
                     (uint32_t)dy->shape[1], (uint32_t)dy->shape[2], (uint32_t)dy->shape[3], (uint32_t)w->shape[2],
                     (uint32_t)w->shape[3], (uint32_t)sh, (uint32_t)sv, (uint32_t)p.pad_h, (uint32_t)p.pad_w,
                     o[0], o[1], o[2]};
  uint32_t spec[1] = {LOCAL};
  return dispatch(s, "conv2d_backward", dx->dtype, spec, 1, b, 3, pc, sizeof pc, (uint64_t)dg_tensor_numel(dx), op);
}

typedef struct norm_push {
  uint32_t rows, len, x_off, dy_off, dx_off, g_off, b_off, groups, cpg, hw;
  float eps;
} norm_push;

static dg_status norm_backward(dg_stream *s, const char *op, const dg_tensor *x, const dg_tensor *dy, int64_t rows,
                               int64_t len, int groups, int64_t cpg, int64_t hw, const dg_tensor *gamma,
                               const dg_tensor *beta, float eps, bool silu, dg_tensor *dx) {
  int64_t n = dg_tensor_numel(x);
  if (!gamma || !beta) return dg_fail(DG_ERR_ARG, "%s: gamma and beta are required", op);
  DG_TRY(dg_check_numel(op, "dy", dy, n));
  DG_TRY(dg_check_numel(op, "dx", dx, n));
  DG_TRY(dg_check_numel(op, "gamma", gamma, groups * cpg));
  DG_TRY(dg_check_numel(op, "beta", beta, groups * cpg));
  const dg_tensor *all[4] = {dy, dx, gamma, beta};
  for (int i = 0; i < 4; i++) DG_TRY(dg_check_same_dtype(op, x, all[i]));
  if (!(eps >= 0)) return dg_fail(DG_ERR_ARG, "%s: eps %g is negative", op, eps);
  dg_binding b[5];
  norm_push pc = {(uint32_t)rows, (uint32_t)len, .groups = (uint32_t)groups, .cpg = (uint32_t)cpg, .hw = (uint32_t)hw,
                  .eps = eps};
  DG_TRY(whole(s, op, "x", x, false, &b[0], &pc.x_off));
  DG_TRY(whole(s, op, "dy", dy, false, &b[1], &pc.dy_off));
  DG_TRY(whole(s, op, "dx", dx, true, &b[2], &pc.dx_off));
  DG_TRY(whole(s, op, "gamma", gamma, false, &b[3], &pc.g_off));
  DG_TRY(whole(s, op, "beta", beta, false, &b[4], &pc.b_off));
  uint32_t spec[2] = {LOCAL, silu};
  return dispatch(s, "norm_backward", x->dtype, spec, 2, b, 5, &pc, sizeof pc, (uint64_t)rows, op);
}

dg_status dg_group_norm_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, int groups,
                                 const dg_tensor *gamma, const dg_tensor *beta, float eps, bool silu, dg_tensor *dx) {
  const char *op = silu ? "group_norm_silu_backward" : "group_norm_backward";
  char sx[96];
  if (x->ndim < 2 || groups < 1 || x->shape[1] % groups)
    return dg_fail(DG_ERR_ARG, "%s: x %s is not [N, C, ...] with C divisible into %d groups", op,
                   dg_shape_str(x, sx, sizeof sx), groups);
  int64_t c = x->shape[1], hw = dg_tensor_numel(x) / (x->shape[0] * c);
  return norm_backward(s, op, x, dy, x->shape[0] * groups, c / groups * hw, groups, c / groups, hw, gamma, beta, eps,
                       silu, dx);
}

dg_status dg_layer_norm_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, const dg_tensor *gamma,
                                 const dg_tensor *beta, float eps, bool silu, dg_tensor *dx) {
  int64_t len = x->shape[x->ndim - 1];
  return norm_backward(s, silu ? "layer_norm_silu_backward" : "layer_norm_backward", x, dy, dg_tensor_numel(x) / len,
                       len, 1, len, 1, gamma, beta, eps, silu, dx);
}

typedef struct softmax_push {
  uint32_t rows, len, p_off, dp_off, gc_off, ds_off, n_chosen;
  float scale;
  uint32_t chosen_first;
} softmax_push;

dg_status dg_softmax_backward(dg_stream *s, const dg_tensor *p, const dg_tensor *dp, const dg_tensor *gc,
                              int chosen_first, int n_chosen, float scale, dg_tensor *ds) {
  const char *op = "softmax_backward";
  int64_t len = p->shape[p->ndim - 1], n = dg_tensor_numel(p), rows = n / len;
  if (!dp && !gc) return dg_fail(DG_ERR_ARG, "%s: neither dp nor gc given", op);
  if (gc && (n_chosen < 1 || chosen_first < 0 || chosen_first + (int64_t)n_chosen > len))
    return dg_fail(DG_ERR_ARG, "%s: chosen columns %d..%d outside the %lld columns", op, chosen_first,
                   chosen_first + n_chosen - 1, (long long)len);
  softmax_push pc = {(uint32_t)rows, (uint32_t)len, .n_chosen = gc ? (uint32_t)n_chosen : 0, .scale = scale,
                     .chosen_first = gc ? (uint32_t)chosen_first : 0};
  DG_TRY(dg_check_numel(op, "ds", ds, n));
  DG_TRY(dg_check_same_dtype(op, p, ds));
  if (dp) DG_TRY(dg_check_numel(op, "dp", dp, n));
  if (dp) DG_TRY(dg_check_same_dtype(op, p, dp));
  if (gc) DG_TRY(dg_check_numel(op, "gc", gc, rows * n_chosen));
  if (gc) DG_TRY(dg_check_same_dtype(op, p, gc));
  dg_binding b[4];
  DG_TRY(whole(s, op, "p", p, false, &b[0], &pc.p_off));
  DG_TRY(whole(s, op, "ds", ds, true, &b[3], &pc.ds_off));
  b[1] = b[2] = b[0];
  if (dp) DG_TRY(whole(s, op, "dp", dp, false, &b[1], &pc.dp_off));
  if (gc) DG_TRY(whole(s, op, "gc", gc, false, &b[2], &pc.gc_off));
  uint32_t spec[3] = {LOCAL, dp != NULL, gc != NULL};
  return dispatch(s, "softmax_backward", p->dtype, spec, 3, b, 4, &pc, sizeof pc, (uint64_t)rows, op);
}

dg_status dg_geglu_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, dg_tensor *dx) {
  const char *op = "geglu_backward";
  char sx[96], sd[96];
  int64_t f = dy->shape[dy->ndim - 1], n = dg_tensor_numel(dy);
  if (x->shape[x->ndim - 1] != 2 * f || dg_tensor_numel(x) != 2 * n)
    return dg_fail(DG_ERR_ARG, "%s: x %s must be dy %s with the last dim doubled", op, dg_shape_str(x, sx, sizeof sx),
                   dg_shape_str(dy, sd, sizeof sd));
  DG_TRY(dg_check_numel(op, "dx", dx, 2 * n));
  DG_TRY(dg_check_same_dtype(op, x, dy));
  DG_TRY(dg_check_same_dtype(op, x, dx));
  dg_binding b[3];
  uint32_t pc[5] = {(uint32_t)n, (uint32_t)f};
  DG_TRY(whole(s, op, "x", x, false, &b[0], &pc[2]));
  DG_TRY(whole(s, op, "dy", dy, false, &b[1], &pc[3]));
  DG_TRY(whole(s, op, "dx", dx, true, &b[2], &pc[4]));
  uint32_t spec[1] = {LOCAL};
  return dispatch(s, "geglu_backward", x->dtype, spec, 1, b, 3, pc, sizeof pc, (uint64_t)n, op);
}

// Elements [first, first + numel(shape)) of t as a tensor of that shape.
static dg_tensor part(const dg_tensor *t, int64_t first, int ndim, const int64_t *shape) {
  dg_tensor out = *t;
  size_t es = dg_dtype_size(t->dtype);
  int64_t n = 1;
  out.ndim = ndim;
  for (int i = 0; i < ndim; i++) n *= out.shape[i] = shape[i];
  out.data.offset += (uint64_t)first * es;
  out.data.size = (uint64_t)n * es;
  return out;
}

// One GEMM per item n over its heads: C[h](m, j) = sum_k A[h](m, k) B[h](k, j), with the
// operands' strides given per call (tokens [L, heads * d] or scores [heads, Lq, Lk]).
typedef struct operand {
  const dg_tensor *t;
  int64_t off, sz, s1, s2; // batch (head) stride and the two matrix strides
} operand;

static dg_status head_gemm(dg_stream *s, const char *label, int64_t heads, int64_t M, int64_t N, int64_t K, operand a,
                           operand b, operand c) {
  dg_gemm_desc g = {.label = label, .batch = heads, .M = M, .N = N, .K = K, .a = a.t, .b = b.t, .c = c.t,
                    .a_off = a.off, .a_sz = a.sz, .a_sm = a.s1, .a_sk = a.s2,
                    .b_off = b.off, .b_sz = b.sz, .b_sk = b.s1, .b_sn = b.s2,
                    .c_off = c.off, .c_sz = c.sz, .c_sm = c.s1};
  return dg_gemm(s, &g);
}

// The heads [h0, h0 + nh) of item i: recompute S and P, dP, then dS (into S) and the gradients.
static dg_status attention_heads(dg_stream *s, const dg_tensor *q, const dg_tensor *k, const dg_tensor *v,
                                 const dg_attention_grad_args *a, float scale, int64_t i, int64_t h0, int64_t nh,
                                 dg_tensor *S, dg_tensor *P, dg_tensor *dP, dg_tensor *gp, dg_tensor *dq, dg_tensor *dk,
                                 dg_tensor *dv) {
  const char *op = "attention_backward";
  int64_t lq = q->shape[1], lk = k->shape[1], w = q->shape[2], d = w / a->heads, sc = lq * lk;
  int64_t qo = i * lq * w + h0 * d, ko = i * lk * w + h0 * d;
  // S = Q K^T (scaled in the softmax), P = softmax, dP = dO V^T.
  DG_TRY(head_gemm(s, op, nh, lq, lk, d, (operand){q, qo, d, w, 1}, (operand){k, ko, d, 1, w}, (operand){S, 0, sc, lk, 1}));
  if (a->d_out)
    DG_TRY(head_gemm(s, op, nh, lq, lk, d, (operand){a->d_out, qo, d, w, 1}, (operand){v, ko, d, 1, w},
                     (operand){dP, 0, sc, lk, 1}));
  DG_TRY(dg_softmax(s, S, scale, P));
  // dS (scaled: the gradient of Q K^T) overwrites S.
  DG_TRY(dg_softmax_backward(s, P, a->d_out ? dP : NULL, a->gprobs ? gp : NULL, a->chosen_first, a->n_chosen, scale, S));
  DG_TRY(head_gemm(s, op, nh, lq, d, lk, (operand){S, 0, sc, lk, 1}, (operand){k, ko, d, w, 1},
                   (operand){dq, qo, d, w, 1}));
  if (dk) // dK = dS^T Q
    DG_TRY(head_gemm(s, op, nh, lk, d, lq, (operand){S, 0, sc, 1, lk}, (operand){q, qo, d, w, 1},
                     (operand){dk, ko, d, w, 1}));
  if (dv) // dV = P^T dO
    DG_TRY(head_gemm(s, op, nh, lk, d, lq, (operand){P, 0, sc, 1, lk}, (operand){a->d_out, qo, d, w, 1},
                     (operand){dv, ko, d, w, 1}));
  return DG_OK;
}

dg_status dg_attention_backward(dg_stream *s, dg_arena *scratch, const dg_tensor *q, const dg_tensor *k,
                                const dg_tensor *v, const dg_attention_grad_args *a, dg_tensor *dq, dg_tensor *dk,
                                dg_tensor *dv) {
  const char *op = "attention_backward";
  char sq[96], sk[96];
  if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3 || a->heads < 1 || q->shape[2] % a->heads ||
      k->shape[0] != q->shape[0] || k->shape[2] != q->shape[2] || v->shape[0] != k->shape[0] ||
      v->shape[1] != k->shape[1] || v->shape[2] != q->shape[2])
    return dg_fail(DG_ERR_ARG, "%s: q %s and k %s must be [N, L, heads*d] with %d heads (v as k)", op,
                   dg_shape_str(q, sq, sizeof sq), dg_shape_str(k, sk, sizeof sk), a->heads);
  if (!a->d_out && !a->gprobs) return dg_fail(DG_ERR_ARG, "%s: neither d_out nor gprobs given", op);
  if ((dk || dv) && !a->d_out) return dg_fail(DG_ERR_ARG, "%s: dk and dv need d_out", op);
  int64_t n = q->shape[0], lq = q->shape[1], lk = k->shape[1], H = a->heads, w = q->shape[2], d = w / H;
  float scale = a->scale != 0 ? a->scale : 1.0f / sqrtf((float)d);
  DG_TRY(dg_check_numel(op, "dq", dq, n * lq * w));
  if (a->d_out) DG_TRY(dg_check_numel(op, "d_out", a->d_out, n * lq * w));
  if (a->gprobs) DG_TRY(dg_check_numel(op, "gprobs", a->gprobs, n * H * lq * a->n_chosen));
  if (dk) DG_TRY(dg_check_numel(op, "dk", dk, n * lk * w));
  if (dv) DG_TRY(dg_check_numel(op, "dv", dv, n * lk * w));
  // Heads in groups whose scores [group, Lq, Lk] fit one binding (the softmax backward binds them whole).
  int64_t per = dg_window_elems(dg_stream_device(s), q) / (lq * lk);
  if (per < 1)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: the scores of one head, [%lld, %lld], exceed the binding limit", op,
                   (long long)lq, (long long)lk);
  if (per > H) per = H;
  dg_arena_mark mark = dg_arena_get_mark(scratch);
  int64_t ss[3] = {per, lq, lk};
  dg_tensor S, P, dP;
  dg_status st = dg_tensor_alloc(scratch, q->dtype, 3, ss, &S);
  if (st == DG_OK) st = dg_tensor_alloc(scratch, q->dtype, 3, ss, &P);
  if (st == DG_OK && a->d_out) st = dg_tensor_alloc(scratch, q->dtype, 3, ss, &dP);
  for (int64_t i = 0; i < n && st == DG_OK; i++)
    for (int64_t h0 = 0; h0 < H && st == DG_OK; h0 += per) {
      int64_t nh = H - h0 < per ? H - h0 : per, cs[3] = {nh, lq, lk}, gs[3] = {nh, lq, a->n_chosen};
      dg_tensor s3 = part(&S, 0, 3, cs), p3 = part(&P, 0, 3, cs), dp3 = a->d_out ? part(&dP, 0, 3, cs) : s3;
      dg_tensor gp = a->gprobs ? part(a->gprobs, (i * H + h0) * lq * a->n_chosen, 3, gs) : s3;
      st = attention_heads(s, q, k, v, a, scale, i, h0, nh, &s3, &p3, &dp3, &gp, dq, dk, dv);
    }
  dg_arena_release(scratch, mark);
  return st;
}
