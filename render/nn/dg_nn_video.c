#include "dg_nn_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"

#define NAME_LEN 256
#pragma GCC diagnostic ignored "-Wformat-truncation"

// Checks x [N*F, C, H, W] against the context's frames; *n = N.
static dg_status video_check(const dg_nn_ctx *nn, const char *what, const dg_tensor *x, int64_t *n) {
  char sx[96];
  int64_t f = dg_nn_frames(nn);
  if (nn->hooks && nn->hooks->tape) return dg_fail(DG_ERR_UNSUPPORTED, "%s: temporal layers have no backward", what);
  if (x->ndim != 4 || x->shape[0] % f)
    return dg_fail(DG_ERR_ARG, "%s: x %s must be [N*%lld, C, H, W]", what, dg_shape_str(x, sx, sizeof sx), (long long)f);
  *n = x->shape[0] / f;
  return DG_OK;
}

// out [N, C, F, HW] = x [N*F, C, H, W] with frames and channels swapped (and back with swap = true:
// x [N, C, F, HW] -> out [N*F, C, H, W]); both are read through views.
static dg_status frames_channels(const dg_nn_ctx *nn, const dg_tensor *x, const dg_tensor *out, int64_t n,
                                 int64_t c, int64_t hw, bool back) {
  static const int perm[4] = {0, 2, 1, 3};
  int64_t f = dg_nn_frames(nn), fc[4] = {n, f, c, hw}, cf[4] = {n, c, f, hw};
  dg_tensor xv, ov;
  DG_TRY(dg_tensor_reshape(x, 4, back ? cf : fc, &xv));
  DG_TRY(dg_tensor_reshape(out, 4, back ? fc : cf, &ov));
  return dg_permute(nn->s, &xv, perm, &ov);
}

bool dg_nn_tconv_present(const dg_nn_src *src, const char *prefix) {
  return dg_nn_has(src, prefix, ".temopral_conv.conv1.0.weight");
}

// A temporal Conv3d's weight [C, C, 3, 1, 1] as the tap-major [3, C, C] of dg_conv_temporal's fast path.
static dg_status load_taps(const dg_nn_src *src, const char *name, dg_tensor *out) {
  const int64_t want[5] = {-1, -1, 3, 1, 1};
  float *w;
  DG_TRY(dg_nn_read(src, name, 5, want, &w));
  const dg_weight *t = dg_weights_find(src->w, name);
  int64_t c = t->shape[0], shape[3] = {3, c, c};
  dg_status s = c == t->shape[1] ? DG_OK : dg_fail(DG_ERR_FORMAT, "nn: %s must be [C, C, 3, 1, 1]", name);
  float *taps = s == DG_OK ? malloc((size_t)t->numel * sizeof *taps) : NULL;
  if (s == DG_OK && !taps) s = dg_memory_fail(name, (uint64_t)t->numel * sizeof *taps);
  if (s == DG_OK) {
    dg_conv_temporal_taps(w, c, c, 3, taps);
    s = dg_nn_upload(src, 3, shape, taps, out);
  }
  free(taps);
  free(w);
  return s;
}

dg_status dg_nn_tconv_load(const dg_nn_src *src, const char *prefix, dg_nn_tconv *out) {
  char p[NAME_LEN];
  memset(out, 0, sizeof *out);
  for (int i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s.temopral_conv.conv%d.0", prefix, i + 1);
    DG_TRY(dg_nn_norm_load(src, p, 32, 1e-5f, &out->norm[i]));
    int conv = i == 0 ? 2 : 3; // conv2..4 have a Dropout before their Conv3d
    snprintf(p, sizeof p, "%s.temopral_conv.conv%d.%d.weight", prefix, i + 1, conv);
    DG_TRY(load_taps(src, p, &out->w[i]));
    snprintf(p, sizeof p, "%s.temopral_conv.conv%d.%d.bias", prefix, i + 1, conv);
    DG_TRY(dg_weights_load_shaped(src->w, p, 1, &out->w[i].shape[1], src->arena, src->dtype, &out->b[i]));
  }
  return DG_OK;
}

static dg_status tconv_body(const dg_nn_ctx *nn, const dg_nn_tconv *c, const dg_tensor *x, int64_t n,
                            dg_tensor *out) {
  int64_t ch = x->shape[1], hw = x->shape[2] * x->shape[3], f = dg_nn_frames(nn);
  int64_t cf[4] = {n, ch, f, hw}, c5[5] = {n, ch, f, x->shape[2], x->shape[3]};
  dg_tensor a, cur, h, h5, y;
  DG_TRY(dg_nn_alloc(nn, 4, cf, &a));
  DG_TRY(frames_channels(nn, x, &a, n, ch, hw, false));
  cur = a;
  for (int i = 0; i < 4; i++) {
    DG_TRY(dg_nn_norm_forward(nn, &c->norm[i], &cur, true, &h));
    DG_TRY(dg_tensor_reshape(&h, 5, c5, &h5));
    DG_TRY(dg_nn_alloc(nn, 5, c5, &y));
    const dg_tensor *res = i == 3 && dg_nn_fusion() ? &a : NULL; // the residual, fused into the last conv
    DG_TRY(dg_conv_temporal(nn->s, &h5, &c->w[i], &c->b[i], 1, res, &y));
    DG_TRY(dg_tensor_reshape(&y, 4, cf, &cur));
  }
  if (!dg_nn_fusion()) DG_TRY(dg_binary(nn->s, DG_ADD, &cur, &a, &cur));
  return frames_channels(nn, &cur, out, n, ch, hw, true);
}

dg_status dg_nn_tconv_forward(const dg_nn_ctx *nn, const dg_nn_tconv *c, const dg_tensor *x, dg_tensor *out) {
  int64_t n;
  DG_TRY(video_check(nn, "temporal conv", x, &n));
  if (x->shape[1] != c->w[0].shape[2])
    return dg_fail(DG_ERR_ARG, "temporal conv: x has %lld channels, the weights %lld", (long long)x->shape[1],
                   (long long)c->w[0].shape[2]);
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = tconv_body(nn, c, x, n, out);
  dg_nn_scope_end(nn, mark);
  return st;
}

dg_status dg_nn_temporal_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_transformer *out) {
  DG_TRY(dg_nn_transformer_load(src, prefix, heads, out));
  if (!out->linear_proj)
    return dg_fail(DG_ERR_FORMAT, "nn: %s.proj_in of a temporal transformer must be a Linear or a Conv1d", prefix);
  for (int d = 0; d < out->depth; d++)
    if (out->blocks[d].attn2.k.w.shape[1] != out->inner)
      return dg_fail(DG_ERR_FORMAT, "nn: %s.transformer_blocks.%d.attn2 takes a context of %lld, not the %d-wide tokens "
                     "(a temporal transformer's attn2 is self-attention)", prefix, d,
                     (long long)out->blocks[d].attn2.k.w.shape[1], out->inner);
  out->index = -1;
  return DG_OK;
}

static dg_status temporal_body(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x, int64_t n,
                               dg_tensor *out) {
  static const int to_tokens[4] = {0, 3, 2, 1}, from_tokens[4] = {0, 2, 3, 1};
  int64_t ch = x->shape[1], hw = x->shape[2] * x->shape[3], f = dg_nn_frames(nn);
  int64_t cf[4] = {n, ch, f, hw}, pf[4] = {n, hw, f, ch}, tk[3] = {n * hw, f, ch}, fc[4] = {n, f, ch, hw};
  dg_tensor a, h, p, pv, tok, y, yv, ov;
  DG_TRY(dg_nn_alloc(nn, 4, cf, &a));
  DG_TRY(frames_channels(nn, x, &a, n, ch, hw, false));
  DG_TRY(dg_nn_norm_forward(nn, &t->norm, &a, false, &h));
  DG_TRY(dg_nn_alloc(nn, 4, pf, &p));
  DG_TRY(dg_permute(nn->s, &h, to_tokens, &p));
  DG_TRY(dg_tensor_reshape(&p, 3, tk, &pv));
  DG_TRY(dg_nn_linear_forward(nn, &t->proj_in_l, &pv, &tok));
  DG_TRY(dg_nn_transformer_blocks(nn, t, &tok, NULL, x->shape[2], x->shape[3]));
  DG_TRY(dg_nn_linear_forward(nn, &t->proj_out_l, &tok, &y));
  DG_TRY(dg_tensor_reshape(&y, 4, pf, &yv));
  DG_TRY(dg_tensor_reshape(out, 4, fc, &ov));
  DG_TRY(dg_permute(nn->s, &yv, from_tokens, &ov));
  return dg_binary(nn->s, DG_ADD, out, x, out);
}

dg_status dg_nn_temporal_forward(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x, dg_tensor *out) {
  int64_t n;
  DG_TRY(video_check(nn, "temporal transformer", x, &n));
  if (x->shape[1] != t->proj_in_l.w.shape[1])
    return dg_fail(DG_ERR_ARG, "temporal transformer: x has %lld channels, proj_in takes %lld", (long long)x->shape[1],
                   (long long)t->proj_in_l.w.shape[1]);
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, out));
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status st = temporal_body(nn, t, x, n, out);
  dg_nn_scope_end(nn, mark);
  return st;
}
