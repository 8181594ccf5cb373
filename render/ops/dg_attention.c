#include "dg_attention.h"

#include <math.h>
#include <string.h>

#include "dg_op_util.h"

#define WG 32
#define WG_WIDE 64

typedef struct push {
  uint32_t nq, lk, heads, nh, h0, q0;
  uint32_t q_off, k_off, v_off, o_off, bias_off, bias_bstride, p_off, n_chosen;
  int32_t causal_off;
  float scale;
  uint32_t chosen_first;
} push;

static dg_status check_args(const dg_tensor *q, const dg_tensor *k, const dg_tensor *v, const dg_attention_args *a,
                            const dg_tensor *out, int64_t *d) {
  char s1[96], s2[96];
  if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3)
    return dg_fail(DG_ERR_ARG, "attention: q, k, v must be 3-D [N, L, heads*d], got q %s, k %s",
                   dg_shape_str(q, s1, sizeof s1), dg_shape_str(k, s2, sizeof s2));
  DG_TRY(dg_check_same_dtype("attention", q, k));
  DG_TRY(dg_check_same_dtype("attention", q, v));
  DG_TRY(dg_check_same_dtype("attention", q, out));
  if (a->heads < 1 || q->shape[2] % a->heads)
    return dg_fail(DG_ERR_ARG, "attention: %d heads do not divide q's last dim %lld", a->heads, (long long)q->shape[2]);
  if (k->shape[0] != q->shape[0] || k->shape[2] != q->shape[2] || memcmp(k->shape, v->shape, sizeof k->shape))
    return dg_fail(DG_ERR_ARG, "attention: k %s and v must be [%lld, Lk, %lld] like q %s",
                   dg_shape_str(k, s2, sizeof s2), (long long)q->shape[0], (long long)q->shape[2],
                   dg_shape_str(q, s1, sizeof s1));
  if (out->ndim != 3 || memcmp(out->shape, q->shape, sizeof q->shape))
    return dg_fail(DG_ERR_ARG, "attention: out has shape %s, expected q's %s", dg_shape_str(out, s2, sizeof s2),
                   dg_shape_str(q, s1, sizeof s1));
  *d = q->shape[2] / a->heads;
  if (*d > DG_ATTENTION_MAX_WIDE_D)
    return dg_fail(DG_ERR_UNSUPPORTED, "attention: head dim %lld over %d", (long long)*d, DG_ATTENTION_MAX_WIDE_D);
  int64_t b = q->shape[0] * a->heads, lq = q->shape[1], lk = k->shape[1];
  if (a->bias) {
    const dg_tensor *t = a->bias;
    DG_TRY(dg_check_same_dtype("attention bias", q, t));
    bool bcast = t->ndim == 2 && t->shape[0] == lq && t->shape[1] == lk;
    bool per_b = t->ndim == 3 && t->shape[0] == b && t->shape[1] == lq && t->shape[2] == lk;
    if (!bcast && !per_b)
      return dg_fail(DG_ERR_ARG, "attention: bias has shape %s, expected [%lld, %lld] or [%lld, %lld, %lld]",
                     dg_shape_str(t, s1, sizeof s1), (long long)lq, (long long)lk, (long long)b, (long long)lq,
                     (long long)lk);
  }
  if (a->n_chosen < 0 || (a->n_chosen && !a->probs))
    return dg_fail(DG_ERR_ARG, "attention: n_chosen %d needs probs", a->n_chosen);
  if (a->n_chosen) {
    DG_TRY(dg_check_same_dtype("attention probs", q, a->probs));
    const dg_tensor *t = a->probs;
    if (t->ndim != 3 || t->shape[0] != b || t->shape[1] != lq || t->shape[2] != a->n_chosen)
      return dg_fail(DG_ERR_ARG, "attention: probs has shape %s, expected [%lld, %lld, %d]",
                     dg_shape_str(t, s1, sizeof s1), (long long)b, (long long)lq, a->n_chosen);
    if (a->chosen_first < 0 || a->chosen_first + (int64_t)a->n_chosen > lk)
      return dg_fail(DG_ERR_ARG, "attention: chosen keys %d..%d are outside 0..%lld", a->chosen_first,
                     a->chosen_first + a->n_chosen - 1, (long long)lk - 1);
  }
  if (!(a->scale == a->scale)) return dg_fail(DG_ERR_ARG, "attention: scale is NaN");
  return DG_OK;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

dg_status dg_attention(dg_stream *s, const dg_tensor *q, const dg_tensor *k, const dg_tensor *v,
                       const dg_attention_args *a, dg_tensor *out) {
  int64_t d = 1;
  if (!a) return dg_fail(DG_ERR_ARG, "attention: args is NULL");
  DG_TRY(check_args(q, k, v, a, out, &d));
  const dg_device *dev = dg_stream_device(s);
  int64_t n = q->shape[0], lq = q->shape[1], lk = k->shape[1], heads = a->heads, row = heads * d;
  bool per_b = a->bias && a->bias->ndim == 3, probs = a->n_chosen > 0;
  if (dg_tensor_numel(q) > UINT32_MAX || dg_tensor_numel(k) > UINT32_MAX ||
      (a->bias && dg_tensor_numel(a->bias) > UINT32_MAX))
    return dg_fail(DG_ERR_ARG, "attention: tensor too large");
  int64_t w = dg_window_elems(dev, q);
  // Items per dispatch such that every window fits; failing that, one (item, head) per dispatch
  // with the queries in chunks.
  int64_t nn = min64(w / (lq * row), w / (lk * row));
  if (a->bias) nn = min64(nn, per_b ? w / (heads * lq * lk) : (lq * lk <= w ? n : 0));
  if (probs) nn = min64(nn, w / (heads * lq * a->n_chosen));
  nn = min64(nn, 65535 / heads);
  int64_t nh = heads, nq = lq;
  if (nn < 1) {
    if (lk * row > w)
      return dg_fail(DG_ERR_UNSUPPORTED, "attention: K of one item (%lld x %lld) exceeds the binding limit",
                     (long long)lk, (long long)row);
    nn = 1;
    nh = 1;
    nq = min64(lq, w / row);
    if (a->bias) nq = min64(nq, w / lk);
    if (probs) nq = min64(nq, w / a->n_chosen);
  }
  // Query rows per lane: enough to reuse each loaded K/V element, few enough to stay in registers.
  // (With cooperative loads 1, 2 and 4 rows measure within noise of each other; 4 compiles 3x longer.)
  // Heads wider than DG_ATTENTION_MAX_D take attention_wide.comp: one query per lane.
  bool wide = d > DG_ATTENTION_MAX_D;
  uint32_t qr = d <= 80 ? 2 : 1;
  uint32_t rows_per_group = wide ? WG_WIDE : WG * qr;
  // Cooperative K/V loads need the subgroup size the shader runs with: CPU devices have a fixed one.
  const dg_device_info *info = dg_device_get_info(dev);
  bool coop = !strcmp(info->type, "cpu") && info->subgroup_size >= 2 && WG % info->subgroup_size == 0;
  uint32_t flags = (a->bias ? 1u : 0) | (a->causal ? 2u : 0) | (probs ? 4u : 0);
  push pc = {.lk = (uint32_t)lk,
             .heads = (uint32_t)heads,
             .nh = (uint32_t)nh,
             .n_chosen = (uint32_t)a->n_chosen,
             .bias_bstride = per_b ? (uint32_t)(lq * lk) : 0,
             .causal_off = (int32_t)(lk - lq),
             .scale = a->scale != 0 ? a->scale : 1.0f / sqrtf((float)d),
             .chosen_first = (uint32_t)a->chosen_first};
  for (int64_t n0 = 0; n0 < n; n0 += nn) {
    int64_t cn = min64(nn, n - n0);
    for (int64_t h0 = 0; h0 < heads; h0 += nh) {
      for (int64_t q0 = 0; q0 < lq; q0 += nq) {
        int64_t cq = min64(nq, lq - q0);
        dg_binding b[8];
        b[0] = dg_window(dev, q, (n0 * lq + q0) * row, ((cn - 1) * lq + cq) * row, false, &pc.q_off);
        b[1] = dg_window(dev, k, n0 * lk * row, cn * lk * row, false, &pc.k_off);
        b[2] = dg_window(dev, v, n0 * lk * row, cn * lk * row, false, &pc.v_off);
        b[3] = dg_window(dev, out, (n0 * lq + q0) * row, ((cn - 1) * lq + cq) * row, true, &pc.o_off);
        b[4] = b[1];
        pc.bias_off = 0;
        if (a->bias && per_b)
          b[4] = dg_window(dev, a->bias, ((n0 * heads + h0) * lq + q0) * lk, ((cn * nh - 1) * lq + cq) * lk, false,
                           &pc.bias_off);
        else if (a->bias)
          b[4] = dg_window(dev, a->bias, q0 * lk, cq * lk, false, &pc.bias_off);
        b[5] = b[3];
        pc.p_off = 0;
        if (probs)
          b[5] = dg_window(dev, a->probs, ((n0 * heads + h0) * lq + q0) * a->n_chosen,
                           ((cn * nh - 1) * lq + cq) * a->n_chosen, true, &pc.p_off);
        pc.nq = (uint32_t)cq;
        pc.h0 = (uint32_t)h0;
        pc.q0 = (uint32_t)q0;
        bool vec = d % 4 == 0 && pc.q_off % 4 == 0 && pc.k_off % 4 == 0 && pc.v_off % 4 == 0 && pc.o_off % 4 == 0;
        dg_kernel *pl;
        if (wide) {
          uint32_t spec[3] = {WG_WIDE, (uint32_t)d, flags | (vec ? 8u : 0)};
          DG_TRY(dg_op_kernel(s, "attention_wide", q->dtype, spec, 3, &pl));
        } else {
          uint32_t spec[5] = {WG, (uint32_t)d, qr, flags | (vec && coop ? 8u : 0), coop ? info->subgroup_size : 8};
          DG_TRY(dg_op_kernel(s, vec ? "attention" : "attention_scalar", q->dtype, spec, 5, &pl));
        }
        b[6] = b[1]; // attention_wide's vec4 views of K and V
        b[7] = b[2];
        uint32_t gx = (uint32_t)((cq + rows_per_group - 1) / rows_per_group), gy = (uint32_t)(cn * nh);
        DG_TRY(dg_stream_dispatch(s, pl, b, wide ? 8 : 6, &pc, sizeof pc, gx, gy, 1, "attention"));
      }
    }
  }
  return DG_OK;
}
