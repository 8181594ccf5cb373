#include "dg_nn_ops.h"

#include <string.h>

#include "dg_attention.h"
#include "dg_op_util.h"

#define LOCAL 64

static dg_status fits(dg_stream *s, const char *op, const dg_tensor *t) {
  uint64_t bytes = (uint64_t)dg_tensor_numel(t) * dg_dtype_size(t->dtype);
  if (bytes > dg_device_get_info(dg_stream_device(s))->max_binding_bytes || dg_tensor_numel(t) > (int64_t)UINT32_MAX) {
    char sh[96];
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor %s exceeds the binding limit (not split yet)", op,
                   dg_shape_str(t, sh, sizeof sh));
  }
  return DG_OK;
}

static dg_status dispatch(dg_stream *s, dg_pipeline *p, const dg_binding *b, int nb, const void *push, uint32_t size,
                          uint64_t invocations, const char *label) {
  uint32_t gx, gy;
  dg_grid_1d(dg_stream_device(s), (invocations + LOCAL - 1) / LOCAL, &gx, &gy);
  return dg_stream_dispatch(s, p, b, nb, push, size, gx, gy, 1, label);
}

dg_status dg_nn_attention(dg_stream *s, const dg_tensor *q, const dg_tensor *k, const dg_tensor *v, int heads,
                          float scale, bool causal, dg_tensor *out) {
  char sq[96], sk[96];
  if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3 || heads < 1 || q->shape[2] % heads || k->shape[2] != q->shape[2] ||
      v->shape[2] != q->shape[2] || k->shape[0] != q->shape[0] || v->shape[0] != q->shape[0] ||
      v->shape[1] != k->shape[1] || dg_tensor_numel(out) != dg_tensor_numel(q) || q->shape[2] / heads > 512 ||
      (causal && k->shape[1] < q->shape[1]))
    return dg_fail(DG_ERR_ARG, "attention: bad shapes q %s, k/v %s with %d heads (head dim <= 512)",
                   dg_shape_str(q, sq, sizeof sq), dg_shape_str(k, sk, sizeof sk), heads);
  DG_TRY(dg_check_same_dtype("attention", q, k));
  DG_TRY(dg_check_same_dtype("attention", q, v));
  DG_TRY(dg_check_same_dtype("attention", q, out));
  // The flash kernel (key tiles shared through subgroup broadcasts) is many times faster on long
  // sequences; this one-query-per-invocation kernel remains for heads wider than it takes (VAE mid-block).
  if (q->shape[2] / heads <= DG_ATTENTION_MAX_D) {
    dg_attention_args a = {.heads = heads, .scale = scale, .causal = causal};
    return dg_attention(s, q, k, v, &a, out);
  }
  DG_TRY(fits(s, "attention", q));
  DG_TRY(fits(s, "attention", k));
  DG_TRY(fits(s, "attention", v));
  dg_pipeline *p;
  uint32_t spec[3] = {LOCAL, (uint32_t)(q->shape[2] / heads), causal};
  DG_TRY(dg_op_pipeline(s, "nn_attention", q->dtype, spec, 3, &p));
  struct {
    uint32_t n, lq, lk, heads;
    float scale;
  } pc = {(uint32_t)q->shape[0], (uint32_t)q->shape[1], (uint32_t)k->shape[1], (uint32_t)heads, scale};
  dg_binding bind[6] = {dg_bind(q, false),  dg_bind(k, false), dg_bind(v, false),
                        dg_bind(out, true), dg_bind(k, false), dg_bind(v, false)};
  return dispatch(s, p, bind, 6, &pc, sizeof pc, (uint64_t)pc.n * pc.lq * pc.heads, "attention");
}

typedef struct layout_push {
  uint32_t total, a, b, c, d, e;
  float alpha, beta;
} layout_push;

static dg_status layout(dg_stream *s, uint32_t mode, const char *label, const dg_tensor *x, dg_tensor *out,
                        layout_push pc) {
  DG_TRY(dg_check_same_dtype(label, x, out));
  DG_TRY(fits(s, label, x));
  DG_TRY(fits(s, label, out));
  dg_pipeline *p;
  uint32_t spec[2] = {LOCAL, mode};
  DG_TRY(dg_op_pipeline(s, "nn_layout", x->dtype, spec, 2, &p));
  // Mode 1 writes only part of out: bind it read-write so earlier writes to out are ordered.
  dg_binding bind[3] = {dg_bind(x, false), dg_bind(out, true), dg_bind(x, false)}; // binding 2: ids, unused here
  return dispatch(s, p, bind, 3, &pc, sizeof pc, pc.total, label);
}

dg_status dg_nn_transpose(dg_stream *s, const dg_tensor *x, int64_t a, int64_t b, int64_t c, dg_tensor *out) {
  if (a * b * c != dg_tensor_numel(x) || dg_tensor_numel(out) != dg_tensor_numel(x))
    return dg_fail(DG_ERR_ARG, "transpose: [%lld, %lld, %lld] does not match the tensors", (long long)a, (long long)b,
                   (long long)c);
  layout_push pc = {(uint32_t)(a * b * c), (uint32_t)a, (uint32_t)b, (uint32_t)c, 0, 0, 0, 0};
  return layout(s, 0, "transpose", x, out, pc);
}

static dg_status channel_args(const char *op, const dg_tensor *small, int64_t c0, const dg_tensor *big,
                              layout_push *pc) {
  char s1[96], s2[96];
  if (small->ndim < 2 || big->ndim != small->ndim || small->shape[0] != big->shape[0] || c0 < 0 ||
      c0 + small->shape[1] > big->shape[1])
    goto bad;
  int64_t inner = 1;
  for (int i = 2; i < small->ndim; i++) {
    if (small->shape[i] != big->shape[i]) goto bad;
    inner *= small->shape[i];
  }
  *pc = (layout_push){(uint32_t)dg_tensor_numel(small),
                      (uint32_t)small->shape[0],
                      (uint32_t)small->shape[1],
                      (uint32_t)inner,
                      (uint32_t)big->shape[1],
                      (uint32_t)c0,
                      0,
                      0};
  return DG_OK;
bad:
  return dg_fail(DG_ERR_ARG, "%s: %s does not fit into %s at channel %lld", op, dg_shape_str(small, s1, sizeof s1),
                 dg_shape_str(big, s2, sizeof s2), (long long)c0);
}

dg_status dg_nn_put_channels(dg_stream *s, const dg_tensor *x, int64_t c0, dg_tensor *out) {
  layout_push pc;
  DG_TRY(channel_args("put_channels", x, c0, out, &pc));
  return layout(s, 1, "put_channels", x, out, pc);
}

dg_status dg_nn_get_channels(dg_stream *s, const dg_tensor *x, int64_t c0, dg_tensor *out) {
  layout_push pc;
  DG_TRY(channel_args("get_channels", out, c0, x, &pc));
  return layout(s, 2, "get_channels", x, out, pc);
}

dg_status dg_nn_upsample2x(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  char s1[96], s2[96];
  if (x->ndim != 4 || out->ndim != 4 || out->shape[0] != x->shape[0] || out->shape[1] != x->shape[1] ||
      out->shape[2] != 2 * x->shape[2] || out->shape[3] != 2 * x->shape[3])
    return dg_fail(DG_ERR_ARG, "upsample2x: %s -> %s", dg_shape_str(x, s1, sizeof s1),
                   dg_shape_str(out, s2, sizeof s2));
  layout_push pc = {(uint32_t)dg_tensor_numel(out),
                    (uint32_t)(x->shape[0] * x->shape[1]),
                    (uint32_t)x->shape[2],
                    (uint32_t)x->shape[3],
                    0,
                    0,
                    0,
                    0};
  return layout(s, 3, "upsample2x", x, out, pc);
}

dg_status dg_nn_geglu(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  char s1[96], s2[96];
  int64_t f = out->shape[out->ndim - 1];
  if (x->shape[x->ndim - 1] != 2 * f || dg_tensor_numel(x) != 2 * dg_tensor_numel(out))
    return dg_fail(DG_ERR_ARG, "geglu: %s -> %s", dg_shape_str(x, s1, sizeof s1), dg_shape_str(out, s2, sizeof s2));
  layout_push pc = {(uint32_t)dg_tensor_numel(out), (uint32_t)(dg_tensor_numel(out) / f), (uint32_t)f, 0, 0, 0, 0, 0};
  return layout(s, 4, "geglu", x, out, pc);
}

dg_status dg_nn_clamp(dg_stream *s, const dg_tensor *x, float lo, float hi, dg_tensor *out) {
  DG_TRY(dg_check_numel("clamp", "out", out, dg_tensor_numel(x)));
  layout_push pc = {(uint32_t)dg_tensor_numel(x), 0, 0, 0, 0, 0, lo, hi};
  return layout(s, 5, "clamp", x, out, pc);
}

dg_status dg_nn_embed(dg_stream *s, dg_arena *arena, const dg_tensor *table, const uint32_t *ids, int64_t n,
                      dg_tensor *out) {
  char st[96];
  if (table->ndim != 2 || n < 1 || dg_tensor_numel(out) != n * table->shape[1])
    return dg_fail(DG_ERR_ARG, "embed: table %s, %lld ids and out do not match", dg_shape_str(table, st, sizeof st),
                   (long long)n);
  for (int64_t i = 0; i < n; i++)
    if (ids[i] >= (uint64_t)table->shape[0])
      return dg_fail(DG_ERR_ARG, "embed: id %u at %lld is outside the table of %lld rows", ids[i], (long long)i,
                     (long long)table->shape[0]);
  DG_TRY(dg_check_same_dtype("embed", table, out));
  DG_TRY(fits(s, "embed", table));
  DG_TRY(fits(s, "embed", out));
  dg_range r;
  DG_TRY(dg_arena_alloc(arena, (uint64_t)n * 4, &r));
  DG_TRY(dg_stream_finish(s)); // recorded work may still use this (released) memory
  memcpy(dg_range_map(r), ids, (size_t)n * 4);
  dg_pipeline *p;
  uint32_t spec[2] = {LOCAL, 6};
  DG_TRY(dg_op_pipeline(s, "nn_layout", table->dtype, spec, 2, &p));
  layout_push pc = {(uint32_t)dg_tensor_numel(out), (uint32_t)n, (uint32_t)table->shape[1], 0, 0, 0, 0, 0};
  dg_binding bind[3] = {dg_bind(table, false), dg_bind(out, true), {r, false}};
  return dispatch(s, p, bind, 3, &pc, sizeof pc, pc.total, "embed");
}
