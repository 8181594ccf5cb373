#include "dg_segmenter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_model_util.h"
#include "dg_resample.h"

// Weight names are built with snprintf into fixed buffers; a truncated name is simply not found.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define BN_EPS 1e-5 // torch.nn.BatchNorm2d's default; train_segmenter.py keeps it

static int64_t wdim(const dg_nn_src *src, const char *name, int i) {
  const dg_weight *t = dg_weights_find(src->w, name);
  return t && i < t->ndim ? t->shape[i] : 0;
}

// conv `conv`.weight [cout, cin, k, k] (no bias) followed by BatchNorm `bn`.{weight, bias, running_mean,
// running_var}: w' = w g / sqrt(var + eps), b' = beta - mean g / sqrt(var + eps).
static dg_status load_conv_bn(const dg_nn_src *src, const char *conv, const char *bn, int64_t cin, int k, int stride,
                              dg_seg_conv *out) {
  char name[256];
  snprintf(name, sizeof name, "%s.weight", conv);
  int64_t cout = wdim(src, name, 0), ws[4] = {cout, cin, k, k}, vs[1] = {cout};
  float *w = NULL, *v[4] = {0};
  static const char *parts[4] = {"weight", "bias", "running_mean", "running_var"};
  dg_status s = dg_nn_read(src, name, 4, ws, &w);
  for (int i = 0; i < 4 && s == DG_OK; i++) {
    snprintf(name, sizeof name, "%s.%s", bn, parts[i]);
    s = dg_nn_read(src, name, 1, vs, &v[i]);
  }
  float *b = s == DG_OK ? malloc((size_t)cout * sizeof *b) : NULL;
  if (s == DG_OK && !b) s = dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) {
    int64_t per = cin * k * k;
    for (int64_t o = 0; o < cout; o++) {
      double scale = v[0][o] / sqrt((double)v[3][o] + BN_EPS);
      for (int64_t j = 0; j < per; j++)
        w[o * per + j] = (float)(w[o * per + j] * scale);
      b[o] = (float)(v[1][o] - v[2][o] * scale);
    }
    out->stride = stride;
    out->pad = k / 2;
    s = dg_nn_upload(src, 4, ws, w, &out->w);
    if (s == DG_OK) s = dg_nn_upload(src, 1, vs, b, &out->b);
  }
  free(w), free(b);
  for (int i = 0; i < 4; i++)
    free(v[i]);
  return s;
}

// ConvNormAct `prefix`: conv prefix.0, BatchNorm prefix.1.
static dg_status load_cna(const dg_nn_src *src, const char *prefix, int64_t cin, int k, int stride, dg_seg_conv *out) {
  char conv[200], bn[200];
  snprintf(conv, sizeof conv, "%s.0", prefix);
  snprintf(bn, sizeof bn, "%s.1", prefix);
  return load_conv_bn(src, conv, bn, cin, k, stride, out);
}

static dg_status load_block(const dg_nn_src *src, const char *prefix, int64_t cin, int stride, dg_seg_block *out) {
  char a[200], b[200];
  snprintf(a, sizeof a, "%s.conv1", prefix), snprintf(b, sizeof b, "%s.bn1", prefix);
  DG_TRY(load_conv_bn(src, a, b, cin, 3, stride, &out->conv1));
  int64_t c = out->conv1.w.shape[0];
  snprintf(a, sizeof a, "%s.conv2", prefix), snprintf(b, sizeof b, "%s.bn2", prefix);
  DG_TRY(load_conv_bn(src, a, b, c, 3, 1, &out->conv2));
  snprintf(a, sizeof a, "%s.downsample.0", prefix), snprintf(b, sizeof b, "%s.downsample.1", prefix);
  out->has_down = dg_nn_has(src, a, ".weight");
  if (!out->has_down && (stride != 1 || cin != c))
    return dg_fail(DG_ERR_FORMAT, "segmenter: %s changes the shape but has no downsample", prefix);
  return out->has_down ? load_conv_bn(src, a, b, cin, 1, stride, &out->down) : DG_OK;
}

// A 1x1 conv `name`.{weight [cout, cin, 1, 1], bias [cout]} without norm.
static dg_status load_conv_bias(const dg_nn_src *src, const char *name, int64_t cout, int64_t cin, dg_seg_conv *out) {
  char wn[200], bn[200];
  snprintf(wn, sizeof wn, "%s.weight", name), snprintf(bn, sizeof bn, "%s.bias", name);
  int64_t cs[4] = {cout, cin, 1, 1}, bs[1] = {cout};
  float *w, *b = NULL;
  DG_TRY(dg_nn_read(src, wn, 4, cs, &w));
  dg_status s = dg_nn_read(src, bn, 1, bs, &b);
  if (s == DG_OK) s = dg_nn_upload(src, 4, cs, w, &out->w);
  if (s == DG_OK) s = dg_nn_upload(src, 1, bs, b, &out->b);
  out->stride = 1;
  free(w);
  free(b);
  return s;
}

dg_status dg_segmenter_load(const dg_nn_src *src, const dg_model_config *cfg, dg_segmenter *out) {
  memset(out, 0, sizeof *out);
  const char *norm;
  DG_TRY(dg_model_config_string(cfg, "norm", "bn", &norm));
  if (strcmp(norm, "bn"))
    return dg_fail(DG_ERR_UNSUPPORTED, "segmenter: norm '%s' in %s (only the BatchNorm evaluation segmenter runs here)",
                   norm, cfg->source);
  static const int def_scales[4] = {1, 2, 3, 6};
  DG_TRY(dg_model_config_ints(cfg, "pool_scales", def_scales, 4, DG_SEG_MAX_SCALES, 1, 1024, out->pool_scales,
                              &out->n_scales));
  out->in_channels = (int)wdim(src, "backbone.stem.0.0.weight", 1);
  if (!out->in_channels) return dg_fail(DG_ERR_FORMAT, "segmenter: the checkpoint has no tensor backbone.stem.0.0.weight");
  DG_TRY(load_cna(src, "backbone.stem.0", out->in_channels, 3, 2, &out->stem1));
  out->stem = (int)out->stem1.w.shape[0];
  DG_TRY(load_cna(src, "backbone.stem.1", out->stem, 3, 1, &out->stem2));
  char p[200];
  int64_t cin = out->stem;
  for (int i = 0; i < DG_SEG_STAGES; i++) {
    for (int j = 0;; j++) {
      snprintf(p, sizeof p, "backbone.stages.%d.%d", i, j);
      if (!dg_nn_has(src, p, ".conv1.weight")) break;
      if (j == DG_SEG_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "segmenter: stage %d has over %d blocks", i, j);
      DG_TRY(load_block(src, p, j ? out->channels[i] : cin, j == 0 && i > 0 ? 2 : 1, &out->stage[i][j]));
      out->channels[i] = (int)out->stage[i][j].conv1.w.shape[0];
      out->blocks[i] = j + 1;
    }
    if (!out->blocks[i]) return dg_fail(DG_ERR_FORMAT, "segmenter: the checkpoint has no backbone.stages.%d", i);
    cin = out->channels[i];
  }
  int64_t top = out->channels[DG_SEG_STAGES - 1];
  for (int i = 0; i < out->n_scales; i++) {
    snprintf(p, sizeof p, "ppm.convs.%d", i);
    DG_TRY(load_cna(src, p, top, 1, 1, &out->ppm[i]));
  }
  snprintf(p, sizeof p, "ppm.convs.%d.0", out->n_scales);
  if (dg_nn_has(src, p, ".weight"))
    return dg_fail(DG_ERR_FORMAT, "segmenter: more pyramid-pooling convs than the %d pool_scales of %s", out->n_scales,
                   cfg->source);
  out->fpn_dim = (int)out->ppm[0].w.shape[0];
  int64_t d = out->fpn_dim;
  DG_TRY(load_cna(src, "ppm.bottleneck", top + out->n_scales * d, 3, 1, &out->bottleneck));
  for (int i = 0; i < DG_SEG_STAGES - 1; i++) {
    snprintf(p, sizeof p, "lateral.%d", i);
    DG_TRY(load_cna(src, p, out->channels[i], 1, 1, &out->lateral[i]));
    snprintf(p, sizeof p, "fpn_out.%d", i);
    DG_TRY(load_cna(src, p, d, 3, 1, &out->fpn_out[i]));
  }
  DG_TRY(load_cna(src, "fuse", DG_SEG_STAGES * d, 3, 1, &out->fuse));
  if (!dg_nn_has(src, "classifier", ".weight")) return dg_fail(DG_ERR_FORMAT, "segmenter: the checkpoint has no classifier");
  out->num_classes = (int)wdim(src, "classifier.weight", 0);
  if (out->num_classes > 255) return dg_fail(DG_ERR_UNSUPPORTED, "segmenter: %d classes (at most 255)", out->num_classes);
  DG_TRY(load_conv_bias(src, "classifier", out->num_classes, d, &out->classifier));
  if (!dg_nn_has(src, "refine.stem.0.0", ".weight")) return DG_OK;
  DG_TRY(load_cna(src, "refine.stem.0", out->in_channels, 3, 1, &out->refine_stem[0]));
  out->refine = (int)out->refine_stem[0].w.shape[0];
  DG_TRY(load_cna(src, "refine.stem.1", out->refine, 3, 1, &out->refine_stem[1]));
  DG_TRY(load_cna(src, "refine.head", out->refine + out->num_classes, 3, 1, &out->refine_head));
  return load_conv_bias(src, "refine.out", out->num_classes, out->refine, &out->refine_out);
}

static dg_status conv(const dg_nn_ctx *nn, const dg_seg_conv *c, const dg_tensor *x, bool relu, dg_tensor *out) {
  return dg_model_conv(nn, x, &c->w, &c->b, c->stride, c->pad, relu, out);
}

// x resized to h x w (bilinear, align_corners=False); x itself when the size is already that.
static dg_status resize(const dg_nn_ctx *nn, const dg_tensor *x, int64_t h, int64_t w, dg_tensor *out) {
  if (x->shape[2] == h && x->shape[3] == w) {
    *out = *x;
    return DG_OK;
  }
  int64_t shape[4] = {x->shape[0], x->shape[1], h, w};
  DG_TRY(dg_nn_alloc(nn, 4, shape, out));
  return dg_resize_bilinear(nn->s, x, false, out);
}

static dg_status block(const dg_nn_ctx *nn, const dg_seg_block *b, const dg_tensor *x, dg_tensor *out) {
  dg_tensor h, sk = *x;
  DG_TRY(conv(nn, &b->conv1, x, true, &h));
  DG_TRY(conv(nn, &b->conv2, &h, false, out));
  if (b->has_down) DG_TRY(conv(nn, &b->down, x, false, &sk));
  DG_TRY(dg_binary(nn->s, DG_ADD, out, &sk, out));
  return dg_unary(nn->s, DG_RELU, out, out, 0, 0);
}

// Concatenation along channels of n tensors [N, C_i, H, W].
static dg_status cat(const dg_nn_ctx *nn, const dg_tensor *const *parts, int n, dg_tensor *out) {
  int64_t shape[4] = {parts[0]->shape[0], 0, parts[0]->shape[2], parts[0]->shape[3]};
  for (int i = 0; i < n; i++)
    shape[1] += parts[i]->shape[1];
  DG_TRY(dg_nn_alloc(nn, 4, shape, out));
  return dg_concat(nn->s, parts, n, 1, out);
}

static dg_status ppm(const dg_nn_ctx *nn, const dg_segmenter *m, const dg_tensor *x, dg_tensor *out) {
  dg_tensor ups[DG_SEG_MAX_SCALES];
  const dg_tensor *parts[DG_SEG_MAX_SCALES + 1] = {x};
  for (int i = 0; i < m->n_scales; i++) {
    dg_tensor pooled, h;
    int64_t ps[4] = {x->shape[0], x->shape[1], m->pool_scales[i], m->pool_scales[i]};
    DG_TRY(dg_nn_alloc(nn, 4, ps, &pooled));
    DG_TRY(dg_adaptive_avg_pool(nn->s, x, &pooled));
    DG_TRY(conv(nn, &m->ppm[i], &pooled, true, &h));
    DG_TRY(resize(nn, &h, x->shape[2], x->shape[3], &ups[i]));
    parts[i + 1] = &ups[i];
  }
  dg_tensor c;
  DG_TRY(cat(nn, parts, m->n_scales + 1, &c));
  return conv(nn, &m->bottleneck, &c, true, out);
}

dg_status dg_segmenter_forward(const dg_nn_ctx *nn, const dg_segmenter *m, const dg_tensor *images, dg_tensor *logits) {
  char sh[96];
  if (images->ndim != 4 || images->shape[1] != m->in_channels || images->shape[2] < 32 || images->shape[3] < 32)
    return dg_fail(DG_ERR_ARG, "segmenter: images %s, expected [N, %d, H >= 32, W >= 32]",
                   dg_shape_str(images, sh, sizeof sh), m->in_channels);
  dg_tensor x, y, feats[DG_SEG_STAGES];
  DG_TRY(conv(nn, &m->stem1, images, true, &x));
  DG_TRY(conv(nn, &m->stem2, &x, true, &y));
  int64_t ps[4] = {y.shape[0], y.shape[1], (y.shape[2] - 1) / 2 + 1, (y.shape[3] - 1) / 2 + 1};
  DG_TRY(dg_nn_alloc(nn, 4, ps, &x));
  DG_TRY(dg_max_pool(nn->s, &y, 3, 2, 1, &x));
  for (int i = 0; i < DG_SEG_STAGES; i++) {
    for (int j = 0; j < m->blocks[i]; j++) {
      DG_TRY(block(nn, &m->stage[i][j], &x, &y));
      x = y;
    }
    feats[i] = x;
  }
  dg_tensor levels[DG_SEG_STAGES], top;
  DG_TRY(ppm(nn, m, &feats[DG_SEG_STAGES - 1], &top));
  levels[DG_SEG_STAGES - 1] = top;
  for (int i = DG_SEG_STAGES - 2; i >= 0; i--) {
    dg_tensor lat, up;
    DG_TRY(conv(nn, &m->lateral[i], &feats[i], true, &lat));
    DG_TRY(resize(nn, &top, lat.shape[2], lat.shape[3], &up));
    DG_TRY(dg_binary(nn->s, DG_ADD, &lat, &up, &lat));
    top = lat;
    DG_TRY(conv(nn, &m->fpn_out[i], &top, true, &levels[i]));
  }
  dg_tensor ups[DG_SEG_STAGES], fused, small;
  const dg_tensor *parts[DG_SEG_STAGES];
  for (int i = 0; i < DG_SEG_STAGES; i++) {
    DG_TRY(resize(nn, &levels[i], levels[0].shape[2], levels[0].shape[3], &ups[i]));
    parts[i] = &ups[i];
  }
  DG_TRY(cat(nn, parts, DG_SEG_STAGES, &x));
  DG_TRY(conv(nn, &m->fuse, &x, true, &fused));
  DG_TRY(conv(nn, &m->classifier, &fused, false, &small));
  if (!m->refine) return resize(nn, &small, images->shape[2], images->shape[3], logits);
  dg_tensor coarse, d, both, h;
  DG_TRY(resize(nn, &small, images->shape[2], images->shape[3], &coarse));
  DG_TRY(conv(nn, &m->refine_stem[0], images, true, &x));
  DG_TRY(conv(nn, &m->refine_stem[1], &x, true, &d));
  DG_TRY(cat(nn, (const dg_tensor *[]){&d, &coarse}, 2, &both));
  DG_TRY(conv(nn, &m->refine_head, &both, true, &h));
  DG_TRY(conv(nn, &m->refine_out, &h, false, logits));
  return dg_binary(nn->s, DG_ADD, logits, &coarse, logits);
}

void dg_segmenter_argmax(const float *logits, int num_classes, int64_t hw, uint8_t *classes) {
  for (int64_t i = 0; i < hw; i++) {
    int best = 0;
    for (int c = 1; c < num_classes; c++)
      if (logits[c * hw + i] > logits[best * hw + i]) best = c;
    classes[i] = (uint8_t)best;
  }
}

dg_status dg_segmenter_classify(const dg_nn_ctx *nn, const dg_segmenter *m, const uint8_t *rgb, int width, int height,
                                uint8_t *classes) {
  if (m->in_channels != 3) return dg_fail(DG_ERR_ARG, "segmenter: %d input channels, not RGB", m->in_channels);
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  int64_t hw = (int64_t)width * height;
  float *logits = malloc((size_t)(m->num_classes * hw) * sizeof *logits);
  dg_tensor images, out;
  dg_status s = logits ? dg_model_rgb_tensor(nn, &rgb, 1, width, height, &images)
                       : dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) s = dg_segmenter_forward(nn, m, &images, &out);
  if (s == DG_OK) s = dg_stream_finish(nn->s);
  else dg_stream_finish(nn->s);
  if (s == DG_OK) s = dg_tensor_read_f32(&out, logits);
  if (s == DG_OK) dg_segmenter_argmax(logits, m->num_classes, hw, classes);
  dg_arena_release(nn->scratch, mark);
  free(logits);
  return s;
}
