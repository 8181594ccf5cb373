#include "dg_mne.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_matmul.h"
#include "dg_model_util.h"
#include "dg_resample.h"

// Weight names are built with snprintf into fixed buffers; a truncated name is simply not found.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define BN_EPS 1e-5 // torch.nn.BatchNorm2d's default

static int64_t wdim(const dg_nn_src *src, const char *name, int i) {
  const dg_weight *t = dg_weights_find(src->w, name);
  return t && i < t->ndim ? t->shape[i] : 0;
}

// An error of the loader, prefixed with the model's name.
static dg_status named(dg_status s) {
  if (s == DG_OK) return s;
  char msg[512];
  snprintf(msg, sizeof msg, "%s", dg_last_error());
  return dg_fail(s, "mne encoder: %s", msg);
}

// `conv`.weight [cout, cin, k, k]; with `bn` its BatchNorm folded in (w g / sqrt(var + eps), beta - mean g /
// sqrt(var + eps)), else `conv`.bias. cout < 0: taken from the tensor.
static dg_status load_conv(const dg_nn_src *src, const char *conv, const char *bn, int64_t cout, int64_t cin, int k,
                           int stride, int pad, dg_mne_conv *out) {
  char name[256];
  snprintf(name, sizeof name, "%s.weight", conv);
  if (cout < 0) cout = wdim(src, name, 0);
  int64_t ws[4] = {cout, cin, k, k}, vs[1] = {cout};
  float *w = NULL, *v[4] = {0}, *b = NULL;
  static const char *parts[4] = {"weight", "bias", "running_mean", "running_var"};
  dg_status s = dg_nn_read(src, name, 4, ws, &w);
  for (int i = 0; i < (bn ? 4 : 1) && s == DG_OK; i++) {
    snprintf(name, sizeof name, bn ? "%s.%s" : "%s.bias", bn ? bn : conv, parts[i]);
    s = dg_nn_read(src, name, 1, vs, &v[i]);
  }
  if (s == DG_OK && bn) {
    b = malloc((size_t)cout * sizeof *b);
    int64_t per = cin * k * k;
    for (int64_t o = 0; b && o < cout; o++) {
      double scale = v[0][o] / sqrt((double)v[3][o] + BN_EPS);
      for (int64_t j = 0; j < per; j++)
        w[o * per + j] = (float)(w[o * per + j] * scale);
      b[o] = (float)(v[1][o] - v[2][o] * scale);
    }
    if (!b) s = dg_fail(DG_ERR_OOM, "out of host memory");
  }
  out->stride = stride, out->pad = pad;
  if (s == DG_OK) s = dg_nn_upload(src, 4, ws, w, &out->w);
  if (s == DG_OK) s = dg_nn_upload(src, 1, vs, bn ? b : v[0], &out->b);
  free(w), free(b);
  for (int i = 0; i < 4; i++)
    free(v[i]);
  return named(s);
}

static dg_status load_block(const dg_nn_src *src, const char *p, int64_t cin, int stride, dg_mne_block *out) {
  char c[200], b[200];
  snprintf(c, sizeof c, "%s.conv1", p), snprintf(b, sizeof b, "%s.bn1", p);
  DG_TRY(load_conv(src, c, b, -1, cin, 1, 1, 0, &out->conv1));
  int64_t width = out->conv1.w.shape[0];
  snprintf(c, sizeof c, "%s.conv2", p), snprintf(b, sizeof b, "%s.bn2", p);
  DG_TRY(load_conv(src, c, b, width, width, 3, stride, 1, &out->conv2));
  snprintf(c, sizeof c, "%s.conv3", p), snprintf(b, sizeof b, "%s.bn3", p);
  DG_TRY(load_conv(src, c, b, -1, width, 1, 1, 0, &out->conv3));
  int64_t cout = out->conv3.w.shape[0];
  snprintf(c, sizeof c, "%s.downsample.0", p), snprintf(b, sizeof b, "%s.downsample.1", p);
  out->has_down = dg_nn_has(src, c, ".weight");
  if (!out->has_down && (stride != 1 || cin != cout))
    return dg_fail(DG_ERR_FORMAT, "mne encoder: %s changes the shape but has no downsample", p);
  return out->has_down ? load_conv(src, c, b, cout, cin, 1, stride, 0, &out->down) : DG_OK;
}

// Stride-2 3x3 convs (padding 1) that take an h x w map to 1x1.
static int halvings(int h, int w) {
  int n = 0;
  for (; h > 1 || w > 1; n++)
    h = (h + 1) / 2, w = (w + 1) / 2;
  return n;
}

static dg_status load_head(const dg_nn_src *src, const char *p, int level, int h, int w, int64_t fpn, dg_mne_head *out) {
  char c[200];
  out->level = level;
  out->n_convs = halvings(h >> level, w >> level);
  if (out->n_convs > DG_MNE_MAX_HEAD_CONVS) return dg_fail(DG_ERR_UNSUPPORTED, "mne encoder: %s needs over %d convs", p, DG_MNE_MAX_HEAD_CONVS);
  int64_t cin = fpn;
  for (int j = 0; j < out->n_convs; j++) {
    snprintf(c, sizeof c, "%s.convs.%d", p, 2 * j);
    DG_TRY(load_conv(src, c, NULL, -1, cin, 3, 2, 1, &out->convs[j]));
    cin = out->convs[j].w.shape[0];
  }
  snprintf(c, sizeof c, "%s.convs.%d.weight", p, 2 * out->n_convs);
  if (dg_weights_find(src->w, c))
    return dg_fail(DG_ERR_FORMAT, "mne encoder: %s has more than the %d convs a %dx%d image gives (tensor %s)", p,
                   out->n_convs, h, w, c);
  char wn[220], bn[220];
  snprintf(wn, sizeof wn, "%s.linear.linear.weight_orig", p);
  snprintf(bn, sizeof bn, "%s.linear.linear.bias", p);
  int64_t w_dim = wdim(src, wn, 0), ls[2] = {w_dim, cin}, bs[1] = {w_dim};
  float *lw, *lb = NULL;
  DG_TRY(named(dg_nn_read(src, wn, 2, ls, &lw)));
  dg_status s = named(dg_nn_read(src, bn, 1, bs, &lb));
  double g = sqrt(2.0 / (double)cin); // EqualLinear's run-time scale
  for (int64_t i = 0; s == DG_OK && i < w_dim * cin; i++)
    lw[i] = (float)(lw[i] * g);
  if (s == DG_OK) s = dg_nn_upload(src, 2, ls, lw, &out->lw);
  if (s == DG_OK) s = dg_nn_upload(src, 1, bs, lb, &out->lb);
  free(lw), free(lb);
  return s;
}

static dg_status load_backbone(const dg_nn_src *src, dg_mne *out) {
  const char *c1 = "FPN_module.conv1.weight";
  int64_t stem = wdim(src, c1, 0);
  if (!stem) return dg_fail(DG_ERR_FORMAT, "mne encoder: the checkpoint has no tensor %s", c1);
  DG_TRY(load_conv(src, "FPN_module.conv1", "FPN_module.bn1", stem, 3, 7, 2, 3, &out->stem));
  int64_t cin = stem, outs[DG_MNE_STAGES];
  char p[200];
  for (int i = 0; i < DG_MNE_STAGES; i++) {
    for (int j = 0;; j++) {
      snprintf(p, sizeof p, "FPN_module.layer%d.%d", i + 1, j);
      if (!dg_nn_has(src, p, ".conv1.weight")) break;
      if (j == DG_MNE_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "mne encoder: layer%d has over %d blocks", i + 1, j);
      DG_TRY(load_block(src, p, cin, j == 0 && i > 0 ? 2 : 1, &out->stage[i][j]));
      cin = out->stage[i][j].conv3.w.shape[0];
      out->blocks[i] = j + 1;
    }
    if (!out->blocks[i])
      return dg_fail(DG_ERR_FORMAT, "mne encoder: the checkpoint has no tensor FPN_module.layer%d.0.conv1.weight", i + 1);
    outs[i] = cin;
  }
  int64_t f = wdim(src, "FPN_module.toplayer.weight", 0);
  out->fpn_dim = (int)f;
  DG_TRY(load_conv(src, "FPN_module.toplayer", NULL, f, outs[3], 1, 1, 0, &out->top));
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "FPN_module.latlayer%d", i + 1);
    DG_TRY(load_conv(src, p, NULL, f, outs[2 - i], 1, 1, 0, &out->lat[i]));
    snprintf(p, sizeof p, "FPN_module.smooth%d", i + 1);
    DG_TRY(load_conv(src, p, NULL, f, f, 3, 1, 1, &out->smooth[i]));
  }
  return DG_OK;
}

dg_status dg_mne_load(const dg_nn_src *src, const dg_model_config *cfg, dg_mne *out) {
  memset(out, 0, sizeof *out);
  int hw[2], n_hw, noise_res;
  double slope;
  static const int def_hw[2] = {128, 256};
  DG_TRY(dg_model_config_ints(cfg, "image", def_hw, 2, 2, 32, 8192, hw, &n_hw));
  if (n_hw != 2) return dg_fail(DG_ERR_FORMAT, "mne encoder: \"image\" in %s needs [height, width]", cfg->source);
  DG_TRY(dg_model_config_int(cfg, "noise_res", 32, 4, 8192, &noise_res));
  DG_TRY(dg_model_config_number(cfg, "lrelu", 0.01, 0.0, 1.0, &slope));
  out->height = hw[0], out->width = hw[1], out->noise_res = noise_res, out->slope = (float)slope;
  DG_TRY(load_backbone(src, out));
  static const char *groups[3] = {"course_styles", "medium_styles", "fine_styles"};
  static const int levels[3] = {4, 3, 2};
  char p[200];
  for (int g = 0; g < 3; g++)
    for (int i = 0;; i++) {
      snprintf(p, sizeof p, "%s.%d", groups[g], i);
      if (!dg_nn_has(src, p, ".linear.linear.weight_orig")) break;
      if (out->num_ws == DG_MNE_MAX_WS) return dg_fail(DG_ERR_UNSUPPORTED, "mne encoder: over %d W+ heads", out->num_ws);
      dg_mne_head *h = &out->heads[out->num_ws++];
      DG_TRY(load_head(src, p, levels[g], out->height, out->width, out->fpn_dim, h));
      int wd = (int)h->lw.shape[0];
      if (out->w_dim && wd != out->w_dim)
        return dg_fail(DG_ERR_FORMAT, "mne encoder: %s gives %d-d ws, the heads before it %d-d", p, wd, out->w_dim);
      out->w_dim = wd;
    }
  if (!out->num_ws) return dg_fail(DG_ERR_FORMAT, "mne encoder: the checkpoint has no tensor course_styles.0.linear.linear.weight_orig");
  out->has_noise = dg_nn_has(src, "noise_net.0.convs.0", ".weight");
  for (int k = 0; out->has_noise && k < 2; k++) {
    int64_t cin = out->fpn_dim;
    for (int j = 0;; j++) {
      snprintf(p, sizeof p, "noise_net.%d.convs.%d", k, 2 * j);
      if (!dg_nn_has(src, p, ".weight")) break;
      if (j == DG_MNE_MAX_HEAD_CONVS) return dg_fail(DG_ERR_UNSUPPORTED, "mne encoder: noise_net.%d has over %d convs", k, j);
      DG_TRY(load_conv(src, p, NULL, -1, cin, 1, 1, 0, &out->noise[k][j]));
      cin = out->noise[k][j].w.shape[0];
      if (k == 0) out->n_noise_convs = j + 1;
      else if (j + 1 > out->n_noise_convs)
        return dg_fail(DG_ERR_FORMAT, "mne encoder: noise_net.1 has more convs than noise_net.0");
    }
    if (k == 0) out->noise_channels = (int)cin;
    else if (cin != out->noise_channels || !out->noise[1][out->n_noise_convs - 1].w.ndim)
      return dg_fail(DG_ERR_FORMAT, "mne encoder: noise_net.1 does not match noise_net.0 (%d convs to %d channels)",
                     out->n_noise_convs, out->noise_channels);
  }
  return DG_OK;
}

// out = conv(x) (scratch), then leaky ReLU with `slope` when act (slope 0: ReLU).
static dg_status conv(const dg_nn_ctx *nn, const dg_mne_conv *c, const dg_tensor *x, bool act, float slope,
                      dg_tensor *out) {
  DG_TRY(dg_model_conv(nn, x, &c->w, &c->b, c->stride, c->pad, false, out));
  if (!act) return DG_OK;
  return slope > 0 ? dg_unary(nn->s, DG_LEAKY_RELU, out, out, slope, 0) : dg_unary(nn->s, DG_RELU, out, out, 0, 0);
}

static dg_status block(const dg_nn_ctx *nn, const dg_mne_block *b, const dg_tensor *x, dg_tensor *out) {
  dg_tensor h1, h2, sk = *x;
  DG_TRY(conv(nn, &b->conv1, x, true, 0, &h1));
  DG_TRY(conv(nn, &b->conv2, &h1, true, 0, &h2));
  DG_TRY(conv(nn, &b->conv3, &h2, false, 0, out));
  if (b->has_down) DG_TRY(conv(nn, &b->down, x, false, 0, &sk));
  DG_TRY(dg_binary(nn->s, DG_ADD, out, &sk, out));
  return dg_unary(nn->s, DG_RELU, out, out, 0, 0);
}

// lat + bilinear(top to lat's size, align_corners=False), in lat.
static dg_status upsample_add(const dg_nn_ctx *nn, const dg_tensor *top, dg_tensor *lat) {
  dg_tensor up;
  DG_TRY(dg_nn_alloc(nn, 4, lat->shape, &up));
  DG_TRY(dg_resize_bilinear(nn->s, top, false, &up));
  return dg_binary(nn->s, DG_ADD, lat, &up, lat);
}

// The FPN's outputs p[0..3] = p2, p3, p4, p5 (strides 4 .. 32).
static dg_status pyramid(const dg_nn_ctx *nn, const dg_mne *m, const dg_tensor *images, dg_tensor p[4]) {
  dg_tensor x, y, c[DG_MNE_STAGES];
  DG_TRY(conv(nn, &m->stem, images, true, 0, &y));
  int64_t ps[4] = {y.shape[0], y.shape[1], (y.shape[2] - 1) / 2 + 1, (y.shape[3] - 1) / 2 + 1};
  DG_TRY(dg_nn_alloc(nn, 4, ps, &x));
  DG_TRY(dg_max_pool(nn->s, &y, 3, 2, 1, &x));
  for (int i = 0; i < DG_MNE_STAGES; i++) {
    for (int j = 0; j < m->blocks[i]; j++) {
      DG_TRY(block(nn, &m->stage[i][j], &x, &y));
      x = y;
    }
    c[i] = x;
  }
  dg_tensor top, lat;
  DG_TRY(conv(nn, &m->top, &c[3], false, 0, &top));
  p[3] = top;
  for (int i = 0; i < 3; i++) { // p4, p3, p2: lateral + the level above, then the smoothing conv
    DG_TRY(conv(nn, &m->lat[i], &c[2 - i], false, 0, &lat));
    DG_TRY(upsample_add(nn, &top, &lat));
    top = lat;
    DG_TRY(conv(nn, &m->smooth[i], &lat, false, 0, &p[2 - i]));
  }
  return DG_OK;
}

// One ToStyleCode head on its level -> [N, 1, w_dim] (scratch).
static dg_status head(const dg_nn_ctx *nn, const dg_mne *m, const dg_mne_head *h, const dg_tensor *level,
                      dg_tensor *out) {
  dg_tensor x = *level, y;
  for (int j = 0; j < h->n_convs; j++) {
    DG_TRY(conv(nn, &h->convs[j], &x, true, m->slope, &y));
    x = y;
  }
  int64_t n = x.shape[0], flat[2] = {n, x.shape[1]}, os[2] = {n, m->w_dim}, o3[3] = {n, 1, m->w_dim};
  if (x.shape[2] != 1 || x.shape[3] != 1) return dg_fail(DG_ERR_ARG, "mne encoder: a style head ends at %lldx%lld, not 1x1",
                                                         (long long)x.shape[2], (long long)x.shape[3]);
  dg_tensor xf, o;
  DG_TRY(dg_tensor_reshape(&x, 2, flat, &xf));
  DG_TRY(dg_nn_alloc(nn, 2, os, &o));
  DG_TRY(dg_linear(nn->s, &xf, &h->lw, &h->lb, &o));
  return dg_tensor_reshape(&o, 3, o3, out);
}

dg_status dg_mne_encode(const dg_nn_ctx *nn, const dg_mne *m, const dg_tensor *images, dg_tensor *ws,
                        dg_tensor noise[2]) {
  char sh[96];
  if (images->ndim != 4 || images->shape[1] != 3 || images->shape[2] != m->height || images->shape[3] != m->width ||
      images->shape[0] < 1 || images->shape[0] > DG_MNE_MAX_WS)
    return dg_fail(DG_ERR_ARG, "mne encoder: images %s, expected [N <= %d, 3, %d, %d]",
                   dg_shape_str(images, sh, sizeof sh), DG_MNE_MAX_WS, m->height, m->width);
  dg_tensor p[4], codes[DG_MNE_MAX_WS];
  const dg_tensor *parts[DG_MNE_MAX_WS];
  DG_TRY(pyramid(nn, m, images, p));
  for (int i = 0; i < m->num_ws; i++) {
    DG_TRY(head(nn, m, &m->heads[i], &p[m->heads[i].level - 2], &codes[i]));
    parts[i] = &codes[i];
  }
  int64_t wss[3] = {images->shape[0], m->num_ws, m->w_dim};
  DG_TRY(dg_nn_alloc(nn, 3, wss, ws));
  DG_TRY(dg_concat(nn->s, parts, m->num_ws, 1, ws));
  if (!noise) return DG_OK;
  memset(noise, 0, 2 * sizeof *noise);
  for (int k = 0; m->has_noise && k < 2; k++) {
    dg_tensor x = p[0], y;
    for (int j = 0; j < m->n_noise_convs; j++) { // ToLayerNoise: leaky ReLU after every conv, the last too
      DG_TRY(conv(nn, &m->noise[k][j], &x, true, m->slope, &y));
      x = y;
    }
    noise[k] = x;
  }
  return DG_OK;
}
