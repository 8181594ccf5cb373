#include "dg_tiny_decoder.h"

#include <stdio.h>
#include <string.h>

#include "dg_conv.h"
#include "dg_device.h"
#include "dg_elementwise.h"
#include "dg_resample.h"

#define P DG_TINY_DECODER_PREFIX

// The tensor `name` of the store, which must be a 3x3 conv kernel [Cout, Cin, 3, 3]; *cout, *cin from it.
static dg_status kernel_dims(const dg_nn_src *src, const char *name, int *cout, int *cin) {
  const dg_weight *t = dg_weights_find(src->w, name);
  if (!t) return dg_fail(DG_ERR_FORMAT, "%s: missing tensor '%s' (tiny decoder)", dg_weights_path(src->w), name);
  if (t->ndim != 4 || t->shape[2] != 3 || t->shape[3] != 3 || t->shape[0] < 1 || t->shape[0] > 4096 ||
      t->shape[1] < 1 || t->shape[1] > 4096) {
    char got[128] = "";
    for (int i = 0, n = 0; i < t->ndim && n < (int)sizeof got; i++)
      n += snprintf(got + n, sizeof got - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    return dg_fail(DG_ERR_FORMAT,
                   "%s: tensor '%s' has shape [%s], the tiny decoder expects a 3x3 kernel [Cout, Cin, 3, 3]",
                   dg_weights_path(src->w), name, got);
  }
  *cout = (int)t->shape[0];
  *cin = (int)t->shape[1];
  return DG_OK;
}

// A 3x3 padding-1 conv `prefix` whose weight must be [cout, cin, 3, 3] and bias [cout].
static dg_status conv_load(const dg_nn_src *src, const char *prefix, int cout, int cin, dg_nn_conv *c) {
  char name[160];
  memset(c, 0, sizeof *c);
  c->stride = c->pad = 1;
  int64_t ws[4] = {cout, cin, 3, 3}, bs[1] = {cout};
  snprintf(name, sizeof name, "%s.weight", prefix);
  DG_TRY(dg_weights_load_shaped(src->w, name, 4, ws, src->arena, src->dtype, &c->w));
  snprintf(name, sizeof name, "%s.bias", prefix);
  return dg_weights_load_shaped(src->w, name, 1, bs, src->arena, src->dtype, &c->b);
}

dg_status dg_tiny_decoder_load(const dg_nn_src *src, dg_tiny_decoder *out) {
  memset(out, 0, sizeof *out);
  char name[160];
  int cin, cout;
  DG_TRY(kernel_dims(src, P "conv_in.weight", &out->channels[0], &out->latent_channels));
  for (int i = 0; i + 1 < DG_TINY_LEVELS; i++) {
    snprintf(name, sizeof name, P "up.%d.weight", i);
    DG_TRY(kernel_dims(src, name, &out->channels[i + 1], &cin));
  }
  DG_TRY(kernel_dims(src, P "conv_out.weight", &cout, &cin));
  if (cout != 3)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor '" P "conv_out.weight' gives %d channels, not RGB",
                   dg_weights_path(src->w), cout);
  DG_TRY(conv_load(src, P "conv_in", out->channels[0], out->latent_channels, &out->conv_in));
  for (int i = 0; i < DG_TINY_LEVELS; i++) {
    int c = out->channels[i];
    for (int j = 0;; j++) {
      snprintf(name, sizeof name, P "level.%d.block.%d.conv1.weight", i, j);
      if (!dg_weights_find(src->w, name)) break;
      if (j == DG_TINY_MAX_BLOCKS)
        return dg_fail(DG_ERR_UNSUPPORTED, "%s: tiny decoder level %d has over %d blocks", dg_weights_path(src->w), i,
                       DG_TINY_MAX_BLOCKS);
      for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, P "level.%d.block.%d.conv%d", i, j, k + 1);
        DG_TRY(conv_load(src, name, c, c, &out->block[i][j][k]));
      }
      out->blocks[i] = j + 1;
    }
    if (i + 1 < DG_TINY_LEVELS) {
      snprintf(name, sizeof name, P "up.%d", i);
      DG_TRY(conv_load(src, name, out->channels[i + 1], c, &out->up[i]));
    }
  }
  return conv_load(src, P "conv_out", 3, out->channels[DG_TINY_LEVELS - 1], &out->conv_out);
}

bool dg_tiny_decoder_fits(const dg_nn_ctx *nn, const dg_tiny_decoder *d, int64_t n, int64_t h, int64_t w) {
  uint64_t limit = dg_device_get_info(dg_stream_device(nn->s))->max_binding_bytes, es = dg_dtype_size(nn->dtype);
  for (int i = 0; i < DG_TINY_LEVELS; i++) {
    // Level i works at (2^i h) x (2^i w); its upsample's output (at the next size) has its own width.
    int64_t px = (h << i) * (w << i);
    int64_t c = d->channels[i] > 3 ? d->channels[i] : 3;
    if ((uint64_t)(n * c * px) * es > limit) return false;
    if (i + 1 < DG_TINY_LEVELS && (uint64_t)(n * d->channels[i] * 4 * px) * es > limit) return false;
  }
  return true;
}

static dg_status relu(const dg_nn_ctx *nn, dg_tensor *x) { return dg_unary(nn->s, DG_RELU, x, x, 0, 0); }

dg_status dg_tiny_decoder_decode(const dg_nn_ctx *nn, const dg_tiny_decoder *d, const dg_tensor *z, dg_tensor *image) {
  char sz[96];
  if (z->ndim != 4 || z->shape[1] != d->latent_channels)
    return dg_fail(DG_ERR_ARG, "tiny decoder: latent %s must be [N, %d, h, w]", dg_shape_str(z, sz, sizeof sz),
                   d->latent_channels);
  const dg_conv2d_params same = {.pad_h = 1, .pad_w = 1};
  dg_tensor h, t, u;
  DG_TRY(dg_nn_conv_forward(nn, &d->conv_in, z, &h));
  DG_TRY(relu(nn, &h));
  for (int i = 0; i < DG_TINY_LEVELS; i++) {
    for (int j = 0; j < d->blocks[i]; j++) {
      const dg_nn_conv *c = d->block[i][j];
      DG_TRY(dg_nn_conv_forward(nn, &c[0], &h, &t));
      DG_TRY(relu(nn, &t));
      dg_tensor o;
      DG_TRY(dg_nn_alloc(nn, 4, h.shape, &o));
      DG_TRY(dg_conv2d_ex(nn->s, &t, &c[1].w, &c[1].b, &same, &h, &o)); // conv2 + the block's input
      DG_TRY(relu(nn, &o));
      h = o;
    }
    if (i + 1 == DG_TINY_LEVELS) break;
    int64_t us[4] = {h.shape[0], h.shape[1], 2 * h.shape[2], 2 * h.shape[3]};
    DG_TRY(dg_nn_alloc(nn, 4, us, &u));
    DG_TRY(dg_upsample_nearest2x(nn->s, &h, &u));
    DG_TRY(dg_nn_conv_forward(nn, &d->up[i], &u, &h));
    DG_TRY(relu(nn, &h));
  }
  return dg_nn_conv_forward(nn, &d->conv_out, &h, image);
}
