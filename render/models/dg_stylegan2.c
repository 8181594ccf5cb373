#include "dg_stylegan2.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_matmul.h"
#include "dg_model_util.h"
#include "dg_modconv.h"

// Weight names are built with snprintf into fixed buffers; a truncated name is simply not found.
#pragma GCC diagnostic ignored "-Wformat-truncation"

static int64_t wdim(const dg_nn_src *src, const char *name, int i) {
  const dg_weight *t = dg_weights_find(src->w, name);
  return t && i < t->ndim ? t->shape[i] : 0;
}

// `name` [shape] times gain, uploaded.
static dg_status load_scaled(const dg_nn_src *src, const char *name, int ndim, const int64_t *shape, double gain,
                             dg_tensor *out) {
  float *v;
  DG_TRY(dg_nn_read(src, name, ndim, shape, &v));
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= shape[i];
  for (int64_t i = 0; i < n; i++)
    v[i] = (float)(v[i] * gain);
  dg_status s = dg_nn_upload(src, ndim, shape, v, out);
  free(v);
  return s;
}

static dg_status load_filter(const dg_nn_src *src, const char *name, float *f) {
  int64_t fs[2] = {4, 4};
  float *v;
  DG_TRY(dg_nn_read(src, name, 2, fs, &v));
  memcpy(f, v, 16 * sizeof *f);
  free(v);
  return DG_OK;
}

// A SynthesisLayer (k 3, noise, up when up) or a ToRGBLayer (k 1, no noise, no demodulation) `p` of `in`
// channels; noise maps of nh x nw.
static dg_status load_layer(const dg_nn_src *src, const char *p, int in, int w_dim, int k, int up, int64_t nh,
                            int64_t nw, dg_sg_layer *L) {
  char n[256];
  bool rgb = k == 1;
  memset(L, 0, sizeof *L);
  L->in = in, L->k = k, L->up = up;
  snprintf(n, sizeof n, "%s.weight", p);
  L->out = (int)wdim(src, n, 0);
  int64_t as[2] = {in, w_dim}, bs[1] = {in}, ws[4] = {L->out, in, k, k}, os[1] = {L->out}, ns[2] = {nh, nw};
  double g = 1.0 / sqrt((double)w_dim) * (rgb ? 1.0 / sqrt((double)in) : 1.0); // ToRGB's weight_gain on the styles
  snprintf(n, sizeof n, "%s.affine.weight", p);
  DG_TRY(load_scaled(src, n, 2, as, g, &L->aw));
  snprintf(n, sizeof n, "%s.affine.bias", p);
  DG_TRY(load_scaled(src, n, 1, bs, rgb ? 1.0 / sqrt((double)in) : 1.0, &L->ab));
  snprintf(n, sizeof n, "%s.bias", p);
  DG_TRY(load_scaled(src, n, 1, os, 1.0, &L->b));
  float *w;
  snprintf(n, sizeof n, "%s.weight", p);
  DG_TRY(dg_nn_read(src, n, 4, ws, &w));
  int64_t kk = (int64_t)k * k, sq[2] = {L->out, in};
  float *wsq = malloc((size_t)(L->out * in) * sizeof *wsq), *wf = malloc((size_t)(L->out * in * kk) * sizeof *wf);
  dg_status s = wsq && wf ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  for (int64_t j = 0; s == DG_OK && j < L->out * in; j++) {
    double acc = 0;
    for (int64_t t = 0; t < kk; t++) {
      acc += (double)w[j * kk + t] * w[j * kk + t];
      wf[j * kk + t] = w[j * kk + (up > 1 ? kk - 1 - t : t)]; // the up conv's kernel flipped
    }
    wsq[j] = (float)acc;
  }
  if (s == DG_OK) s = dg_nn_upload(src, 4, ws, wf, &L->w);
  if (s == DG_OK && !rgb) s = dg_nn_upload(src, 2, sq, wsq, &L->wsq);
  free(w), free(wsq), free(wf);
  DG_TRY(s);
  if (rgb) return DG_OK;
  snprintf(n, sizeof n, "%s.noise_strength", p);
  float *ns_v;
  DG_TRY(dg_nn_read(src, n, 0, NULL, &ns_v));
  L->noise_strength = ns_v[0];
  free(ns_v);
  snprintf(n, sizeof n, "%s.noise_const", p);
  DG_TRY(load_scaled(src, n, 2, ns, 1.0, &L->noise_const));
  if (up > 1) {
    snprintf(n, sizeof n, "%s.resample_filter", p);
    DG_TRY(load_filter(src, n, L->filter));
  }
  return DG_OK;
}

dg_status dg_stylegan2_load(const dg_nn_src *src, const dg_model_config *cfg, dg_stylegan2 *out) {
  memset(out, 0, sizeof *out);
  double clamp = 256, lr = 0.01;
  if (cfg) {
    DG_TRY(dg_model_config_number(cfg, "conv_clamp", 256, -1, 1e9, &clamp));
    DG_TRY(dg_model_config_number(cfg, "lr_multiplier", 0.01, 1e-9, 1e9, &lr));
  }
  out->conv_clamp = (float)clamp, out->lr_multiplier = (float)lr;
  out->z_dim = (int)wdim(src, "mapping.fc0.weight", 1);
  out->w_dim = (int)wdim(src, "mapping.fc0.weight", 0);
  if (!out->z_dim) return dg_fail(DG_ERR_FORMAT, "stylegan2: the checkpoint has no tensor mapping.fc0.weight");
  char n[256];
  for (int i = 0;; i++) {
    snprintf(n, sizeof n, "mapping.fc%d.weight", i);
    if (!dg_weights_find(src->w, n)) break;
    if (i == DG_SG_MAX_MAPPING) return dg_fail(DG_ERR_UNSUPPORTED, "stylegan2: over %d mapping layers", i);
    int64_t ws[2] = {out->w_dim, i ? out->w_dim : out->z_dim}, bs[1] = {out->w_dim};
    DG_TRY(load_scaled(src, n, 2, ws, lr / sqrt((double)ws[1]), &out->fc_w[i]));
    snprintf(n, sizeof n, "mapping.fc%d.bias", i);
    DG_TRY(load_scaled(src, n, 1, bs, lr, &out->fc_b[i]));
    out->n_mapping = i + 1;
  }
  int64_t ds[1] = {out->w_dim};
  DG_TRY(load_scaled(src, "mapping.w_avg", 1, ds, 1.0, &out->w_avg));
  int64_t c4 = wdim(src, "synthesis.b4.const", 0), bh = wdim(src, "synthesis.b4.const", 1),
          bw = wdim(src, "synthesis.b4.const", 2);
  if (!c4 || !bh || !bw) return dg_fail(DG_ERR_FORMAT, "stylegan2: the checkpoint has no tensor synthesis.b4.const [C, H, W]");
  int prev = 0;
  for (int r = 4;; r *= 2) {
    char p[128];
    snprintf(p, sizeof p, "synthesis.b%d", r);
    if (!dg_nn_has(src, p, ".torgb.weight")) break;
    if (out->n_blocks == DG_SG_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "stylegan2: over %d blocks", out->n_blocks);
    dg_sg_block *b = &out->blocks[out->n_blocks++];
    b->res = r, b->in = prev;
    int64_t h = bh * r / 4, w = bw * r / 4;
    char q[160];
    if (r == 4) {
      int64_t cs[3] = {c4, bh, bw};
      snprintf(q, sizeof q, "%s.const", p);
      DG_TRY(load_scaled(src, q, 3, cs, 1.0, &b->cnst));
      b->out = (int)c4;
    } else {
      snprintf(q, sizeof q, "%s.conv0", p);
      DG_TRY(load_layer(src, q, prev, out->w_dim, 3, 2, h, w, &b->conv0));
      b->out = b->conv0.out;
      out->noise_h[out->n_noise] = (int)h, out->noise_w[out->n_noise++] = (int)w;
    }
    snprintf(q, sizeof q, "%s.conv1", p);
    DG_TRY(load_layer(src, q, b->out, out->w_dim, 3, 1, h, w, &b->conv1));
    if (b->conv1.out != b->out)
      return dg_fail(DG_ERR_FORMAT, "stylegan2: %s.conv1 has %d output channels, conv0 %d", p, b->conv1.out, b->out);
    out->noise_h[out->n_noise] = (int)h, out->noise_w[out->n_noise++] = (int)w;
    snprintf(q, sizeof q, "%s.torgb", p);
    DG_TRY(load_layer(src, q, b->out, out->w_dim, 1, 1, 0, 0, &b->torgb));
    if (b->torgb.out != 3) return dg_fail(DG_ERR_FORMAT, "stylegan2: %s.torgb.weight has %d outputs, expected 3", p, b->torgb.out);
    if (r > 4) {
      snprintf(q, sizeof q, "%s.resample_filter", p);
      DG_TRY(load_filter(src, q, b->filter));
    }
    out->height = (int)h, out->width = (int)w;
    prev = b->out;
  }
  out->num_ws = 2 * out->n_blocks;
  return DG_OK;
}

static dg_tensor view(const dg_tensor *t, int64_t first, int ndim, const int64_t *shape) {
  dg_tensor v = *t;
  uint64_t es = t->dtype == DG_F16 ? 2 : 4;
  v.data.offset += (uint64_t)first * es;
  v.ndim = ndim;
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= v.shape[i] = shape[i];
  v.data.size = (uint64_t)n * es;
  return v;
}

dg_status dg_stylegan2_mapping(const dg_nn_ctx *nn, const dg_stylegan2 *m, const float *z, int n, float psi,
                               dg_tensor *w) {
  DG_TRY(dg_stream_finish(nn->s));
  float *zn = malloc((size_t)n * m->z_dim * sizeof *zn);
  if (!zn) return dg_fail(DG_ERR_OOM, "out of host memory");
  for (int i = 0; i < n; i++) { // normalize_2nd_moment
    double ss = 0;
    for (int j = 0; j < m->z_dim; j++)
      ss += (double)z[i * m->z_dim + j] * z[i * m->z_dim + j];
    double g = 1.0 / sqrt(ss / m->z_dim + 1e-8);
    for (int j = 0; j < m->z_dim; j++)
      zn[i * m->z_dim + j] = (float)(z[i * m->z_dim + j] * g);
  }
  int64_t zs[2] = {n, m->z_dim}, ws[2] = {n, m->w_dim}, w4[4] = {n, m->w_dim, 1, 1};
  dg_tensor x;
  dg_status s = dg_nn_alloc(nn, 2, zs, &x);
  if (s == DG_OK) s = dg_tensor_write_f32(&x, zn);
  free(zn);
  DG_TRY(s);
  for (int i = 0; i < m->n_mapping; i++) {
    dg_tensor y, y4;
    DG_TRY(dg_nn_alloc(nn, 2, ws, &y));
    DG_TRY(dg_linear(nn->s, &x, &m->fc_w[i], NULL, &y));
    DG_TRY(dg_tensor_reshape(&y, 4, w4, &y4));
    dg_modulate_args a = {.bias = &m->fc_b[i], .lrelu = true, .gain = 1.0f, .clamp = -1.0f};
    DG_TRY(dg_modulate_act(nn->s, &y4, &a, &y4));
    x = y;
  }
  if (psi != 1.0f) { // w_avg + psi (x - w_avg)
    DG_TRY(dg_binary(nn->s, DG_SUB, &x, &m->w_avg, &x));
    DG_TRY(dg_unary(nn->s, DG_SCALE, &x, &x, psi, 0.0f));
    DG_TRY(dg_binary(nn->s, DG_ADD, &x, &m->w_avg, &x));
  }
  *w = x;
  return DG_OK;
}

dg_status dg_stylegan2_broadcast(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *w, dg_tensor *ws) {
  int64_t n = w->shape[0], one[3] = {n, 1, m->w_dim}, all[3] = {n, m->num_ws, m->w_dim};
  dg_tensor w1;
  DG_TRY(dg_tensor_reshape(w, 3, one, &w1));
  const dg_tensor *in[2 * DG_SG_MAX_BLOCKS];
  for (int i = 0; i < m->num_ws; i++)
    in[i] = &w1;
  DG_TRY(dg_nn_alloc(nn, 3, all, ws));
  return dg_concat(nn->s, in, m->num_ws, 1, ws);
}

dg_status dg_stylegan2_mix(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *ws_content,
                           const dg_tensor *const *styles, int n_styles, float strength, dg_tensor *ws) {
  char sa[96], sb[96];
  if (n_styles < 1) return dg_fail(DG_ERR_ARG, "stylegan2 mix: no style");
  if (!(strength >= 0.0f && strength <= 1.0f)) return dg_fail(DG_ERR_ARG, "stylegan2 mix: strength %g outside 0..1", strength);
  if (ws_content->ndim != 3 || ws_content->shape[1] != m->num_ws || ws_content->shape[2] != m->w_dim)
    return dg_fail(DG_ERR_ARG, "stylegan2 mix: content ws has shape %s, expected [N, %d, %d]",
                   dg_shape_str(ws_content, sa, sizeof sa), m->num_ws, m->w_dim);
  for (int i = 0; i < n_styles; i++)
    if (dg_tensor_numel(styles[i]) != dg_tensor_numel(ws_content) || styles[i]->ndim != 3)
      return dg_fail(DG_ERR_ARG, "stylegan2 mix: style %d has shape %s, expected the content's %s", i,
                     dg_shape_str(styles[i], sa, sizeof sa), dg_shape_str(ws_content, sb, sizeof sb));
  dg_tensor acc;
  DG_TRY(dg_nn_alloc(nn, 3, ws_content->shape, &acc));
  DG_TRY(dg_unary(nn->s, DG_COPY, styles[0], &acc, 1.0f, 0.0f));
  for (int i = 1; i < n_styles; i++)
    DG_TRY(dg_binary(nn->s, DG_ADD, &acc, styles[i], &acc));
  // ws = content + strength (acc / n - content) = (strength / n) acc + (1 - strength) content
  DG_TRY(dg_unary(nn->s, DG_SCALE, &acc, &acc, strength / (float)n_styles, 0.0f));
  DG_TRY(dg_nn_alloc(nn, 3, ws_content->shape, ws));
  DG_TRY(dg_unary(nn->s, DG_SCALE, ws_content, ws, 1.0f - strength, 0.0f));
  return dg_binary(nn->s, DG_ADD, ws, &acc, ws);
}

// One modulated layer: x [N, in, H, W], its w [N, w_dim] -> out (scratch).
static dg_status layer_forward(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_sg_layer *L, const dg_tensor *x,
                               const dg_tensor *w, const dg_tensor *noise, dg_tensor *out) {
  int64_t n = x->shape[0], h = x->shape[2], wd = x->shape[3];
  int64_t ss[2] = {n, L->in}, s4[4] = {n, L->in, 1, 1}, ds[2] = {n, L->out};
  bool rgb = L->k == 1;
  dg_tensor st, st4, dsum, xs, y;
  DG_TRY(dg_nn_alloc(nn, 2, ss, &st));
  DG_TRY(dg_linear(nn->s, w, &L->aw, &L->ab, &st));
  if (!rgb) { // dsum = styles^2 @ wsq^T
    dg_tensor sq;
    DG_TRY(dg_nn_alloc(nn, 2, ss, &sq));
    DG_TRY(dg_binary(nn->s, DG_MUL, &st, &st, &sq));
    DG_TRY(dg_nn_alloc(nn, 2, ds, &dsum));
    DG_TRY(dg_linear(nn->s, &sq, &L->wsq, NULL, &dsum));
  }
  DG_TRY(dg_tensor_reshape(&st, 4, s4, &st4));
  DG_TRY(dg_nn_alloc(nn, 4, x->shape, &xs));
  DG_TRY(dg_binary(nn->s, DG_MUL, x, &st4, &xs));
  if (L->up > 1) { // zero insertion, the flipped kernel over padding 2, then the filter (= transposed conv + filter)
    // The padding of 2 before / 1 after is split: 1 (+ r extra columns after) in the zero insertion and 1 in the
    // conv, so the conv is 3x3 padding 1 on a width that is a multiple of 4 (dg_conv2d's vectorised path); the
    // extra r output columns see only zeros, are 0, and the filter's padding crops them.
    static const float one = 1.0f;
    int r = (int)((4 - (2 * wd + 1) % 4) % 4);
    int zp[4] = {1, r, 1, 0}, fp[4] = {1, 1 - r, 1, 1};
    int64_t zs[4] = {n, L->in, 2 * h + 1, 2 * wd + 1 + r}, y0s[4] = {n, L->out, 2 * h + 1, 2 * wd + 1 + r},
            ys[4] = {n, L->out, 2 * h, 2 * wd};
    dg_conv2d_params cp = {.pad_h = 1, .pad_w = 1};
    dg_tensor zi, y0;
    DG_TRY(dg_nn_alloc(nn, 4, zs, &zi));
    DG_TRY(dg_upfirdn2d(nn->s, &xs, &one, 1, 1, 2, 1, zp, 1.0f, &zi));
    DG_TRY(dg_nn_alloc(nn, 4, y0s, &y0));
    DG_TRY(dg_conv2d(nn->s, &zi, &L->w, NULL, &cp, &y0));
    DG_TRY(dg_nn_alloc(nn, 4, ys, &y));
    DG_TRY(dg_upfirdn2d(nn->s, &y0, L->filter, 4, 4, 1, 1, fp, 4.0f, &y));
  } else {
    int64_t ys[4] = {n, L->out, h, wd};
    dg_conv2d_params cp = {.pad_h = L->k / 2, .pad_w = L->k / 2};
    DG_TRY(dg_nn_alloc(nn, 4, ys, &y));
    DG_TRY(dg_conv2d(nn->s, &xs, &L->w, NULL, &cp, &y));
  }
  // an encoder's full-channel layer noise replaces the noise and is added unscaled (ISSA)
  bool layer_noise = noise && dg_tensor_numel(noise) == n * L->out * h * wd * (L->up > 1 ? 4 : 1);
  dg_modulate_args a = {.dsum = rgb ? NULL : &dsum, .noise = noise, .strength = layer_noise ? 1.0f : L->noise_strength,
                        .bias = &L->b,
                        .lrelu = !rgb, .gain = 1.0f, .clamp = m->conv_clamp};
  DG_TRY(dg_modulate_act(nn->s, &y, &a, &y));
  *out = y;
  return DG_OK;
}

dg_status dg_stylegan2_synthesis(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *ws,
                                 const dg_tensor *const *noise, dg_sg_noise_mode mode, dg_tensor *image) {
  char sh[96];
  if (ws->ndim != 3 || ws->shape[1] != m->num_ws || ws->shape[2] != m->w_dim || ws->shape[0] < 1 ||
      ws->shape[0] > 2 * DG_SG_MAX_BLOCKS)
    return dg_fail(DG_ERR_ARG, "stylegan2: ws has shape %s, expected [N <= %d, %d, %d]", dg_shape_str(ws, sh, sizeof sh),
                   2 * DG_SG_MAX_BLOCKS, m->num_ws, m->w_dim);
  int64_t n = ws->shape[0], ts[3] = {m->num_ws, n, m->w_dim}, one[2] = {n, m->w_dim};
  dg_tensor wt;
  static const int perm[3] = {1, 0, 2};
  DG_TRY(dg_nn_alloc(nn, 3, ts, &wt));
  DG_TRY(dg_permute(nn->s, ws, perm, &wt));
  dg_tensor x = {0}, img = {0};
  int wi = 0, ni = 0;
  for (int bi = 0; bi < m->n_blocks; bi++) {
    const dg_sg_block *b = &m->blocks[bi];
    const dg_sg_layer *convs[2] = {b->in ? &b->conv0 : NULL, &b->conv1};
    int64_t h = b->cnst.ndim ? b->cnst.shape[1] : 0, w = b->cnst.ndim ? b->cnst.shape[2] : 0;
    if (!b->in) { // the constant, once per sample
      int64_t c1[4] = {1, b->out, h, w}, cn[4] = {n, b->out, h, w};
      dg_tensor c;
      DG_TRY(dg_tensor_reshape(&b->cnst, 4, c1, &c));
      const dg_tensor *in[2 * DG_SG_MAX_BLOCKS];
      for (int i = 0; i < n; i++)
        in[i] = &c;
      DG_TRY(dg_nn_alloc(nn, 4, cn, &x));
      DG_TRY(dg_concat(nn->s, in, (int)n, 0, &x));
    }
    for (int j = 0; j < 2; j++) {
      if (!convs[j]) continue;
      const dg_tensor *nz = noise && noise[ni] ? noise[ni] : mode == DG_SG_NOISE_CONST ? &convs[j]->noise_const : NULL;
      int64_t plane = m->noise_h[ni] * (int64_t)m->noise_w[ni], got = nz ? dg_tensor_numel(nz) : 0;
      if (nz && got != plane && got != n * plane && got != n * convs[j]->out * plane)
        return dg_fail(DG_ERR_ARG, "stylegan2: noise %d has shape %s, expected [%d, %d], [%lld, 1, %d, %d] or [%lld, %d, %d, %d]",
                       ni, dg_shape_str(nz, sh, sizeof sh), m->noise_h[ni], m->noise_w[ni], (long long)n, m->noise_h[ni],
                       m->noise_w[ni], (long long)n, convs[j]->out, m->noise_h[ni], m->noise_w[ni]);
      dg_tensor wv = view(&wt, (int64_t)wi * n * m->w_dim, 2, one), y;
      DG_TRY(layer_forward(nn, m, convs[j], &x, &wv, nz, &y));
      x = y;
      wi++, ni++;
    }
    dg_tensor wv = view(&wt, (int64_t)wi * n * m->w_dim, 2, one), rgb;
    DG_TRY(layer_forward(nn, m, &b->torgb, &x, &wv, NULL, &rgb));
    if (img.ndim) { // the skip: upsample2d(img) + this block's toRGB
      int pad[4] = {2, 1, 2, 1};
      dg_tensor up;
      DG_TRY(dg_nn_alloc(nn, 4, rgb.shape, &up));
      DG_TRY(dg_upfirdn2d(nn->s, &img, b->filter, 4, 4, 2, 1, pad, 4.0f, &up));
      DG_TRY(dg_binary(nn->s, DG_ADD, &rgb, &up, &rgb));
    }
    img = rgb;
  }
  *image = img;
  return DG_OK;
}
