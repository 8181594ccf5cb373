#include "dg_controlnet.h"

#include <stdio.h>
#include <string.h>

#include "dg_elementwise.h"

// Weight names are built with snprintf into fixed buffers; the loaders reject a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

dg_status dg_controlnet_load(const dg_nn_src *src, dg_unet_heads heads, dg_controlnet *out) {
  dg_model_info info;
  DG_TRY(dg_weights_detect(src->w, &info));
  if (!(info.parts & DG_PART_CONTROLNET))
    return dg_fail(DG_ERR_FORMAT, "controlnet: the checkpoint holds no ControlNet");
  memset(out, 0, sizeof *out);
  DG_TRY(dg_unet_encoder_load(src, DG_LDM_CONTROL, &info.control.body, heads, &out->enc));
  char p[256];
  for (int i = 0;; i++) {
    snprintf(p, sizeof p, DG_LDM_CONTROL "input_hint_block.%d", 2 * i);
    if (!dg_nn_has(src, p, ".weight")) break;
    if (i == DG_CONTROL_MAX_HINT) return dg_fail(DG_ERR_UNSUPPORTED, "controlnet: more than %d hint convs", i);
    out->n_hint = i + 1;
  }
  out->id_hint = out->n_hint == 5;
  if (out->n_hint != 5 && out->n_hint != 8)
    return dg_fail(DG_ERR_FORMAT, "controlnet: %d hint convs (expected 8 for the colour hint, 5 for the id hint)",
                   out->n_hint);
  for (int i = 0; i < out->n_hint; i++) {
    int stride = out->id_hint ? (i == 2 ? 2 : 1) : (i == 2 || i == 4 || i == 6 ? 2 : 1);
    snprintf(p, sizeof p, DG_LDM_CONTROL "input_hint_block.%d", 2 * i);
    DG_TRY(dg_nn_conv_load(src, p, stride, 1, &out->hint[i]));
  }
  for (int i = 0; i < out->enc.n_input; i++) {
    snprintf(p, sizeof p, DG_LDM_CONTROL "zero_convs.%d.0", i);
    DG_TRY(dg_nn_conv_load(src, p, 1, 0, &out->zero[i]));
  }
  return dg_nn_conv_load(src, DG_LDM_CONTROL "middle_block_out.0", 1, 0, &out->middle_out);
}

int dg_controlnet_num_outputs(const dg_controlnet *c) { return c->enc.n_input + 1; }

dg_status dg_controlnet_hint(const dg_nn_ctx *nn, const dg_controlnet *c, const dg_tensor *hint, dg_tensor *out) {
  char sh[96];
  if (hint->ndim != 4 || hint->shape[1] != c->hint[0].w.shape[1])
    return dg_fail(DG_ERR_ARG, "controlnet: hint %s must be [N, %lld, H, W]", dg_shape_str(hint, sh, sizeof sh),
                   (long long)c->hint[0].w.shape[1]);
  dg_tensor g = *hint;
  for (int i = 0; i < c->n_hint; i++) {
    DG_TRY(dg_nn_conv_forward(nn, &c->hint[i], &g, out));
    if (i + 1 < c->n_hint) DG_TRY(dg_unary(nn->s, DG_SILU, out, out, 0, 0));
    g = *out;
  }
  return DG_OK;
}

dg_status dg_controlnet_forward(const dg_nn_ctx *nn, const dg_controlnet *c, const dg_tensor *x, const dg_tensor *hint,
                                const float *t, const dg_tensor *context, float scale, dg_tensor *control) {
  char sx[96], sh[96];
  // Its scaling of the residuals is in place and unrecorded: gradients go through the UNet only.
  if (nn->hooks && nn->hooks->tape) return dg_fail(DG_ERR_UNSUPPORTED, "controlnet: no backward (a gradient tape is set)");
  if (x->ndim != 4 || hint->ndim != 4 || hint->shape[0] != x->shape[0] || hint->shape[2] != x->shape[2] ||
      hint->shape[3] != x->shape[3])
    return dg_fail(DG_ERR_ARG, "controlnet: encoded hint %s must be [N*F, C, h, w] for x %s",
                   dg_shape_str(hint, sh, sizeof sh), dg_shape_str(x, sx, sizeof sx));
  dg_tensor emb, ctx, nxt, h = *x;
  DG_TRY(dg_unet_inputs(nn, &c->enc, x, t, context, &emb, &ctx));
  for (int i = 0; i < c->enc.n_input; i++) {
    DG_TRY(dg_unet_block_forward(nn, &c->enc.input[i], &h, &emb, &ctx, &nxt));
    h = nxt;
    if (i == 0) DG_TRY(dg_binary(nn->s, DG_ADD, &h, hint, &h));
    DG_TRY(dg_nn_conv_forward(nn, &c->zero[i], &h, &control[i]));
  }
  DG_TRY(dg_unet_block_forward(nn, &c->enc.middle, &h, &emb, &ctx, &nxt));
  DG_TRY(dg_nn_resblock_forward(nn, &c->enc.middle_res2, &nxt, &emb, &h));
  DG_TRY(dg_nn_conv_forward(nn, &c->middle_out, &h, &control[c->enc.n_input]));
  if (scale != 1.0f)
    for (int i = 0; i <= c->enc.n_input; i++)
      DG_TRY(dg_unary(nn->s, DG_SCALE, &control[i], &control[i], scale, 0));
  return DG_OK;
}

void dg_controlnet_id_hint(const int32_t *label, int h0, int w0, const float *table, int classes, int dim, int h, int w,
                           float *out) {
  // torch nearest: src = min(floor(dst * (in / out)), in - 1) with the scale in float.
  float sy = (float)h0 / (float)h, sx = (float)w0 / (float)w;
  for (int y = 0; y < h; y++) {
    int iy = (int)((float)y * sy);
    if (iy > h0 - 1) iy = h0 - 1;
    for (int x = 0; x < w; x++) {
      int ix = (int)((float)x * sx);
      if (ix > w0 - 1) ix = w0 - 1;
      int l = label[(size_t)iy * w0 + ix];
      if (l < 0 || l >= classes) l = classes;
      for (int d = 0; d < dim; d++)
        out[((size_t)d * h + y) * w + x] = table[(size_t)l * dim + d];
    }
  }
}
