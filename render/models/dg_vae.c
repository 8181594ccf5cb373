#include "dg_vae.h"

#include <stdio.h>
#include <string.h>

#include "dg_nn_ops.h"

// Weight names are built with snprintf into fixed buffers; the loaders reject a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define VAE_PREFIX DG_LDM_VAE

static dg_status load_mid(const dg_nn_src *src, const char *half, dg_vae_half *h) {
  char p[256];
  snprintf(p, sizeof p, VAE_PREFIX "%s.mid.block_1", half);
  DG_TRY(dg_nn_vae_res_load(src, p, &h->mid1));
  snprintf(p, sizeof p, VAE_PREFIX "%s.mid.attn_1", half);
  DG_TRY(dg_nn_vae_attn_load(src, p, &h->mid_attn));
  snprintf(p, sizeof p, VAE_PREFIX "%s.mid.block_2", half);
  DG_TRY(dg_nn_vae_res_load(src, p, &h->mid2));
  snprintf(p, sizeof p, VAE_PREFIX "%s.conv_in", half);
  DG_TRY(dg_nn_conv_load(src, p, 1, 1, &h->conv_in));
  snprintf(p, sizeof p, VAE_PREFIX "%s.conv_out", half);
  DG_TRY(dg_nn_conv_load(src, p, 1, 1, &h->conv_out));
  snprintf(p, sizeof p, VAE_PREFIX "%s.norm_out", half);
  return dg_nn_norm_load(src, p, 32, 1e-6f, &h->norm_out);
}

static dg_status load_level(const dg_nn_src *src, const char *half, int i, int n_block, bool resample,
                            dg_vae_level *l) {
  char p[256];
  if (n_block > DG_VAE_MAX_RES) return dg_fail(DG_ERR_UNSUPPORTED, "vae: %d res blocks per level", n_block);
  const char *dir = strcmp(half, "encoder") ? "up" : "down";
  l->n_block = n_block;
  for (int j = 0; j < n_block; j++) {
    snprintf(p, sizeof p, VAE_PREFIX "%s.%s.%d.block.%d", half, dir, i, j);
    DG_TRY(dg_nn_vae_res_load(src, p, &l->block[j]));
    snprintf(p, sizeof p, VAE_PREFIX "%s.%s.%d.attn.%d", half, dir, i, j);
    l->has_attn = dg_nn_has(src, p, ".q.weight");
    if (l->has_attn) DG_TRY(dg_nn_vae_attn_load(src, p, &l->attn[j]));
  }
  l->has_resample = resample;
  if (resample) {
    bool down = !strcmp(dir, "down");
    snprintf(p, sizeof p, VAE_PREFIX "%s.%s.%d.%s.conv", half, dir, i, down ? "downsample" : "upsample");
    DG_TRY(dg_nn_conv_load(src, p, down ? 2 : 1, down ? -1 : 1, &l->resample));
  }
  return DG_OK;
}

dg_status dg_vae_load(const dg_nn_src *src, dg_vae *out) {
  dg_model_info info;
  DG_TRY(dg_weights_detect(src->w, &info));
  if (!(info.parts & DG_PART_VAE)) return dg_fail(DG_ERR_FORMAT, "vae: the checkpoint holds no KL autoencoder");
  memset(out, 0, sizeof *out);
  out->cfg = info.vae;
  int levels = out->cfg.num_levels, nrb = out->cfg.num_res_blocks;
  if (levels < 1 || levels > DG_MAX_LEVELS) return dg_fail(DG_ERR_FORMAT, "vae: %d levels", levels);
  out->has_encoder = out->cfg.has_encoder;
  out->has_decoder = out->cfg.has_decoder;
  if (out->has_encoder) {
    DG_TRY(load_mid(src, "encoder", &out->enc));
    for (int i = 0; i < levels; i++)
      DG_TRY(load_level(src, "encoder", i, nrb, i != levels - 1, &out->enc.level[i]));
    DG_TRY(dg_nn_conv_load(src, VAE_PREFIX "quant_conv", 1, 0, &out->quant));
  }
  if (out->has_decoder) {
    DG_TRY(load_mid(src, "decoder", &out->dec));
    for (int i = 0; i < levels; i++)
      DG_TRY(load_level(src, "decoder", i, nrb + 1, i != 0, &out->dec.level[i]));
    DG_TRY(dg_nn_conv_load(src, VAE_PREFIX "post_quant_conv", 1, 0, &out->post_quant));
  }
  return DG_OK;
}

static dg_status level_forward(const dg_nn *nn, const dg_vae_level *l, bool up, dg_tensor *h) {
  dg_tensor nxt;
  for (int j = 0; j < l->n_block; j++) {
    DG_TRY(dg_nn_vae_res_forward(nn, &l->block[j], h, &nxt));
    *h = nxt;
    if (l->has_attn) {
      DG_TRY(dg_nn_vae_attn_forward(nn, &l->attn[j], h, &nxt));
      *h = nxt;
    }
  }
  if (!l->has_resample) return DG_OK;
  if (up) {
    int64_t s[4] = {h->shape[0], h->shape[1], 2 * h->shape[2], 2 * h->shape[3]};
    dg_tensor u;
    DG_TRY(dg_nn_alloc(nn, 4, s, &u));
    DG_TRY(dg_nn_upsample2x(nn->s, h, &u));
    *h = u;
  }
  DG_TRY(dg_nn_conv_forward(nn, &l->resample, h, &nxt));
  *h = nxt;
  return DG_OK;
}

static dg_status mid_forward(const dg_nn *nn, const dg_vae_half *half, dg_tensor *h) {
  dg_tensor a, b;
  DG_TRY(dg_nn_vae_res_forward(nn, &half->mid1, h, &a));
  DG_TRY(dg_nn_vae_attn_forward(nn, &half->mid_attn, &a, &b));
  return dg_nn_vae_res_forward(nn, &half->mid2, &b, h);
}

dg_status dg_vae_encode(const dg_nn *nn, const dg_vae *v, const dg_tensor *image, dg_tensor *mean, dg_tensor *logvar) {
  char si[96];
  int f = 1 << (v->cfg.num_levels - 1);
  if (!v->has_encoder) return dg_fail(DG_ERR_ARG, "vae: the checkpoint has no encoder");
  if (image->ndim != 4 || image->shape[1] != v->cfg.in_channels || image->shape[2] % f || image->shape[3] % f)
    return dg_fail(DG_ERR_ARG, "vae: image %s must be [N, %d, H, W] with H, W divisible by %d",
                   dg_shape_str(image, si, sizeof si), v->cfg.in_channels, f);
  dg_tensor h, nxt, m;
  DG_TRY(dg_nn_conv_forward(nn, &v->enc.conv_in, image, &h));
  for (int i = 0; i < v->cfg.num_levels; i++)
    DG_TRY(level_forward(nn, &v->enc.level[i], false, &h));
  DG_TRY(mid_forward(nn, &v->enc, &h));
  DG_TRY(dg_nn_norm_forward(nn, &v->enc.norm_out, &h, true, &nxt));
  DG_TRY(dg_nn_conv_forward(nn, &v->enc.conv_out, &nxt, &h));
  DG_TRY(dg_nn_conv_forward(nn, &v->quant, &h, &m));
  int64_t e = m.shape[1] / 2, s[4] = {m.shape[0], e, m.shape[2], m.shape[3]};
  dg_tensor lv;
  DG_TRY(dg_nn_alloc(nn, 4, s, mean));
  DG_TRY(dg_nn_alloc(nn, 4, s, &lv));
  DG_TRY(dg_nn_alloc(nn, 4, s, logvar));
  DG_TRY(dg_nn_get_channels(nn->s, &m, 0, mean));
  DG_TRY(dg_nn_get_channels(nn->s, &m, e, &lv));
  return dg_nn_clamp(nn->s, &lv, -30.0f, 20.0f, logvar);
}

dg_status dg_vae_decode(const dg_nn *nn, const dg_vae *v, const dg_tensor *z, dg_tensor *image) {
  char sz[96];
  if (!v->has_decoder) return dg_fail(DG_ERR_ARG, "vae: the checkpoint has no decoder");
  if (z->ndim != 4 || z->shape[1] != v->post_quant.w.shape[1])
    return dg_fail(DG_ERR_ARG, "vae: latent %s must be [N, %lld, h, w]", dg_shape_str(z, sz, sizeof sz),
                   (long long)v->post_quant.w.shape[1]);
  dg_tensor h, nxt;
  DG_TRY(dg_nn_conv_forward(nn, &v->post_quant, z, &nxt));
  DG_TRY(dg_nn_conv_forward(nn, &v->dec.conv_in, &nxt, &h));
  DG_TRY(mid_forward(nn, &v->dec, &h));
  for (int i = v->cfg.num_levels - 1; i >= 0; i--)
    DG_TRY(level_forward(nn, &v->dec.level[i], true, &h));
  DG_TRY(dg_nn_norm_forward(nn, &v->dec.norm_out, &h, true, &nxt));
  return dg_nn_conv_forward(nn, &v->dec.conv_out, &nxt, image);
}
