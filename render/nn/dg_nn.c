#include "dg_nn.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "dg_attention.h"
#include "dg_backward.h"
#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_matmul.h"
#include "dg_memory.h"
#include "dg_norm.h"
#include "dg_tape.h"

#define NAME_MAX_LEN 256
// Weight names are built with snprintf into fixed buffers; load() rejects a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

dg_status dg_nn_alloc(const dg_nn_ctx *nn, int ndim, const int64_t *shape, dg_tensor *out) {
  return dg_tensor_alloc(nn->scratch, nn->dtype, ndim, shape, out);
}

dg_status dg_nn_upload(const dg_nn_src *src, int ndim, const int64_t *shape, const float *values, dg_tensor *out) {
  DG_TRY(dg_tensor_alloc(src->arena, src->dtype, ndim, shape, out));
  return dg_tensor_write_f32(out, values);
}

dg_status dg_nn_read(const dg_nn_src *src, const char *name, int ndim, const int64_t *shape, float **out) {
  *out = NULL;
  const dg_weight *t = dg_weights_find(src->w, name);
  if (!t) return dg_fail(DG_ERR_FORMAT, "the checkpoint has no tensor %s", name);
  bool ok = t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++)
    ok = shape[i] < 0 || t->shape[i] == shape[i];
  if (!ok) {
    char want[128] = "[", got[128] = "[";
    for (int i = 0; i < ndim; i++)
      snprintf(want + strlen(want), sizeof want - strlen(want), shape[i] < 0 ? "%s?" : "%s%lld", i ? ", " : "",
               (long long)shape[i]);
    for (int i = 0; i < t->ndim; i++)
      snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    return dg_fail(DG_ERR_FORMAT, "tensor %s has shape %s], expected %s]", name, got, want);
  }
  float *v = malloc((size_t)t->numel * sizeof *v);
  if (!v) return dg_memory_fail(name, (uint64_t)t->numel * sizeof *v);
  dg_status s = dg_weights_read(src->w, t, DG_F32, v, (size_t)t->numel * sizeof *v);
  if (s != DG_OK) {
    free(v);
    return s;
  }
  *out = v;
  return DG_OK;
}

const dg_tensor *dg_nn_context(const dg_nn_ctx *nn, const dg_tensor *context) {
  return nn->hooks && nn->hooks->frame_context ? nn->hooks->frame_context : context;
}

void dg_nn_scope_end(const dg_nn_ctx *nn, dg_arena_mark mark) {
  if (!nn->hooks || !nn->hooks->tape) dg_arena_release(nn->scratch, mark);
}

// out [a, c, b] = x [a, b, c] (both read as that shape whatever their own): NCL <-> NLC.
static dg_status transpose(const dg_nn_ctx *nn, const dg_tensor *x, int64_t a, int64_t b, int64_t c,
                           const dg_tensor *out) {
  static const int perm[3] = {0, 2, 1};
  int64_t xs[3] = {a, b, c}, os[3] = {a, c, b};
  dg_tensor xv, ov;
  DG_TRY(dg_tensor_reshape(x, 3, xs, &xv));
  DG_TRY(dg_tensor_reshape(out, 3, os, &ov));
  DG_TRY(dg_permute(nn->s, &xv, perm, &ov));
  return dg_nn_tape(nn) ? dg_tape_record_permute(dg_nn_tape(nn), &xv, perm, &ov) : DG_OK;
}

bool dg_nn_has(const dg_nn_src *src, const char *prefix, const char *suffix) {
  char name[NAME_MAX_LEN];
  snprintf(name, sizeof name, "%s%s", prefix, suffix);
  return dg_weights_find(src->w, name) != NULL;
}

static dg_status load(const dg_nn_src *src, const char *prefix, const char *suffix, dg_tensor *out) {
  char name[NAME_MAX_LEN];
  if (snprintf(name, sizeof name, "%s%s", prefix, suffix) >= (int)sizeof name)
    return dg_fail(DG_ERR_ARG, "nn: weight name too long: %s%s", prefix, suffix);
  if (!dg_weights_find(src->w, name)) return dg_fail(DG_ERR_FORMAT, "nn: the checkpoint has no tensor %s", name);
  return dg_weights_load(src->w, name, src->arena, src->dtype, out);
}

// ---- conv, linear, norm ----

dg_status dg_nn_conv_load(const dg_nn_src *src, const char *prefix, int stride, int pad, dg_nn_conv *out) {
  memset(out, 0, sizeof *out);
  out->stride = stride;
  out->pad = pad;
  DG_TRY(load(src, prefix, ".weight", &out->w));
  if (out->w.ndim != 4 || out->w.shape[2] != out->w.shape[3])
    return dg_fail(DG_ERR_FORMAT, "nn: %s.weight is not a square conv kernel", prefix);
  return load(src, prefix, ".bias", &out->b);
}

// pad < 0: no padding on the top/left, one row/column on the bottom/right (the VAE encoder's
// downsampling).
static dg_conv2d_params conv_params(const dg_nn_conv *c) {
  int pad = c->pad < 0 ? 0 : c->pad, end = c->pad < 0 ? 1 : 0;
  return (dg_conv2d_params){.stride_h = c->stride, .stride_w = c->stride, .pad_h = pad, .pad_w = pad, .pad_b = end, .pad_r = end};
}

// ---- backward of the layers (entries of the gradient tape, dg_tape.h) ----

// dx of an entry's single input, allocated from the tape with its shape.
static dg_status grad_input(dg_tape *t, const dg_tape_entry *e, dg_tensor *dx) {
  return dg_tape_alloc(t, e->in[0].dtype, e->in[0].ndim, e->in[0].shape, dx);
}

// w [Co, Ci, k, k] -> [Ci, Co, k, k] flipped in both spatial dims, kept by the tape.
static dg_status flipped_kernel(dg_tape *t, const dg_tensor *w, dg_tensor *out) {
  int64_t co = w->shape[0], ci = w->shape[1], k = w->shape[2], n = co * ci * k * k;
  int64_t shape[4] = {ci, co, k, k};
  bool fresh;
  DG_TRY(dg_tape_derived(t, w, 0, w->dtype, 4, shape, out, &fresh));
  if (!fresh) return DG_OK;
  float *src = malloc((size_t)n * sizeof *src), *dst = malloc((size_t)n * sizeof *dst);
  if (!src || !dst) {
    free(src), free(dst);
    return dg_memory_fail("a flipped convolution kernel", 2 * (uint64_t)n * sizeof *src);
  }
  dg_status s = dg_tensor_read_f32(w, src); // weights: written once at load, never by the GPU
  for (int64_t o = 0; o < co; o++)
    for (int64_t i = 0; i < ci; i++)
      for (int64_t y = 0; y < k; y++)
        for (int64_t x = 0; x < k; x++)
          dst[((i * co + o) * k + (k - 1 - y)) * k + (k - 1 - x)] = src[((o * ci + i) * k + y) * k + x];
  if (s == DG_OK) s = dg_tensor_write_f32(out, dst);
  free(src), free(dst);
  return s;
}

// dx of a convolution: with stride 1 and symmetric padding p the transposed convolution is a
// convolution of dy with the flipped, transposed kernel and padding k - 1 - p (the forward's fast
// paths: 5x faster than conv2d_backward's one lane per element on the default UNet); otherwise
// conv2d_backward.
static dg_status conv_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_nn_conv *c = e->layer;
  dg_conv2d_params p = conv_params(c);
  dg_tensor dx, dy, wf;
  int64_t k = c->w.shape[2];
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), e->out[0].ndim, e->out[0].shape, &dy));
  DG_TRY(grad_input(t, e, &dx));
  if (c->stride == 1 && c->pad >= 0 && c->pad <= k - 1 && c->w.shape[3] == k) {
    DG_TRY(flipped_kernel(t, &c->w, &wf));
    int q = (int)(k - 1 - c->pad);
    dg_conv2d_params tp = {.pad_h = q, .pad_w = q};
    DG_TRY(dg_conv2d(s, &dy, &wf, NULL, &tp, &dx));
  } else {
    DG_TRY(dg_conv2d_backward(s, &dy, &c->w, &p, &dx));
  }
  return dg_tape_accumulate(t, s, &e->in[0], &dx, true);
}

// y = x W^T + b: dx = dy W.
static dg_status linear_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_nn_linear *l = e->layer;
  int64_t n = l->w.shape[0], k = l->w.shape[1], m = dg_tensor_numel(&e->in[0]) / k;
  int64_t ys[2] = {m, n}, xs[2] = {m, k};
  dg_tensor dy, dx;
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), 2, ys, &dy));
  DG_TRY(dg_tape_alloc(t, e->in[0].dtype, 2, xs, &dx));
  DG_TRY(dg_matmul(s, &dy, false, &l->w, false, &dx));
  return dg_tape_accumulate(t, s, &e->in[0], &dx, true);
}

static dg_status norm_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_nn_norm *n = e->layer;
  dg_tensor dy, dx;
  DG_TRY(dg_tensor_reshape(dg_tape_grad(t, &e->out[0]), e->in[0].ndim, e->in[0].shape, &dy));
  DG_TRY(grad_input(t, e, &dx));
  if (n->groups) DG_TRY(dg_group_norm_backward(s, &e->in[0], &dy, n->groups, &n->g, &n->b, n->eps, e->ints[0], &dx));
  else DG_TRY(dg_layer_norm_backward(s, &e->in[0], &dy, &n->g, &n->b, n->eps, e->ints[0], &dx));
  return dg_tape_accumulate(t, s, &e->in[0], &dx, true);
}

static dg_status geglu_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  dg_tensor dx;
  DG_TRY(grad_input(t, e, &dx));
  DG_TRY(dg_geglu_backward(s, &e->in[0], dg_tape_grad(t, &e->out[0]), &dx));
  return dg_tape_accumulate(t, s, &e->in[0], &dx, true);
}

// in: q, k, v; out: o and the captured probabilities (if any); ints: heads, n_chosen, chosen_first
static dg_status attention_backward(dg_tape *t, dg_stream *s, const dg_tape_entry *e) {
  const dg_tensor *q = &e->in[0], *k = &e->in[1], *v = &e->in[2];
  dg_attention_grad_args a = {.heads = e->ints[0], .scale = e->scale, .d_out = dg_tape_grad(t, &e->out[0])};
  if (e->n_out > 1 && (a.gprobs = dg_tape_grad(t, &e->out[1]))) {
    a.n_chosen = e->ints[1];
    a.chosen_first = e->ints[2];
  }
  bool wk = a.d_out && dg_tape_tracks(t, k), wv = a.d_out && dg_tape_tracks(t, v);
  dg_tensor dq, dk, dv, g;
  if (a.d_out) {
    DG_TRY(dg_tensor_reshape(a.d_out, q->ndim, q->shape, &g));
    a.d_out = &g;
  }
  DG_TRY(dg_tape_alloc(t, q->dtype, q->ndim, q->shape, &dq));
  if (wk) DG_TRY(dg_tape_alloc(t, k->dtype, k->ndim, k->shape, &dk));
  if (wv) DG_TRY(dg_tape_alloc(t, v->dtype, v->ndim, v->shape, &dv));
  DG_TRY(dg_attention_backward(s, dg_tape_scratch(t), q, k, v, &a, &dq, wk ? &dk : NULL, wv ? &dv : NULL));
  if (dg_tape_tracks(t, q)) DG_TRY(dg_tape_accumulate(t, s, q, &dq, true));
  if (wk) DG_TRY(dg_tape_accumulate(t, s, k, &dk, true));
  if (wv) DG_TRY(dg_tape_accumulate(t, s, v, &dv, true));
  return DG_OK;
}

// Records a one-input layer op when a tape is set.
static dg_status record1(const dg_nn_ctx *nn, dg_tape_backward_fn fn, const void *layer, const dg_tensor *x,
                         const dg_tensor *out, int flag) {
  if (!dg_nn_tape(nn)) return DG_OK;
  dg_tape_entry e = {.backward = fn, .layer = layer, .in = {*x}, .n_in = 1, .out = {*out}, .n_out = 1, .ints = {flag}};
  return dg_tape_record(dg_nn_tape(nn), &e);
}

// out = a + b, recorded; with a tape the sum goes to a new tensor *out (the layers' residual adds
// overwrite a tensor that recorded entries read), without one into a.
static dg_status residual_add(const dg_nn_ctx *nn, dg_tensor *a, const dg_tensor *b) {
  if (!dg_nn_tape(nn)) return dg_binary(nn->s, DG_ADD, a, b, a);
  dg_tensor sum;
  DG_TRY(dg_nn_alloc(nn, a->ndim, a->shape, &sum));
  DG_TRY(dg_binary(nn->s, DG_ADD, a, b, &sum));
  DG_TRY(dg_tape_record_add(dg_nn_tape(nn), &sum, a, b));
  *a = sum;
  return DG_OK;
}

// out += b where no recorded entry reads out's old value (a convolution's output).
static dg_status add_into(const dg_nn_ctx *nn, dg_tensor *out, const dg_tensor *b) {
  DG_TRY(dg_binary(nn->s, DG_ADD, out, b, out));
  return dg_nn_tape(nn) ? dg_tape_record_add(dg_nn_tape(nn), out, out, b) : DG_OK;
}

static int fusion = -1; // -1: not yet read from DIRIGENT_FUSION

void dg_nn_set_fusion(bool on) { fusion = on; }

bool dg_nn_fusion(void) {
  if (fusion < 0) {
    const char *e = getenv("DIRIGENT_FUSION");
    fusion = !(e && !strcmp(e, "0"));
  }
  return fusion;
}

static bool fused(const dg_nn_ctx *nn) { return !dg_nn_tape(nn) && dg_nn_fusion(); }

// GEGLU in its linear's epilogue (dg_linear_geglu) where fused; DIRIGENT_NO_GEGLU_FUSION=1 keeps the linear and
// dg_geglu apart while the other fusions stay (A/B timing).
static bool geglu_fused(const dg_nn_ctx *nn) {
  static int env = -1;
  if (env < 0) env = getenv("DIRIGENT_NO_GEGLU_FUSION") == NULL;
  return env && fused(nn);
}

// Writes into a preallocated out.
static dg_status conv_into(const dg_nn_ctx *nn, const dg_nn_conv *c, const dg_tensor *x, dg_tensor *out) {
  dg_conv2d_params p = conv_params(c);
  DG_TRY(dg_conv2d(nn->s, x, &c->w, &c->b, &p, out));
  return record1(nn, conv_backward, c, x, out, 0);
}

// out = conv(x) + res: one dispatch when fused, else the convolution and a recorded add.
static dg_status conv_res_into(const dg_nn_ctx *nn, const dg_nn_conv *c, const dg_tensor *x, const dg_tensor *res,
                               dg_tensor *out) {
  if (!fused(nn)) {
    DG_TRY(conv_into(nn, c, x, out));
    return add_into(nn, out, res);
  }
  dg_conv2d_params p = conv_params(c);
  return dg_conv2d_ex(nn->s, x, &c->w, &c->b, &p, res, out);
}

dg_status dg_nn_conv_forward(const dg_nn_ctx *nn, const dg_nn_conv *c, const dg_tensor *x, dg_tensor *out) {
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "conv: input must be [N, C, H, W]");
  int64_t k = c->w.shape[2];
  int pt = c->pad < 0 ? 0 : c->pad, pb = c->pad < 0 ? 1 : c->pad;
  int64_t oh = (x->shape[2] + pt + pb - k) / c->stride + 1, ow = (x->shape[3] + pt + pb - k) / c->stride + 1;
  int64_t shape[4] = {x->shape[0], c->w.shape[0], oh, ow};
  DG_TRY(dg_nn_alloc(nn, 4, shape, out));
  return conv_into(nn, c, x, out);
}

dg_status dg_nn_linear_load(const dg_nn_src *src, const char *prefix, bool bias, dg_nn_linear *out) {
  memset(out, 0, sizeof *out);
  DG_TRY(load(src, prefix, ".weight", &out->w));
  if (out->w.ndim == 3 && out->w.shape[2] == 1) { // Conv1d kernel 1
    int64_t ws[2] = {out->w.shape[0], out->w.shape[1]};
    DG_TRY(dg_tensor_reshape(&out->w, 2, ws, &out->w));
  }
  if (out->w.ndim != 2) return dg_fail(DG_ERR_FORMAT, "nn: %s.weight is not a matrix", prefix);
  out->has_bias = bias;
  return bias ? load(src, prefix, ".bias", &out->b) : DG_OK;
}

dg_status dg_nn_linear_forward(const dg_nn_ctx *nn, const dg_nn_linear *l, const dg_tensor *x, dg_tensor *out) {
  int64_t shape[DG_MAX_DIMS];
  memcpy(shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = l->w.shape[0];
  DG_TRY(dg_nn_alloc(nn, x->ndim, shape, out));
  DG_TRY(dg_linear(nn->s, x, &l->w, l->has_bias ? &l->b : NULL, out));
  return record1(nn, linear_backward, l, x, out, 0);
}

// x += linear(in) (a residual sub-layer's output projection): fused, one dispatch writing x in
// place; else into a new tensor and residual_add (which keeps x for the tape).
static dg_status linear_res(const dg_nn_ctx *nn, const dg_nn_linear *l, const dg_tensor *in, dg_tensor *x) {
  if (fused(nn)) return dg_linear_ex(nn->s, in, &l->w, l->has_bias ? &l->b : NULL, x, x);
  dg_tensor y;
  DG_TRY(dg_nn_linear_forward(nn, l, in, &y));
  return residual_add(nn, x, &y);
}

dg_status dg_nn_norm_load(const dg_nn_src *src, const char *prefix, int groups, float eps, dg_nn_norm *out) {
  memset(out, 0, sizeof *out);
  out->groups = groups;
  out->eps = eps;
  DG_TRY(load(src, prefix, ".weight", &out->g));
  return load(src, prefix, ".bias", &out->b);
}

dg_status dg_nn_norm_forward(const dg_nn_ctx *nn, const dg_nn_norm *n, const dg_tensor *x, bool silu, dg_tensor *out) {
  DG_TRY(dg_nn_alloc(nn, x->ndim, x->shape, out));
  if (n->groups) DG_TRY(dg_group_norm(nn->s, x, n->groups, &n->g, &n->b, n->eps, silu, out));
  else DG_TRY(dg_layer_norm(nn->s, x, &n->g, &n->b, n->eps, out));
  if (!n->groups && silu) DG_TRY(dg_unary(nn->s, DG_SILU, out, out, 0, 0));
  return record1(nn, norm_backward, n, x, out, silu);
}

// ---- UNet ResBlock ----

dg_status dg_nn_resblock_load(const dg_nn_src *src, const char *prefix, dg_nn_resblock *out) {
  char p[NAME_MAX_LEN];
  memset(out, 0, sizeof *out);
#define SUB(fmt) (snprintf(p, sizeof p, "%s" fmt, prefix), p)
  DG_TRY(dg_nn_norm_load(src, SUB(".in_layers.0"), 32, 1e-5f, &out->in_norm));
  DG_TRY(dg_nn_conv_load(src, SUB(".in_layers.2"), 1, 1, &out->in_conv));
  DG_TRY(dg_nn_linear_load(src, SUB(".emb_layers.1"), true, &out->emb));
  DG_TRY(dg_nn_norm_load(src, SUB(".out_layers.0"), 32, 1e-5f, &out->out_norm));
  DG_TRY(dg_nn_conv_load(src, SUB(".out_layers.3"), 1, 1, &out->out_conv));
  out->has_skip = dg_nn_has(src, prefix, ".skip_connection.weight");
  if (out->has_skip) DG_TRY(dg_nn_conv_load(src, SUB(".skip_connection"), 1, 0, &out->skip));
#undef SUB
  out->cout = (int)out->in_conv.w.shape[0];
  return DG_OK;
}

// Block forwards allocate their output first and release their temporaries when recorded (the
// stream orders reuse of that memory), so a network's scratch holds little more than the block outputs.
static dg_status resblock_body(const dg_nn_ctx *nn, const dg_nn_resblock *r, const dg_tensor *x,
                               const dg_tensor *emb_silu, dg_tensor *out) {
  dg_tensor h, h2, e, e4, sk;
  DG_TRY(dg_nn_norm_forward(nn, &r->in_norm, x, true, &h));
  DG_TRY(dg_nn_conv_forward(nn, &r->in_conv, &h, &h2));
  DG_TRY(dg_nn_linear_forward(nn, &r->emb, emb_silu, &e));
  int64_t es[4] = {e.shape[0], e.shape[1], 1, 1};
  DG_TRY(dg_tensor_reshape(&e, 4, es, &e4));
  DG_TRY(dg_binary(nn->s, DG_ADD, &h2, &e4, &h2)); // the embedding is constant: h2 keeps its gradient
  DG_TRY(dg_nn_norm_forward(nn, &r->out_norm, &h2, true, &h));
  if (r->has_skip) DG_TRY(dg_nn_conv_forward(nn, &r->skip, x, &sk));
  return conv_res_into(nn, &r->out_conv, &h, r->has_skip ? &sk : x, out);
}

dg_status dg_nn_resblock_forward(const dg_nn_ctx *nn, const dg_nn_resblock *r, const dg_tensor *x,
                                 const dg_tensor *emb_silu, dg_tensor *out) {
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "resblock: input must be [N, C, H, W]");
  int64_t os[4] = {x->shape[0], r->out_conv.w.shape[0], x->shape[2], x->shape[3]};
  DG_TRY(dg_nn_alloc(nn, 4, os, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = resblock_body(nn, r, x, emb_silu, out);
  dg_nn_scope_end(nn, mark);
  return st;
}

// ---- SpatialTransformer ----

// Loads the bias-free projections `names` of `prefix` (2-D weights of one shape) into one stacked tensor
// [n, out, in]; each linear's weight is its view.
static dg_status load_stacked(const dg_nn_src *src, const char *prefix, const char *const *names, int n,
                              dg_tensor *stack, dg_nn_linear **out) {
  char name[NAME_MAX_LEN];
  const dg_weight *t[3];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "%s.%s.weight", prefix, names[i]);
    t[i] = dg_weights_find(src->w, name);
  }
  int64_t shape[3] = {n, t[0]->shape[0], t[0]->shape[1]}, per = shape[1] * shape[2];
  DG_TRY(dg_tensor_alloc(src->arena, src->dtype, 3, shape, stack));
  float *buf = malloc((size_t)per * sizeof *buf);
  if (!buf) return dg_memory_fail("a projection's weights", (uint64_t)per * sizeof *buf);
  dg_status st = DG_OK;
  for (int i = 0; i < n && st == DG_OK; i++) {
    memset(out[i], 0, sizeof *out[i]);
    st = dg_weights_read(src->w, t[i], DG_F32, buf, (size_t)per * sizeof *buf);
    if (st == DG_OK) st = dg_tensor_items(stack, i, 1, &out[i]->w);
    if (st == DG_OK) st = dg_tensor_reshape(&out[i]->w, 2, shape + 1, &out[i]->w);
    if (st == DG_OK) st = dg_tensor_write_f32(&out[i]->w, buf);
  }
  free(buf);
  return st;
}

// True if the named weights all exist and are matrices of one shape.
static bool same_matrices(const dg_nn_src *src, const char *prefix, const char *const *names, int n) {
  char name[NAME_MAX_LEN];
  const dg_weight *t0 = NULL;
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "%s.%s.weight", prefix, names[i]);
    const dg_weight *t = dg_weights_find(src->w, name);
    if (!t || t->ndim != 2 || (t0 && (t->shape[0] != t0->shape[0] || t->shape[1] != t0->shape[1]))) return false;
    if (!t0) t0 = t;
  }
  return true;
}

static dg_status attn_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_attn *out) {
  char p[NAME_MAX_LEN];
  static const char *const names[3] = {"to_q", "to_k", "to_v"};
  dg_nn_linear *lin[3] = {&out->q, &out->k, &out->v};
  out->heads = heads;
  // q, k, v stacked where their shapes agree (self-attention), else k and v (cross-attention's context).
  out->n_stacked = same_matrices(src, prefix, names, 3) ? 3 : same_matrices(src, prefix, names + 1, 2) ? 2 : 0;
  if (out->n_stacked) DG_TRY(load_stacked(src, prefix, names + 3 - out->n_stacked, out->n_stacked, &out->qkv,
                                          lin + 3 - out->n_stacked));
  for (int i = 0; i < 3 - out->n_stacked; i++) {
    snprintf(p, sizeof p, "%s.%s", prefix, names[i]);
    DG_TRY(dg_nn_linear_load(src, p, false, lin[i]));
  }
  snprintf(p, sizeof p, "%s.to_out.0", prefix);
  DG_TRY(dg_nn_linear_load(src, p, true, &out->o));
  if (heads < 1 || out->q.w.shape[0] % heads)
    return dg_fail(DG_ERR_ARG, "nn: %s: width %lld not divisible by %d heads", prefix, (long long)out->q.w.shape[0],
                   heads);
  return DG_OK;
}

// Where an attention sub-layer sits: its kind, the model's transformer index and block, and the
// image size of its tokens (hooks see these).
typedef struct attn_site {
  dg_nn_attn_kind kind;
  int layer, block, attn; // attn: 2 * block + 0 (attn1) or 1 (attn2)
  int64_t h, w;
} attn_site;

// The stacked projections' items first.. of y [S, ..., out] as [..., out] tensors.
static dg_status stacked_items(const dg_tensor *y, int first, int n, dg_tensor **out) {
  for (int i = 0; i < n; i++) {
    DG_TRY(dg_tensor_items(y, first + i, 1, out[i]));
    DG_TRY(dg_tensor_reshape(out[i], y->ndim - 1, y->shape + 1, out[i]));
  }
  return DG_OK;
}

// q = x Wq^T, k = ctx Wk^T, v = ctx Wv^T: fused, the projections of one input in one GEMM (q, k and v of
// self-attention, k and v of cross-attention); DIRIGENT_NO_QKV_FUSION=1 keeps three linears.
static dg_status attn_project(const dg_nn_ctx *nn, const dg_nn_attn *a, const dg_tensor *ln_x, const dg_tensor *ctx,
                              dg_tensor *q, dg_tensor *k, dg_tensor *v) {
  static int env = -1;
  if (env < 0) env = getenv("DIRIGENT_NO_QKV_FUSION") == NULL;
  int n = env && fused(nn) ? (a->n_stacked == 3 && ctx != ln_x ? 2 : a->n_stacked) : 0;
  if (n < 3) DG_TRY(dg_nn_linear_forward(nn, &a->q, ln_x, q));
  if (!n) {
    DG_TRY(dg_nn_linear_forward(nn, &a->k, ctx, k));
    return dg_nn_linear_forward(nn, &a->v, ctx, v);
  }
  const dg_tensor *x = n == 3 ? ln_x : ctx;
  int64_t shape[DG_MAX_DIMS];
  shape[0] = n;
  memcpy(shape + 1, x->shape, (size_t)(x->ndim - 1) * sizeof *shape);
  shape[x->ndim] = a->qkv.shape[1];
  dg_tensor w = a->qkv, y;
  DG_TRY(dg_tensor_items(&a->qkv, a->n_stacked - n, n, &w));
  DG_TRY(dg_nn_alloc(nn, x->ndim + 1, shape, &y));
  DG_TRY(dg_linear_stacked(nn->s, x, &w, &y));
  dg_tensor *outs[3] = {q, k, v};
  return stacked_items(&y, 0, n, outs + 3 - n);
}

// x += attn(ln_x, ctx) where ln_x is the normalised x and ctx the keys' source (ln_x for
// self-attention), with the hooks that apply to this site.
static dg_status attn_forward(const dg_nn_ctx *nn, const dg_nn_attn *a, const dg_tensor *ln_x, const dg_tensor *ctx,
                              attn_site site, dg_tensor *x) {
  dg_tensor q, k, v, o, probs;
  DG_TRY(attn_project(nn, a, ln_x, ctx, &q, &k, &v));
  DG_TRY(dg_nn_alloc(nn, q.ndim, q.shape, &o));
  dg_attention_args args = {.heads = a->heads, .scale = 1.0f / sqrtf((float)(q.shape[2] / a->heads))};
  const dg_nn_hooks *hk = nn->hooks;
  const dg_nn_attn_capture *cap = hk && site.kind == DG_NN_CROSS_ATTN ? hk->attn_capture : NULL;
  if (cap && (cap->n_tokens < 1 || site.layer < 0 || site.layer > 63 || !(cap->layers >> site.layer & 1))) cap = NULL;
  if (cap) {
    int64_t ps[3] = {q.shape[0] * a->heads, q.shape[1], cap->n_tokens};
    DG_TRY(dg_nn_alloc(nn, 3, ps, &probs));
    args.chosen_first = cap->first_token;
    args.n_chosen = cap->n_tokens;
    args.probs = &probs;
  }
  if (hk && hk->temporal_bias && site.kind == DG_NN_TEMPORAL_ATTN)
    DG_TRY(hk->temporal_bias(hk->temporal_user, site.layer, site.attn, site.h, site.w, &q, &k, a->heads, &args.bias));
  DG_TRY(dg_attention(nn->s, &q, &k, &v, &args, &o));
  if (dg_nn_tape(nn)) {
    if (args.bias) return dg_fail(DG_ERR_UNSUPPORTED, "nn: attention with a bias has no backward");
    dg_tape_entry e = {.backward = attention_backward, .in = {q, k, v}, .n_in = 3, .out = {o}, .n_out = 1,
                       .ints = {a->heads, cap ? cap->n_tokens : 0, cap ? cap->first_token : 0},
                       .scale = args.scale};
    if (cap) e.out[e.n_out++] = probs;
    DG_TRY(dg_tape_record(dg_nn_tape(nn), &e));
  }
  if (cap) DG_TRY(cap->fn(cap->user, site.layer, site.block, site.h, site.w, &probs));
  return linear_res(nn, &a->o, &o, x);
}

dg_status dg_nn_transformer_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_transformer *out) {
  char p[NAME_MAX_LEN];
  memset(out, 0, sizeof *out);
  snprintf(p, sizeof p, "%s.norm", prefix);
  DG_TRY(dg_nn_norm_load(src, p, 32, 1e-6f, &out->norm));
  snprintf(p, sizeof p, "%s.proj_in.weight", prefix);
  const dg_weight *pw = dg_weights_find(src->w, p);
  if (!pw) return dg_fail(DG_ERR_FORMAT, "nn: the checkpoint has no tensor %s", p);
  out->linear_proj = pw->ndim == 2 || pw->ndim == 3; // Linear, or a Conv1d 1x1 over tokens
  snprintf(p, sizeof p, "%s.proj_in", prefix);
  if (out->linear_proj)
    DG_TRY(dg_nn_linear_load(src, p, true, &out->proj_in_l));
  else
    DG_TRY(dg_nn_conv_load(src, p, 1, 0, &out->proj_in_c));
  snprintf(p, sizeof p, "%s.proj_out", prefix);
  if (out->linear_proj)
    DG_TRY(dg_nn_linear_load(src, p, true, &out->proj_out_l));
  else
    DG_TRY(dg_nn_conv_load(src, p, 1, 0, &out->proj_out_c));
  out->inner = (int)pw->shape[0];
  for (int d = 0;; d++) {
    char bp[NAME_MAX_LEN];
    snprintf(bp, sizeof bp, "%s.transformer_blocks.%d", prefix, d);
    if (!dg_nn_has(src, bp, ".norm1.weight")) break;
    if (d == DG_NN_MAX_DEPTH) return dg_fail(DG_ERR_UNSUPPORTED, "nn: %s: more than %d blocks", prefix, d);
    dg_nn_tblock *b = &out->blocks[d];
    const char *norms[3] = {"norm1", "norm2", "norm3"};
    dg_nn_norm *nd[3] = {&b->norm1, &b->norm2, &b->norm3};
    for (int i = 0; i < 3; i++) {
      snprintf(p, sizeof p, "%s.%s", bp, norms[i]);
      DG_TRY(dg_nn_norm_load(src, p, 0, 1e-5f, nd[i]));
    }
    snprintf(p, sizeof p, "%s.attn1", bp);
    DG_TRY(attn_load(src, p, heads, &b->attn1));
    snprintf(p, sizeof p, "%s.attn2", bp);
    DG_TRY(attn_load(src, p, heads, &b->attn2));
    snprintf(p, sizeof p, "%s.ff.net.0.proj", bp);
    DG_TRY(dg_nn_linear_load(src, p, true, &b->ff_in));
    snprintf(p, sizeof p, "%s.ff.net.2", bp);
    DG_TRY(dg_nn_linear_load(src, p, true, &b->ff_out));
    out->depth = d + 1;
  }
  if (!out->depth) return dg_fail(DG_ERR_FORMAT, "nn: %s has no transformer blocks", prefix);
  return DG_OK;
}

dg_status dg_nn_transformer_blocks(const dg_nn_ctx *nn, const dg_nn_transformer *t, dg_tensor *tok,
                                   const dg_tensor *context, int64_t h, int64_t w) {
  dg_tensor ln, f, g;
  bool temporal = context == NULL;
  for (int d = 0; d < t->depth; d++) {
    const dg_nn_tblock *b = &t->blocks[d];
    attn_site first = {temporal ? DG_NN_TEMPORAL_ATTN : DG_NN_SELF_ATTN, t->index, d, 2 * d, h, w}, second = first;
    second.kind = temporal ? DG_NN_TEMPORAL_ATTN : DG_NN_CROSS_ATTN;
    second.attn = 2 * d + 1;
    DG_TRY(dg_nn_norm_forward(nn, &b->norm1, tok, false, &ln));
    DG_TRY(attn_forward(nn, &b->attn1, &ln, &ln, first, tok));
    DG_TRY(dg_nn_norm_forward(nn, &b->norm2, tok, false, &ln));
    DG_TRY(attn_forward(nn, &b->attn2, &ln, temporal ? &ln : context, second, tok));
    DG_TRY(dg_nn_norm_forward(nn, &b->norm3, tok, false, &ln));
    int64_t gs[3] = {tok->shape[0], tok->shape[1], b->ff_in.w.shape[0] / 2};
    if (geglu_fused(nn)) { // the [.., 2F] pre-activation stays in registers
      DG_TRY(dg_nn_alloc(nn, 3, gs, &g));
      DG_TRY(dg_linear_geglu(nn->s, &ln, &b->ff_in.w, b->ff_in.has_bias ? &b->ff_in.b : NULL, &g));
    } else {
      DG_TRY(dg_nn_linear_forward(nn, &b->ff_in, &ln, &f));
      DG_TRY(dg_nn_alloc(nn, 3, gs, &g));
      DG_TRY(dg_geglu(nn->s, &f, &g));
      DG_TRY(record1(nn, geglu_backward, NULL, &f, &g, 0));
    }
    DG_TRY(linear_res(nn, &b->ff_out, &g, tok));
  }
  return DG_OK;
}

static dg_status transformer_body(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x,
                                  const dg_tensor *context, dg_tensor *out) {
  int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
  dg_tensor h, h2, tok;
  DG_TRY(dg_nn_norm_forward(nn, &t->norm, x, false, &h));
  int64_t ts[3] = {n, hw, t->inner};
  DG_TRY(dg_nn_alloc(nn, 3, ts, &tok));
  if (t->linear_proj) {
    int64_t s3[3] = {n, hw, c};
    DG_TRY(dg_nn_alloc(nn, 3, s3, &h2));
    DG_TRY(transpose(nn, &h, n, c, hw, &h2));
    DG_TRY(dg_nn_linear_forward(nn, &t->proj_in_l, &h2, &tok));
  } else {
    DG_TRY(dg_nn_conv_forward(nn, &t->proj_in_c, &h, &h2));
    DG_TRY(transpose(nn, &h2, n, t->inner, hw, &tok));
  }
  DG_TRY(dg_nn_transformer_blocks(nn, t, &tok, context, x->shape[2], x->shape[3]));
  if (t->linear_proj) {
    DG_TRY(dg_nn_linear_forward(nn, &t->proj_out_l, &tok, &h2));
    DG_TRY(transpose(nn, &h2, n, hw, c, out));
  } else {
    int64_t s4[4] = {n, t->inner, x->shape[2], x->shape[3]};
    DG_TRY(dg_nn_alloc(nn, 4, s4, &h2));
    DG_TRY(transpose(nn, &tok, n, hw, t->inner, &h2));
    return conv_res_into(nn, &t->proj_out_c, &h2, x, out);
  }
  return add_into(nn, out, x);
}

dg_status dg_nn_transformer_forward(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x,
                                    const dg_tensor *context, dg_tensor *out) {
  char sx[96], sc[96];
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "transformer: input must be [N*F, C, H, W]");
  const dg_tensor *ctx = dg_nn_context(nn, context);
  if (ctx->ndim != 3 || ctx->shape[0] != x->shape[0])
    return dg_fail(DG_ERR_ARG, "transformer: context %s must be [%lld, L, D] for x %s",
                   dg_shape_str(ctx, sc, sizeof sc), (long long)x->shape[0], dg_shape_str(x, sx, sizeof sx));
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = transformer_body(nn, t, x, ctx, out);
  dg_nn_scope_end(nn, mark);
  return st;
}

// ---- VAE blocks ----

dg_status dg_nn_vae_res_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_res *out) {
  char p[NAME_MAX_LEN];
  memset(out, 0, sizeof *out);
#define SUB(fmt) (snprintf(p, sizeof p, "%s" fmt, prefix), p)
  DG_TRY(dg_nn_norm_load(src, SUB(".norm1"), 32, 1e-6f, &out->norm1));
  DG_TRY(dg_nn_conv_load(src, SUB(".conv1"), 1, 1, &out->conv1));
  DG_TRY(dg_nn_norm_load(src, SUB(".norm2"), 32, 1e-6f, &out->norm2));
  DG_TRY(dg_nn_conv_load(src, SUB(".conv2"), 1, 1, &out->conv2));
  out->has_nin = dg_nn_has(src, prefix, ".nin_shortcut.weight");
  if (out->has_nin) DG_TRY(dg_nn_conv_load(src, SUB(".nin_shortcut"), 1, 0, &out->nin));
#undef SUB
  return DG_OK;
}

static dg_status vae_res_body(const dg_nn_ctx *nn, const dg_nn_vae_res *r, const dg_tensor *x, dg_tensor *out) {
  dg_tensor h, h2, sk;
  DG_TRY(dg_nn_norm_forward(nn, &r->norm1, x, true, &h));
  DG_TRY(dg_nn_conv_forward(nn, &r->conv1, &h, &h2));
  DG_TRY(dg_nn_norm_forward(nn, &r->norm2, &h2, true, &h));
  if (r->has_nin) DG_TRY(dg_nn_conv_forward(nn, &r->nin, x, &sk));
  return conv_res_into(nn, &r->conv2, &h, r->has_nin ? &sk : x, out);
}

dg_status dg_nn_vae_res_forward(const dg_nn_ctx *nn, const dg_nn_vae_res *r, const dg_tensor *x, dg_tensor *out) {
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "vae resblock: input must be [N, C, H, W]");
  if (dg_nn_tape(nn)) return dg_fail(DG_ERR_UNSUPPORTED, "vae resblock: no backward (a gradient tape is set)");
  int64_t os[4] = {x->shape[0], r->conv2.w.shape[0], x->shape[2], x->shape[3]};
  DG_TRY(dg_nn_alloc(nn, 4, os, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = vae_res_body(nn, r, x, out);
  dg_nn_scope_end(nn, mark);
  return st;
}

dg_status dg_nn_vae_attn_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_attn *out) {
  char p[NAME_MAX_LEN];
  memset(out, 0, sizeof *out);
#define SUB(fmt) (snprintf(p, sizeof p, "%s" fmt, prefix), p)
  DG_TRY(dg_nn_norm_load(src, SUB(".norm"), 32, 1e-6f, &out->norm));
  DG_TRY(dg_nn_conv_load(src, SUB(".q"), 1, 0, &out->q));
  DG_TRY(dg_nn_conv_load(src, SUB(".k"), 1, 0, &out->k));
  DG_TRY(dg_nn_conv_load(src, SUB(".v"), 1, 0, &out->v));
  DG_TRY(dg_nn_conv_load(src, SUB(".proj_out"), 1, 0, &out->proj));
#undef SUB
  return DG_OK;
}

static dg_status vae_attn_body(const dg_nn_ctx *nn, const dg_nn_vae_attn *a, const dg_tensor *x, dg_tensor *out) {
  int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
  dg_tensor h, q, k, v, qt, kt, vt, o, ot;
  DG_TRY(dg_nn_norm_forward(nn, &a->norm, x, false, &h));
  DG_TRY(dg_nn_conv_forward(nn, &a->q, &h, &q));
  DG_TRY(dg_nn_conv_forward(nn, &a->k, &h, &k));
  DG_TRY(dg_nn_conv_forward(nn, &a->v, &h, &v));
  int64_t ts[3] = {n, hw, c};
  DG_TRY(dg_nn_alloc(nn, 3, ts, &qt));
  DG_TRY(dg_nn_alloc(nn, 3, ts, &kt));
  DG_TRY(dg_nn_alloc(nn, 3, ts, &vt));
  DG_TRY(dg_nn_alloc(nn, 3, ts, &o));
  DG_TRY(transpose(nn, &q, n, c, hw, &qt));
  DG_TRY(transpose(nn, &k, n, c, hw, &kt));
  DG_TRY(transpose(nn, &v, n, c, hw, &vt));
  dg_attention_args args = {.heads = 1, .scale = 1.0f / sqrtf((float)c)};
  DG_TRY(dg_attention(nn->s, &qt, &kt, &vt, &args, &o));
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, &ot));
  DG_TRY(transpose(nn, &o, n, hw, c, &ot));
  return conv_res_into(nn, &a->proj, &ot, x, out);
}

dg_status dg_nn_vae_attn_forward(const dg_nn_ctx *nn, const dg_nn_vae_attn *a, const dg_tensor *x, dg_tensor *out) {
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "vae attention: input must be [N, C, H, W]");
  if (dg_nn_tape(nn)) return dg_fail(DG_ERR_UNSUPPORTED, "vae attention: no backward (a gradient tape is set)");
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = vae_attn_body(nn, a, x, out);
  dg_nn_scope_end(nn, mark);
  return st;
}

void dg_nn_timestep_embedding(const float *t, int n, int dim, float *out) {
  int half = dim / 2;
  const float c = (float)-log(10000.0);
  for (int b = 0; b < n; b++) {
    float *o = out + (size_t)b * dim;
    for (int i = 0; i < half; i++) {
      float arg = t[b] * expf(c * (float)i / (float)half);
      o[i] = cosf(arg);
      o[half + i] = sinf(arg);
    }
    if (dim % 2) o[dim - 1] = 0;
  }
}
