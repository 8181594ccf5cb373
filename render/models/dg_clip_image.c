#include "dg_clip_image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_matmul.h"
#include "dg_model_util.h"
#include "dg_norm.h"
#include "dg_reduce.h"

// Weight names are built with snprintf into fixed buffers; a truncated name is simply not found.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define GN_EPS 1e-5f // torch.nn.GroupNorm's default

static int64_t wdim(const dg_nn_src *src, const char *name, int i) {
  const dg_weight *t = dg_weights_find(src->w, name);
  return t && i < t->ndim ? t->shape[i] : 0;
}

static dg_status load(const dg_nn_src *src, const char *name, int ndim, const int64_t *shape, dg_tensor *out) {
  float *v;
  DG_TRY(dg_nn_read(src, name, ndim, shape, &v));
  dg_status s = dg_nn_upload(src, ndim, shape, v, out);
  free(v);
  return s;
}

// GroupNorm `prefix`.{weight, bias} of c channels.
static dg_status load_gn(const dg_nn_src *src, const char *prefix, int64_t c, dg_tensor *g, dg_tensor *b) {
  char name[256];
  int64_t shape[1] = {c};
  snprintf(name, sizeof name, "%s.weight", prefix);
  DG_TRY(load(src, name, 1, shape, g));
  snprintf(name, sizeof name, "%s.bias", prefix);
  return load(src, name, 1, shape, b);
}

static dg_status load_block(const dg_nn_src *src, const char *prefix, int64_t cin, int stride, int groups,
                            dg_clip_image_block *out) {
  char name[256];
  snprintf(name, sizeof name, "%s.conv1.weight", prefix);
  int64_t c = wdim(src, name, 0), s1[4] = {c, cin, 3, 3}, s2[4] = {c, c, 3, 3}, sk[4] = {c, cin, 1, 1};
  if (c % groups) return dg_fail(DG_ERR_FORMAT, "clip image: %s has %lld channels, not divisible by %d groups", prefix,
                                 (long long)c, groups);
  out->stride = stride;
  DG_TRY(load(src, name, 4, s1, &out->conv1));
  snprintf(name, sizeof name, "%s.norm1", prefix);
  DG_TRY(load_gn(src, name, c, &out->g1, &out->b1));
  snprintf(name, sizeof name, "%s.conv2.weight", prefix);
  DG_TRY(load(src, name, 4, s2, &out->conv2));
  snprintf(name, sizeof name, "%s.norm2", prefix);
  DG_TRY(load_gn(src, name, c, &out->g2, &out->b2));
  snprintf(name, sizeof name, "%s.skip.0.weight", prefix);
  out->has_skip = dg_weights_find(src->w, name) != NULL;
  if (!out->has_skip && (stride != 1 || cin != c))
    return dg_fail(DG_ERR_FORMAT, "clip image: %s changes the shape but has no skip conv", prefix);
  if (!out->has_skip) return DG_OK;
  DG_TRY(load(src, name, 4, sk, &out->skip));
  snprintf(name, sizeof name, "%s.skip.1", prefix);
  return load_gn(src, name, c, &out->skip_g, &out->skip_b);
}

dg_status dg_clip_image_load(const dg_nn_src *src, const dg_model_config *cfg, dg_clip_image *out) {
  memset(out, 0, sizeof *out);
  DG_TRY(dg_model_config_int(cfg, "image.groups", 8, 1, 4096, &out->groups));
  const dg_weight *stem = dg_weights_find(src->w, DG_CLIP_IMAGE "stem.0.weight");
  if (!stem || stem->ndim != 4 || stem->shape[2] != stem->shape[3])
    return dg_fail(DG_ERR_FORMAT, "clip image: no square patchify stem " DG_CLIP_IMAGE "stem.0.weight");
  int64_t c = stem->shape[0], ss[4] = {c, stem->shape[1], stem->shape[2], stem->shape[3]}, bs[1] = {c};
  out->in_channels = (int)stem->shape[1];
  out->stem_stride = (int)stem->shape[2];
  if (c % out->groups) return dg_fail(DG_ERR_FORMAT, "clip image: stem width %lld not divisible by %d groups",
                                      (long long)c, out->groups);
  DG_TRY(load(src, DG_CLIP_IMAGE "stem.0.weight", 4, ss, &out->stem_w));
  DG_TRY(load(src, DG_CLIP_IMAGE "stem.0.bias", 1, bs, &out->stem_b));
  DG_TRY(load_gn(src, DG_CLIP_IMAGE "stem.1", c, &out->stem_g, &out->stem_beta));
  char p[200];
  for (int i = 0;; i++) {
    snprintf(p, sizeof p, DG_CLIP_IMAGE "stages.%d.0", i);
    if (!dg_nn_has(src, p, ".conv1.weight")) break;
    if (i == DG_CLIP_IMAGE_MAX_STAGES) return dg_fail(DG_ERR_UNSUPPORTED, "clip image: over %d stages", i);
    for (int j = 0;; j++) {
      snprintf(p, sizeof p, DG_CLIP_IMAGE "stages.%d.%d", i, j);
      if (!dg_nn_has(src, p, ".conv1.weight")) break;
      if (j == DG_CLIP_IMAGE_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "clip image: stage %d has over %d blocks", i, j);
      DG_TRY(load_block(src, p, c, j == 0 && i > 0 ? 2 : 1, out->groups, &out->stage[i][j]));
      c = out->stage[i][j].conv1.shape[0];
      out->blocks[i] = j + 1;
    }
    out->n_stages = i + 1;
  }
  if (!out->n_stages) return dg_fail(DG_ERR_FORMAT, "clip image: the checkpoint has no " DG_CLIP_IMAGE "stages");
  out->out_dim = (int)c;
  out->embed_dim = (int)wdim(src, "clip.image_projection.weight", 0);
  int64_t ps[2] = {out->embed_dim, c};
  return load(src, "clip.image_projection.weight", 2, ps, &out->projection);
}

// out = conv(x) -> GroupNorm (-> ReLU).
static dg_status conv_gn(const dg_nn_ctx *nn, const dg_clip_image *m, const dg_tensor *x, const dg_tensor *w,
                         const dg_tensor *b, int stride, int pad, const dg_tensor *g, const dg_tensor *beta, bool relu,
                         dg_tensor *out) {
  dg_tensor h;
  DG_TRY(dg_model_conv(nn, x, w, b, stride, pad, false, &h));
  DG_TRY(dg_nn_alloc(nn, 4, h.shape, out));
  DG_TRY(dg_group_norm(nn->s, &h, m->groups, g, beta, GN_EPS, false, out));
  return relu ? dg_unary(nn->s, DG_RELU, out, out, 0, 0) : DG_OK;
}

static dg_status block(const dg_nn_ctx *nn, const dg_clip_image *m, const dg_clip_image_block *b, const dg_tensor *x,
                       dg_tensor *out) {
  dg_tensor h, sk = *x;
  DG_TRY(conv_gn(nn, m, x, &b->conv1, NULL, b->stride, 1, &b->g1, &b->b1, true, &h));
  DG_TRY(conv_gn(nn, m, &h, &b->conv2, NULL, 1, 1, &b->g2, &b->b2, false, out));
  if (b->has_skip) DG_TRY(conv_gn(nn, m, x, &b->skip, NULL, b->stride, 0, &b->skip_g, &b->skip_b, false, &sk));
  DG_TRY(dg_binary(nn->s, DG_ADD, out, &sk, out));
  return dg_unary(nn->s, DG_RELU, out, out, 0, 0);
}

dg_status dg_clip_image_forward(const dg_nn_ctx *nn, const dg_clip_image *m, const dg_tensor *images, dg_tensor *features,
                                dg_tensor *projected) {
  char sh[96];
  if (images->ndim != 4 || images->shape[1] != m->in_channels || images->shape[2] < m->stem_stride ||
      images->shape[3] < m->stem_stride)
    return dg_fail(DG_ERR_ARG, "clip image: images %s, expected [N, %d, H >= %d, W >= %d]",
                   dg_shape_str(images, sh, sizeof sh), m->in_channels, m->stem_stride, m->stem_stride);
  dg_tensor x, y;
  DG_TRY(conv_gn(nn, m, images, &m->stem_w, &m->stem_b, m->stem_stride, 0, &m->stem_g, &m->stem_beta, true, &x));
  for (int i = 0; i < m->n_stages; i++)
    for (int j = 0; j < m->blocks[i]; j++) {
      DG_TRY(block(nn, m, &m->stage[i][j], &x, &y));
      x = y;
    }
  int64_t n = x.shape[0], c = x.shape[1], flat[3] = {n, c, x.shape[2] * x.shape[3]}, fs[2] = {n, c},
          ps[2] = {n, m->embed_dim};
  DG_TRY(dg_tensor_reshape(&x, 3, flat, &y));
  DG_TRY(dg_nn_alloc(nn, 2, fs, features));
  DG_TRY(dg_reduce(nn->s, DG_REDUCE_MEAN, &y, 2, features));
  DG_TRY(dg_nn_alloc(nn, 2, ps, projected));
  return dg_linear(nn->s, features, &m->projection, NULL, projected);
}

void dg_clip_normalize(float *rows, int n, int dim) {
  for (int i = 0; i < n; i++) {
    float *r = rows + (size_t)i * dim;
    double ss = 0;
    for (int j = 0; j < dim; j++)
      ss += (double)r[j] * r[j];
    double norm = sqrt(ss);
    if (norm < 1e-12) norm = 1e-12; // F.normalize's eps
    for (int j = 0; j < dim; j++)
      r[j] = (float)(r[j] / norm);
  }
}

dg_status dg_clip_image_embed(const dg_nn_ctx *nn, const dg_clip_image *m, const uint8_t *const *rgb, int n, int width,
                              int height, float *features, float *embeddings) {
  if (m->in_channels != 3) return dg_fail(DG_ERR_ARG, "clip image: %d input channels, not RGB", m->in_channels);
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_tensor images, feat, proj;
  dg_status s = dg_model_rgb_tensor(nn, rgb, n, width, height, &images);
  if (s == DG_OK) s = dg_clip_image_forward(nn, m, &images, &feat, &proj);
  if (s == DG_OK) s = dg_stream_finish(nn->s);
  else dg_stream_finish(nn->s);
  if (s == DG_OK && features) s = dg_tensor_read_f32(&feat, features);
  if (s == DG_OK) s = dg_tensor_read_f32(&proj, embeddings);
  if (s == DG_OK) dg_clip_normalize(embeddings, n, m->embed_dim);
  dg_arena_release(nn->scratch, mark);
  return s;
}
