#include "dg_tar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_matmul.h"
#include "dg_memory.h"
#include "dg_norm.h"
#include "dg_reduce.h"

dg_status dg_tar_init(dg_tar *t, int n_res, const int64_t *widths, const float *sigmas, float scale, int until) {
  memset(t, 0, sizeof *t);
  if (n_res < 0 || n_res > DG_TAR_MAX_RES)
    return dg_fail(DG_ERR_ARG, "tar: %d resolutions (at most %d)", n_res, DG_TAR_MAX_RES);
  for (int i = 0; i < n_res; i++) {
    if (!(sigmas[i] > 0) || widths[i] < 1)
      return dg_fail(DG_ERR_ARG, "tar: resolution %d: width %lld, sigma %g (both must be positive)", i,
                     (long long)widths[i], (double)sigmas[i]);
    t->res_width[i] = widths[i];
    t->sigma[i] = sigmas[i];
  }
  t->n_res = n_res;
  t->scale = scale;
  t->until = until;
  t->active = n_res > 0;
  t->capture_layer = -1;
  return DG_OK;
}

void dg_tar_band(int frames, float sigma, float *out) {
  for (int i = 0; i < frames; i++)
    for (int j = 0; j < frames; j++) {
      float d = (float)(j - i) / sigma;
      out[i * frames + j] = expf(-0.5f * d * d);
    }
}

dg_status dg_tar_prepare(dg_tar *t, dg_stream *s, dg_arena *scratch, dg_arena *keep, dg_dtype dtype, int frames) {
  if (frames < 1) return dg_fail(DG_ERR_ARG, "tar: %d frames", frames);
  t->s = s;
  t->scratch = scratch;
  t->keep = keep;
  t->dtype = dtype;
  t->frames = frames;
  if (!t->n_res) return DG_OK;
  float *host = malloc((size_t)frames * frames * sizeof *host);
  if (!host) return dg_memory_fail("the TAR band", (uint64_t)frames * frames * sizeof *host);
  int64_t shape[2] = {frames, frames};
  dg_status st = dg_stream_finish(s);
  for (int i = 0; st == DG_OK && i < t->n_res; i++) {
    dg_tar_band(frames, t->sigma[i], host);
    st = dg_tensor_alloc(keep, dtype, 2, shape, &t->band[i]);
    if (st == DG_OK) st = dg_tensor_write_f32(&t->band[i], host);
  }
  free(host);
  return st;
}

void dg_tar_step(dg_tar *t, int step) { t->active = t->n_res > 0 && step <= t->until; }

// x [M, F, heads*d] -> [M*heads, F, d] (a copy unless heads = 1).
static dg_status split_heads(const dg_tar *t, const dg_tensor *x, int heads, dg_tensor *out) {
  int64_t m = x->shape[0], f = x->shape[1], d = x->shape[2] / heads;
  int64_t flat[3] = {m * heads, f, d};
  if (heads == 1) return dg_tensor_reshape(x, 3, flat, out);
  static const int perm[4] = {0, 2, 1, 3};
  int64_t v4[4] = {m, f, heads, d}, p4[4] = {m, heads, f, d};
  dg_tensor xv, p;
  DG_TRY(dg_tensor_reshape(x, 4, v4, &xv));
  DG_TRY(dg_tensor_alloc(t->scratch, x->dtype, 4, p4, &p));
  DG_TRY(dg_permute(t->s, &xv, perm, &p));
  return dg_tensor_reshape(&p, 3, flat, out);
}

dg_status dg_tar_bias(void *user, int layer, int attn, int64_t h, int64_t w, const dg_tensor *q, const dg_tensor *k,
                      int heads, const dg_tensor **bias) {
  dg_tar *t = user;
  (void)h;
  *bias = NULL;
  const dg_tensor *band = NULL;
  for (int i = 0; t->active && layer >= 0 && i < t->n_res; i++)
    if (t->res_width[i] == w) band = &t->band[i];
  bool cap = t->keep && layer >= 0 && layer == t->capture_layer && attn == t->capture_attn;
  if (!band && !cap) return DG_OK;
  if (!t->s || !t->scratch || q->ndim != 3 || q->shape[1] != t->frames)
    return dg_fail(DG_ERR_ARG, "tar: not prepared for %lld frames (dg_tar_prepare)", q->ndim == 3 ? (long long)q->shape[1] : 0LL);
  int64_t m = q->shape[0], f = q->shape[1], d = q->shape[2] / heads;
  int64_t ss[3] = {m * heads, f, f}, rs[3] = {m * heads, f, 1};
  dg_tensor qh, kh, s, rmax, b;
  DG_TRY(split_heads(t, q, heads, &qh));
  DG_TRY(split_heads(t, k, heads, &kh));
  DG_TRY(dg_tensor_alloc(t->scratch, q->dtype, 3, ss, &s));
  DG_TRY(dg_matmul(t->s, &qh, false, &kh, true, &s));
  DG_TRY(dg_unary(t->s, DG_SCALE, &s, &s, 1.0f / sqrtf((float)d), 0.0f)); // S, the attention's logits
  if (band) {
    DG_TRY(dg_tensor_alloc(t->scratch, q->dtype, 3, rs, &rmax));
    DG_TRY(dg_reduce(t->s, DG_REDUCE_MAX, &s, 2, &rmax));
    DG_TRY(dg_tensor_alloc(t->scratch, q->dtype, 3, ss, &b));
    DG_TRY(dg_unary(t->s, DG_SCALE, &s, &b, 0.0f, 0.0f));  // zeros of S's shape
    DG_TRY(dg_binary(t->s, DG_ADD, &b, band, &b));         // the band on every (pixel, head)
    DG_TRY(dg_binary(t->s, DG_MUL, &b, &rmax, &b));        // times each row's largest logit
    if (t->scale != 1.0f) DG_TRY(dg_unary(t->s, DG_SCALE, &b, &b, t->scale, 0.0f));
  }
  if (cap) {
    if (band) DG_TRY(dg_binary(t->s, DG_ADD, &s, &b, &s));
    bool same = t->has_capture && t->captured.dtype == q->dtype && t->captured.shape[0] == ss[0] &&
                t->captured.shape[1] == f;
    if (!same) DG_TRY(dg_tensor_alloc(t->keep, q->dtype, 3, ss, &t->captured)); // reused from step to step
    DG_TRY(dg_softmax(t->s, &s, 1.0f, &t->captured));
    t->has_capture = true;
  }
  if (band) {
    t->bias = b; // in the logits' batch order b = n * heads + head, as dg_attention takes it
    *bias = &t->bias;
  }
  return DG_OK;
}
