#include "dg_unet3d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_device.h"
#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"

#define P_LEN 256
#pragma GCC diagnostic ignored "-Wformat-truncation"

// A ResBlock at `prefix` and its temporal convolutions when the checkpoint has them.
static dg_status load_res(const dg_nn_src *src, const char *prefix, dg_unet3d_block *b) {
  b->b.has_res = true;
  DG_TRY(dg_nn_resblock_load(src, prefix, &b->b.res));
  b->has_tconv = dg_nn_tconv_present(src, prefix);
  return b->has_tconv ? dg_nn_tconv_load(src, prefix, &b->tconv) : DG_OK;
}

// The spatial transformer at `base`.k, then a temporal one at `base`.(k+1) when there is one; *next:
// the index after them.
static dg_status load_attn(const dg_nn_src *src, dg_unet3d *u, const char *base, int k, int heads, dg_unet3d_block *b,
                           int *next) {
  char p[P_LEN];
  b->b.has_attn = true;
  snprintf(p, sizeof p, "%s.%d", base, k++);
  DG_TRY(dg_nn_transformer_load(src, p, heads, &b->b.attn));
  b->b.attn.index = u->n_attn++;
  snprintf(p, sizeof p, "%s.%d", base, k);
  b->has_tattn = dg_nn_has(src, p, ".proj_in.weight");
  if (b->has_tattn) {
    DG_TRY(dg_nn_temporal_load(src, p, heads, &b->tattn));
    b->tattn.index = u->n_temporal++;
    k++;
  }
  *next = k;
  return DG_OK;
}

static dg_status load_decoder(const dg_nn_src *src, dg_unet_heads heads, dg_unet3d *u) {
  const dg_unet_config *cfg = &u->cfg;
  char base[P_LEN], p[P_LEN];
  int n = 0, nh;
  for (int level = cfg->num_levels - 1; level >= 0; level--) {
    int ch = cfg->channel_mult[level] * cfg->model_channels;
    for (int i = 0; i <= cfg->num_res_blocks; i++) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet3d: too many output blocks");
      dg_unet3d_block *b = &u->output[n];
      int j = 1;
      snprintf(base, sizeof base, DG_LDM_UNET "output_blocks.%d", n);
      snprintf(p, sizeof p, "%s.0", base);
      DG_TRY(load_res(src, p, b));
      if (cfg->attention[level]) {
        DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
        DG_TRY(load_attn(src, u, base, 1, nh, b, &j));
      }
      if (level && i == cfg->num_res_blocks) {
        b->b.has_up = true;
        snprintf(p, sizeof p, "%s.%d.conv", base, j);
        DG_TRY(dg_nn_conv_load(src, p, 1, 1, &b->b.up));
      }
      n++;
    }
  }
  u->n_output = n;
  DG_TRY(dg_nn_norm_load(src, DG_LDM_UNET "out.0", 32, 1e-5f, &u->out_norm));
  return dg_nn_conv_load(src, DG_LDM_UNET "out.2", 1, 1, &u->out_conv);
}

dg_status dg_unet3d_load(const dg_nn_src *src, dg_unet_heads heads, dg_unet3d *out) {
  dg_model_info info;
  DG_TRY(dg_weights_detect(src->w, &info));
  if (!(info.parts & DG_PART_UNET3D))
    return dg_fail(DG_ERR_FORMAT, "unet3d: the checkpoint holds no UNet3D (no temopral_conv, init_attn or fps_embedding)");
  memset(out, 0, sizeof *out);
  dg_unet3d *u = out;
  u->cfg = info.unet;
  const dg_unet_config *cfg = &u->cfg;
  char base[P_LEN], p[P_LEN];
  int nh;
  DG_TRY(dg_nn_linear_load(src, DG_LDM_UNET "time_embed.0", true, &u->time1));
  DG_TRY(dg_nn_linear_load(src, DG_LDM_UNET "time_embed.2", true, &u->time2));
  u->has_fps = dg_nn_has(src, DG_LDM_UNET, "fps_embedding.0.weight");
  if (u->has_fps) {
    DG_TRY(dg_nn_linear_load(src, DG_LDM_UNET "fps_embedding.0", true, &u->fps1));
    DG_TRY(dg_nn_linear_load(src, DG_LDM_UNET "fps_embedding.2", true, &u->fps2));
  }
  u->input[0].b.has_conv = true;
  DG_TRY(dg_nn_conv_load(src, DG_LDM_UNET "input_blocks.0.0", 1, 1, &u->input[0].b.conv));
  u->has_init_attn = dg_nn_has(src, DG_LDM_UNET, "init_attn.0.proj_in.weight");
  if (u->has_init_attn) DG_TRY(dg_nn_temporal_load(src, DG_LDM_UNET "init_attn.0", DG_UNET3D_INIT_ATTN_HEADS, &u->init_attn));
  int n = 1, j;
  for (int level = 0; level < cfg->num_levels; level++) {
    int ch = cfg->channel_mult[level] * cfg->model_channels;
    for (int r = 0; r < cfg->num_res_blocks; r++) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet3d: too many input blocks");
      snprintf(base, sizeof base, DG_LDM_UNET "input_blocks.%d", n);
      snprintf(p, sizeof p, "%s.0", base);
      DG_TRY(load_res(src, p, &u->input[n]));
      if (cfg->attention[level]) {
        DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
        DG_TRY(load_attn(src, u, base, 1, nh, &u->input[n], &j));
      }
      n++;
    }
    if (level != cfg->num_levels - 1) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet3d: too many input blocks");
      u->input[n].b.has_conv = true;
      snprintf(p, sizeof p, DG_LDM_UNET "input_blocks.%d.0.op", n);
      DG_TRY(dg_nn_conv_load(src, p, 2, 1, &u->input[n].b.conv));
      n++;
    }
  }
  u->n_input = n;
  int ch = cfg->channel_mult[cfg->num_levels - 1] * cfg->model_channels;
  DG_TRY(load_res(src, DG_LDM_UNET "middle_block.0", &u->middle));
  j = 1;
  if (cfg->mid_attention) {
    DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
    DG_TRY(load_attn(src, u, DG_LDM_UNET "middle_block", 1, nh, &u->middle, &j));
  }
  snprintf(p, sizeof p, DG_LDM_UNET "middle_block.%d", j);
  DG_TRY(load_res(src, p, &u->middle_res2));
  return load_decoder(src, heads, u);
}

int dg_unet3d_num_control(const dg_unet3d *u) { return u->n_input + 1; }

// As load_attn: a block's spatial transformer is its part 1, the temporal one after it part 2.
int dg_unet3d_count_temporal(const dg_weights *w) {
  static const char *const parts[] = {DG_LDM_UNET "input_blocks.%*d.2.proj_in.weight%n",
                                      DG_LDM_UNET "middle_block.2.proj_in.weight%n",
                                      DG_LDM_UNET "output_blocks.%*d.2.proj_in.weight%n"};
  int n = 0;
  for (size_t i = 0; i < dg_weights_count(w); i++) {
    const char *name = dg_weights_at(w, i)->name;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
      int end = -1;
      if (sscanf(name, parts[k], &end) == 0 && end > 0 && !name[end]) n++;
    }
  }
  return n;
}

int64_t dg_unet3d_largest_whole(const dg_unet_config *c, int frames, int64_t h, int64_t w, const char **what) {
  int64_t best = dg_unet_largest_whole(c, h, w, what);
  for (int l = 0; l < c->num_levels; l++) {
    int64_t hw = (h >> l) * (w >> l), ch = (int64_t)c->channel_mult[l] * c->model_channels;
    if (l == 0 && c->model_channels > ch) ch = c->model_channels; // init_attn on conv_in's output
    if (ch * frames * hw > best) best = ch * frames * hw, *what = "a temporal layer's activations of one video";
  }
  return best;
}

static dg_status block_forward(const dg_nn_ctx *nn, const dg_unet3d_block *b, const dg_tensor *x, const dg_tensor *emb,
                               const dg_tensor *context, dg_tensor *out) {
  dg_unet_temporal tm = {b->has_tconv ? &b->tconv : NULL, b->has_tattn ? &b->tattn : NULL};
  return dg_unet_block_forward_video(nn, &b->b, &tm, x, emb, context, out);
}

// SiLU(time_embed(t) + fps_embedding(fps)) [N*F, time_embed_dim].
static dg_status embed(const dg_nn_ctx *nn, const dg_unet3d *u, const float *t, const float *fps, int n,
                       dg_tensor *emb_silu) {
  int mc = u->cfg.model_channels;
  dg_tensor te, h;
  DG_TRY(dg_unet_sinusoid(nn, mc, t, n, &te));
  DG_TRY(dg_nn_linear_forward(nn, &u->time1, &te, &h));
  DG_TRY(dg_unary(nn->s, DG_SILU, &h, &h, 0, 0));
  DG_TRY(dg_nn_linear_forward(nn, &u->time2, &h, emb_silu));
  if (u->has_fps) {
    float *f = malloc((size_t)n * sizeof *f);
    if (!f) return dg_memory_fail("the frame rates", (uint64_t)n * sizeof *f);
    for (int i = 0; i < n; i++) f[i] = fps ? fps[i] : 16.0f;
    dg_tensor fe, g;
    dg_status st = dg_unet_sinusoid(nn, mc, f, n, &fe);
    free(f);
    DG_TRY(st);
    DG_TRY(dg_nn_linear_forward(nn, &u->fps1, &fe, &h));
    DG_TRY(dg_unary(nn->s, DG_SILU, &h, &h, 0, 0));
    DG_TRY(dg_nn_linear_forward(nn, &u->fps2, &h, &g));
    DG_TRY(dg_binary(nn->s, DG_ADD, emb_silu, &g, emb_silu));
  }
  return dg_unary(nn->s, DG_SILU, emb_silu, emb_silu, 0, 0);
}

dg_status dg_unet3d_forward(const dg_nn_ctx *nn, const dg_unet3d *u, const dg_tensor *x, const float *t,
                            const float *fps, const dg_tensor *context, const dg_tensor *const *control, dg_tensor *eps) {
  dg_tensor emb, ctx, hs[DG_UNET_MAX_BLOCKS], h = *x, nxt;
  if (nn->hooks && nn->hooks->tape) return dg_fail(DG_ERR_UNSUPPORTED, "unet3d: no backward (a tape is set)");
  DG_TRY(dg_unet_frame_context(nn, &u->cfg, x, context, &ctx));
  const char *what;
  int frames = dg_nn_frames(nn);
  const dg_device_info *info = dg_device_get_info(dg_stream_device(nn->s));
  uint64_t whole = (uint64_t)dg_unet3d_largest_whole(&u->cfg, frames, x->shape[2], x->shape[3], &what) *
                   dg_dtype_size(nn->dtype),
           limit = info->max_binding_bytes - info->min_storage_offset_alignment;
  if (whole > limit)
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "unet3d: %d frames of %lldx%lld latents: %s takes %llu bytes in one binding, over the binding limit "
                   "of %llu bytes (fewer frames or a smaller size)",
                   frames, (long long)x->shape[2], (long long)x->shape[3], what, (unsigned long long)whole,
                   (unsigned long long)limit);
  DG_TRY(embed(nn, u, t, fps, (int)(x->shape[0] / dg_nn_frames(nn)), &emb));
  for (int i = 0; i < u->n_input; i++) {
    DG_TRY(block_forward(nn, &u->input[i], &h, &emb, &ctx, &hs[i]));
    if (i == 0 && u->has_init_attn) {
      DG_TRY(dg_nn_temporal_forward(nn, &u->init_attn, &hs[0], &nxt));
      hs[0] = nxt;
    }
    h = hs[i];
  }
  DG_TRY(block_forward(nn, &u->middle, &h, &emb, &ctx, &nxt));
  DG_TRY(block_forward(nn, &u->middle_res2, &nxt, &emb, &ctx, &h));
  int nc = u->n_input;
  if (control) DG_TRY(dg_binary(nn->s, DG_ADD, &h, control[nc], &h));
  for (int j = 0; j < u->n_output; j++) {
    dg_tensor skip = hs[nc - 1 - j], cat;
    if (control) {
      dg_tensor sum;
      DG_TRY(dg_nn_alloc(nn, 4, skip.shape, &sum));
      DG_TRY(dg_binary(nn->s, DG_ADD, &skip, control[nc - 1 - j], &sum));
      skip = sum;
    }
    int64_t cs[4] = {h.shape[0], h.shape[1] + skip.shape[1], h.shape[2], h.shape[3]};
    const dg_tensor *parts[2] = {&h, &skip};
    DG_TRY(dg_nn_alloc(nn, 4, cs, &cat));
    DG_TRY(dg_concat(nn->s, parts, 2, 1, &cat));
    DG_TRY(block_forward(nn, &u->output[j], &cat, &emb, &ctx, &h));
  }
  dg_tensor o;
  DG_TRY(dg_nn_norm_forward(nn, &u->out_norm, &h, true, &o));
  return dg_nn_conv_forward(nn, &u->out_conv, &o, eps);
}
