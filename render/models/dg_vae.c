#include "dg_vae.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"
#include "dg_resample.h"

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

dg_status dg_vae_scale_read(const dg_model_config *c, float *scale) {
  double v;
  DG_TRY(dg_model_config_number(c, "scale_factor", 0.18215, 1e-6, 1e6, &v));
  *scale = (float)v;
  return DG_OK;
}

static dg_status level_forward(const dg_nn_ctx *nn, const dg_vae_level *l, bool up, dg_tensor *h) {
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
    DG_TRY(dg_upsample_nearest2x(nn->s, h, &u));
    *h = u;
  }
  DG_TRY(dg_nn_conv_forward(nn, &l->resample, h, &nxt));
  *h = nxt;
  return DG_OK;
}

static dg_status mid_forward(const dg_nn_ctx *nn, const dg_vae_half *half, dg_tensor *h) {
  dg_tensor a, b;
  DG_TRY(dg_nn_vae_res_forward(nn, &half->mid1, h, &a));
  DG_TRY(dg_nn_vae_attn_forward(nn, &half->mid_attn, &a, &b));
  return dg_nn_vae_res_forward(nn, &half->mid2, &b, h);
}

dg_status dg_vae_encode(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *image, dg_tensor *mean, dg_tensor *logvar) {
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
  dg_tensor *halves[2] = {mean, &lv};
  DG_TRY(dg_split(nn->s, &m, 1, halves, 2));
  return dg_unary(nn->s, DG_CLAMP, &lv, logvar, -30.0f, 20.0f);
}

static dg_status decode_whole(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, dg_tensor *image);

static dg_status check_latent(const dg_vae *v, const dg_tensor *z) {
  char sz[96];
  if (!v->has_decoder) return dg_fail(DG_ERR_ARG, "vae: the checkpoint has no decoder");
  if (z->ndim != 4 || z->shape[1] != v->post_quant.w.shape[1])
    return dg_fail(DG_ERR_ARG, "vae: latent %s must be [N, %lld, h, w]", dg_shape_str(z, sz, sizeof sz),
                   (long long)v->post_quant.w.shape[1]);
  return DG_OK;
}

// Bytes of the decoder's largest activation for an n x h x w latent.
static uint64_t decode_peak(const dg_vae *v, int64_t n, int64_t h, int64_t w, size_t esize) {
  uint64_t peak = 0;
  int levels = v->cfg.num_levels;
  for (int i = 0; i < levels; i++) {
    uint64_t ch = (uint64_t)v->cfg.ch * v->cfg.ch_mult[i], f = 1ull << (levels - 1 - i);
    uint64_t out = (uint64_t)n * ch * h * f * w * f * esize; // level i's blocks; its upsample gives 4x
    uint64_t up = i ? out * 4 : 0;
    if (out > peak) peak = out;
    if (up > peak) peak = up;
  }
  return peak;
}

int dg_vae_auto_tile(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z) {
  const dg_device *dev = dg_stream_device(nn->s);
  uint64_t limit = dg_device_get_info(dev)->max_binding_bytes;
  // On a device with little memory left, tile too: a decode holds a few activations of its peak size.
  uint64_t budget = dg_device_memory_budget(dev) / 4;
  if (budget < limit) limit = budget;
  size_t es = dg_dtype_size(nn->dtype);
  if (z->ndim != 4 || decode_peak(v, z->shape[0], z->shape[2], z->shape[3], es) <= limit) return 0;
  int64_t t = z->shape[2] > z->shape[3] ? z->shape[2] : z->shape[3];
  while (t > 8 && decode_peak(v, z->shape[0], t, t, es) > limit)
    t = t / 2;
  int64_t r = t / 8 * 8;
  return (int)(r > 0 ? r : 8);
}

static float ramp(int64_t i, int64_t n, int64_t lo_ov, int64_t hi_ov) {
  float a = lo_ov ? (float)(i + 1) / (float)(lo_ov + 1) : 1.0f, b = hi_ov ? (float)(n - i) / (float)(hi_ov + 1) : 1.0f;
  a = a > 1 ? 1 : a;
  b = b > 1 ? 1 : b;
  return a < b ? a : b;
}

dg_status dg_vae_decode_tiled(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, int tile, int overlap,
                              dg_tensor *image) {
  DG_TRY(check_latent(v, z));
  if (tile < 1 || overlap < 0 || overlap >= tile)
    return dg_fail(DG_ERR_ARG, "vae: tile %d with overlap %d (need 0 <= overlap < tile)", tile, overlap);
  int64_t n = z->shape[0], c = z->shape[1], h = z->shape[2], w = z->shape[3], f = 1ll << (v->cfg.num_levels - 1);
  int64_t oc = v->dec.conv_out.w.shape[0], H = h * f, W = w * f;
  DG_TRY(dg_stream_finish(nn->s));
  float *zh = malloc((size_t)dg_tensor_numel(z) * sizeof *zh), *acc = calloc((size_t)(n * oc * H * W), sizeof *acc);
  float *wsum = calloc((size_t)(H * W), sizeof *wsum), *tz = malloc((size_t)(n * c * tile * tile) * sizeof *tz);
  float *ti = malloc((size_t)(n * oc * tile * f * tile * f) * sizeof *ti);
  int64_t floats = dg_tensor_numel(z) + n * oc * H * W + H * W + n * c * tile * tile + n * oc * tile * f * tile * f;
  dg_status st = zh && acc && wsum && tz && ti ? DG_OK : dg_memory_fail("the tiled decode", 4 * (uint64_t)floats);
  if (st == DG_OK) st = dg_tensor_read_f32(z, zh);
  int64_t step = tile - overlap;
  for (int64_t y0 = 0; st == DG_OK && y0 < h; y0 += step) {
    int64_t th = h - y0 < tile ? h - y0 : tile;
    for (int64_t x0 = 0; st == DG_OK && x0 < w; x0 += step) {
      int64_t tw = w - x0 < tile ? w - x0 : tile;
      for (int64_t i = 0; i < n * c; i++)
        for (int64_t y = 0; y < th; y++)
          memcpy(tz + (i * th + y) * tw, zh + (i * h + y0 + y) * w + x0, (size_t)tw * 4);
      dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
      int64_t ts[4] = {n, c, th, tw};
      dg_tensor tt, out;
      st = dg_nn_alloc(nn, 4, ts, &tt);
      if (st == DG_OK) st = dg_tensor_write_f32(&tt, tz);
      if (st == DG_OK) st = decode_whole(nn, v, &tt, &out);
      if (st == DG_OK) st = dg_stream_finish(nn->s);
      if (st == DG_OK) st = dg_tensor_read_f32(&out, ti);
      dg_arena_release(nn->scratch, mark);
      if (st != DG_OK) break;
      // Blend: weights ramp over the overlaps shared with neighbouring tiles.
      int64_t oh = th * f, ow = tw * f, ov = overlap * f;
      for (int64_t y = 0; y < oh; y++) {
        float wy = ramp(y, oh, y0 ? ov : 0, y0 + th < h ? ov : 0);
        for (int64_t x = 0; x < ow; x++) {
          float wt = wy * ramp(x, ow, x0 ? ov : 0, x0 + tw < w ? ov : 0);
          int64_t gy = y0 * f + y, gx = x0 * f + x;
          wsum[gy * W + gx] += wt;
          for (int64_t i = 0; i < n * oc; i++)
            acc[(i * H + gy) * W + gx] += wt * ti[(i * oh + y) * ow + x];
        }
      }
      if (x0 + tw >= w) break;
    }
    if (y0 + th >= h) break;
  }
  if (st == DG_OK) {
    for (int64_t i = 0; i < n * oc; i++)
      for (int64_t p = 0; p < H * W; p++)
        acc[i * H * W + p] /= wsum[p];
    int64_t is[4] = {n, oc, H, W};
    st = dg_nn_alloc(nn, 4, is, image);
    if (st == DG_OK) st = dg_tensor_write_f32(image, acc);
  }
  free(zh);
  free(acc);
  free(wsum);
  free(tz);
  free(ti);
  return st;
}

dg_status dg_vae_decode(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, dg_tensor *image) {
  DG_TRY(check_latent(v, z));
  int tile = dg_vae_auto_tile(nn, v, z);
  if (tile) return dg_vae_decode_tiled(nn, v, z, tile, tile / 4, image);
  return decode_whole(nn, v, z, image);
}

static dg_status decode_whole(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, dg_tensor *image) {
  dg_tensor h, nxt;
  DG_TRY(dg_nn_conv_forward(nn, &v->post_quant, z, &nxt));
  DG_TRY(dg_nn_conv_forward(nn, &v->dec.conv_in, &nxt, &h));
  DG_TRY(mid_forward(nn, &v->dec, &h));
  for (int i = v->cfg.num_levels - 1; i >= 0; i--)
    DG_TRY(level_forward(nn, &v->dec.level[i], true, &h));
  DG_TRY(dg_nn_norm_forward(nn, &v->dec.norm_out, &h, true, &nxt));
  return dg_nn_conv_forward(nn, &v->dec.conv_out, &nxt, image);
}
