#include "dg_unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_layout.h"
#include "dg_memory.h"
#include "dg_resample.h"
#include "dg_tape.h"

#define P_LEN 256
// Weight names are built with snprintf into fixed buffers; the loaders reject a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

dg_status dg_unet_heads_for(const char *source, dg_unet_heads h, int ch, int *heads) {
  dg_status err = strcmp(source, "unet") ? DG_ERR_FORMAT : DG_ERR_ARG;
  if (h.num_heads > 0) {
    *heads = h.num_heads;
    if (ch % h.num_heads == 0) return DG_OK;
    return dg_fail(err, "%s: num_heads %d does not divide the width %d of an attention block", source, h.num_heads, ch);
  }
  if (h.num_head_channels <= 0) return dg_fail(err, "%s: neither num_heads nor num_head_channels is positive", source);
  *heads = ch / h.num_head_channels;
  if (*heads >= 1 && ch % h.num_head_channels == 0) return DG_OK;
  return dg_fail(err, "%s: num_head_channels %d does not divide the width %d of an attention block (%d heads)",
                 source, h.num_head_channels, ch, *heads);
}

// Every attention block's width: each level's with attention, and the middle block's.
static dg_status check_heads(const char *source, dg_unet_heads h, const dg_unet_config *cfg) {
  int heads;
  for (int level = 0; level < cfg->num_levels; level++)
    if (cfg->attention[level]) DG_TRY(dg_unet_heads_for(source, h, cfg->channel_mult[level] * cfg->model_channels, &heads));
  if (cfg->mid_attention && cfg->num_levels > 0)
    DG_TRY(dg_unet_heads_for(source, h, cfg->channel_mult[cfg->num_levels - 1] * cfg->model_channels, &heads));
  return DG_OK;
}

dg_status dg_unet_heads_read(const dg_model_config *c, const dg_unet_config *u, dg_unet_heads *out) {
  // SD 1.x: 8 heads everywhere (not recorded in the weights); our exports record theirs.
  DG_TRY(dg_model_config_int(c, "num_heads", 8, -1, 1 << 16, &out->num_heads));
  DG_TRY(dg_model_config_int(c, "num_head_channels", -1, -1, 1 << 16, &out->num_head_channels));
  if (!out->num_heads || !out->num_head_channels)
    return dg_fail(DG_ERR_FORMAT, "%s: '%s' is 0 (a head count or width must be positive; -1 leaves it unset)",
                   c->source, out->num_heads ? "num_head_channels" : "num_heads");
  return check_heads(c->source, *out, u);
}

dg_status dg_unet_encoder_load(const dg_nn_src *src, const char *prefix, const dg_unet_config *cfg, dg_unet_heads heads,
                               dg_unet_encoder *out) {
  char p[P_LEN];
  int nh;
  DG_TRY(check_heads("unet", heads, cfg));
  memset(out, 0, sizeof *out);
  out->cfg = *cfg;
  snprintf(p, sizeof p, "%stime_embed.0", prefix);
  DG_TRY(dg_nn_linear_load(src, p, true, &out->time1));
  snprintf(p, sizeof p, "%stime_embed.2", prefix);
  DG_TRY(dg_nn_linear_load(src, p, true, &out->time2));
  int mc = cfg->model_channels, n = 0;
  dg_unet_block *b = &out->input[n++];
  b->has_conv = true;
  snprintf(p, sizeof p, "%sinput_blocks.0.0", prefix);
  DG_TRY(dg_nn_conv_load(src, p, 1, 1, &b->conv));
  for (int level = 0; level < cfg->num_levels; level++) {
    int ch = cfg->channel_mult[level] * mc;
    for (int r = 0; r < cfg->num_res_blocks; r++) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet: too many input blocks");
      b = &out->input[n];
      b->has_res = true;
      snprintf(p, sizeof p, "%sinput_blocks.%d.0", prefix, n);
      DG_TRY(dg_nn_resblock_load(src, p, &b->res));
      if (cfg->attention[level]) {
        b->has_attn = true;
        snprintf(p, sizeof p, "%sinput_blocks.%d.1", prefix, n);
        DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
        DG_TRY(dg_nn_transformer_load(src, p, nh, &b->attn));
        b->attn.index = out->n_attn++;
      }
      n++;
    }
    if (level != cfg->num_levels - 1) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet: too many input blocks");
      b = &out->input[n];
      b->has_conv = true;
      snprintf(p, sizeof p, "%sinput_blocks.%d.0.op", prefix, n);
      DG_TRY(dg_nn_conv_load(src, p, 2, 1, &b->conv));
      n++;
    }
  }
  out->n_input = n;
  int ch = cfg->channel_mult[cfg->num_levels - 1] * mc;
  out->middle.has_res = true;
  snprintf(p, sizeof p, "%smiddle_block.0", prefix);
  DG_TRY(dg_nn_resblock_load(src, p, &out->middle.res));
  out->middle.has_attn = cfg->mid_attention;
  if (cfg->mid_attention) {
    snprintf(p, sizeof p, "%smiddle_block.1", prefix);
    DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
    DG_TRY(dg_nn_transformer_load(src, p, nh, &out->middle.attn));
    out->middle.attn.index = out->n_attn++;
  }
  snprintf(p, sizeof p, "%smiddle_block.%d", prefix, cfg->mid_attention ? 2 : 1);
  return dg_nn_resblock_load(src, p, &out->middle_res2);
}

dg_status dg_unet_sinusoid(const dg_nn_ctx *nn, int dim, const float *t, int n, dg_tensor *out) {
  int f = dg_nn_frames(nn);
  float *host = malloc((size_t)n * f * dim * sizeof *host), *tf = f > 1 ? malloc((size_t)n * f * sizeof *tf) : NULL;
  if (!host || (f > 1 && !tf)) {
    free(host);
    free(tf);
    return dg_memory_fail("the timestep embedding", ((uint64_t)n * f * dim + (f > 1 ? (uint64_t)n * f : 0)) * sizeof *host);
  }
  for (int i = 0; tf && i < n * f; i++) tf[i] = t[i / f]; // the frames of an item share its value
  dg_nn_timestep_embedding(tf ? tf : t, n * f, dim, host);
  free(tf);
  int64_t shape[2] = {(int64_t)n * f, dim};
  dg_status st = dg_nn_alloc(nn, 2, shape, out);
  // A host write: scratch memory may still be in use by recorded work (layers release temporaries
  // right after recording), so that work must finish first.
  if (st == DG_OK) st = dg_stream_finish(nn->s);
  if (st == DG_OK) st = dg_tensor_write_f32(out, host);
  free(host);
  return st;
}

dg_status dg_unet_time_embed(const dg_nn_ctx *nn, const dg_unet_encoder *e, const float *t, int n, dg_tensor *emb_silu) {
  dg_tensor te, h;
  DG_TRY(dg_unet_sinusoid(nn, e->cfg.model_channels, t, n, &te));
  DG_TRY(dg_nn_linear_forward(nn, &e->time1, &te, &h));
  DG_TRY(dg_unary(nn->s, DG_SILU, &h, &h, 0, 0));
  DG_TRY(dg_nn_linear_forward(nn, &e->time2, &h, emb_silu));
  return dg_unary(nn->s, DG_SILU, emb_silu, emb_silu, 0, 0);
}

dg_status dg_unet_frame_context(const dg_nn_ctx *nn, const dg_unet_config *cfg, const dg_tensor *x,
                                const dg_tensor *context, dg_tensor *frame_context) {
  char sx[96], sc[96];
  int64_t f = dg_nn_frames(nn), n = x->ndim == 4 ? x->shape[0] / f : 0;
  const dg_tensor *c = dg_nn_context(nn, context);
  if (x->ndim != 4 || x->shape[1] != cfg->in_channels || n * f != x->shape[0] || c->ndim != 3 ||
      (c->shape[0] != n * f && c->shape[0] != n) || c->shape[2] != cfg->context_dim)
    return dg_fail(DG_ERR_ARG, "unet: x %s must be [N*%lld, %d, h, w] and context %s [N or N*%lld, L, %d]",
                   dg_shape_str(x, sx, sizeof sx), (long long)f, cfg->in_channels, dg_shape_str(c, sc, sizeof sc),
                   (long long)f, cfg->context_dim);
  int levels = cfg->num_levels - 1;
  if (x->shape[2] % (1 << levels) || x->shape[3] % (1 << levels))
    return dg_fail(DG_ERR_ARG, "unet: latent size %s must be divisible by %d", dg_shape_str(x, sx, sizeof sx),
                   1 << levels);
  *frame_context = *c;
  if (c->shape[0] == n * f) return DG_OK;
  // One context per item, repeated over its frames: [N, 1, L*D] -> [N, F, L*D].
  int64_t one[3] = {n, 1, c->shape[1] * c->shape[2]}, all[3] = {n, f, one[2]};
  int64_t fs[3] = {n * f, c->shape[1], c->shape[2]};
  dg_tensor src, dst;
  const dg_tensor **parts = malloc((size_t)f * sizeof *parts);
  if (!parts) return dg_memory_fail("the frame list", (uint64_t)f * sizeof *parts);
  for (int64_t i = 0; i < f; i++) parts[i] = &src;
  dg_status st = dg_tensor_reshape(c, 3, one, &src);
  if (st == DG_OK) st = dg_nn_alloc(nn, 3, fs, frame_context);
  if (st == DG_OK) st = dg_tensor_reshape(frame_context, 3, all, &dst);
  if (st == DG_OK) st = dg_concat(nn->s, parts, (int)f, 1, &dst);
  free(parts);
  return st;
}

dg_status dg_unet_inputs(const dg_nn_ctx *nn, const dg_unet_encoder *e, const dg_tensor *x, const float *t,
                         const dg_tensor *context, dg_tensor *emb_silu, dg_tensor *frame_context) {
  DG_TRY(dg_unet_frame_context(nn, &e->cfg, x, context, frame_context)); // checks x and context first
  return dg_unet_time_embed(nn, e, t, (int)(x->shape[0] / dg_nn_frames(nn)), emb_silu);
}

dg_status dg_unet_block_forward(const dg_nn_ctx *nn, const dg_unet_block *b, const dg_tensor *x, const dg_tensor *emb_silu,
                                const dg_tensor *context, dg_tensor *out) {
  return dg_unet_block_forward_video(nn, b, NULL, x, emb_silu, context, out);
}

dg_status dg_unet_block_forward_video(const dg_nn_ctx *nn, const dg_unet_block *b, const dg_unet_temporal *tm,
                                      const dg_tensor *x, const dg_tensor *emb_silu, const dg_tensor *context,
                                      dg_tensor *out) {
  dg_tensor cur = *x, nxt;
  if (b->has_conv) {
    DG_TRY(dg_nn_conv_forward(nn, &b->conv, &cur, &nxt));
    cur = nxt;
  }
  if (b->has_res) {
    DG_TRY(dg_nn_resblock_forward(nn, &b->res, &cur, emb_silu, &nxt));
    cur = nxt;
  }
  if (tm && tm->tconv) {
    DG_TRY(dg_nn_tconv_forward(nn, tm->tconv, &cur, &nxt));
    cur = nxt;
  }
  if (b->has_attn) {
    DG_TRY(dg_nn_transformer_forward(nn, &b->attn, &cur, context, &nxt));
    cur = nxt;
  }
  if (tm && tm->tattn) {
    DG_TRY(dg_nn_temporal_forward(nn, tm->tattn, &cur, &nxt));
    cur = nxt;
  }
  if (b->has_up) {
    int64_t s[4] = {cur.shape[0], cur.shape[1], cur.shape[2] * 2, cur.shape[3] * 2};
    dg_tensor u;
    DG_TRY(dg_nn_alloc(nn, 4, s, &u));
    DG_TRY(dg_upsample_nearest2x(nn->s, &cur, &u));
    if (dg_nn_tape(nn)) DG_TRY(dg_tape_record_upsample(dg_nn_tape(nn), &cur, &u));
    DG_TRY(dg_nn_conv_forward(nn, &b->up, &u, &nxt));
    cur = nxt;
  }
  *out = cur;
  return DG_OK;
}

dg_status dg_unet_load(const dg_nn_src *src, dg_unet_heads heads, dg_unet *out) {
  dg_model_info info;
  DG_TRY(dg_weights_detect(src->w, &info));
  if (!(info.parts & DG_PART_UNET)) return dg_fail(DG_ERR_FORMAT, "unet: the checkpoint holds no 2-D UNet");
  const dg_unet_config *cfg = &info.unet;
  memset(out, 0, sizeof *out);
  DG_TRY(dg_unet_encoder_load(src, DG_LDM_UNET, cfg, heads, &out->enc));
  out->n_attn = out->enc.n_attn; // the output blocks' transformers number on
  char p[P_LEN];
  int mc = cfg->model_channels, n = 0, nh;
  for (int level = cfg->num_levels - 1; level >= 0; level--) {
    int ch = cfg->channel_mult[level] * mc;
    for (int i = 0; i <= cfg->num_res_blocks; i++) {
      if (n >= DG_UNET_MAX_BLOCKS) return dg_fail(DG_ERR_UNSUPPORTED, "unet: too many output blocks");
      dg_unet_block *b = &out->output[n];
      int j = 0;
      b->has_res = true;
      snprintf(p, sizeof p, DG_LDM_UNET "output_blocks.%d.%d", n, j++);
      DG_TRY(dg_nn_resblock_load(src, p, &b->res));
      if (cfg->attention[level]) {
        b->has_attn = true;
        snprintf(p, sizeof p, DG_LDM_UNET "output_blocks.%d.%d", n, j++);
        DG_TRY(dg_unet_heads_for("unet", heads, ch, &nh));
        DG_TRY(dg_nn_transformer_load(src, p, nh, &b->attn));
        b->attn.index = out->n_attn++;
      }
      if (level && i == cfg->num_res_blocks) {
        b->has_up = true;
        snprintf(p, sizeof p, DG_LDM_UNET "output_blocks.%d.%d.conv", n, j++);
        DG_TRY(dg_nn_conv_load(src, p, 1, 1, &b->up));
      }
      n++;
    }
  }
  out->n_output = n;
  DG_TRY(dg_nn_norm_load(src, DG_LDM_UNET "out.0", 32, 1e-5f, &out->out_norm));
  return dg_nn_conv_load(src, DG_LDM_UNET "out.2", 1, 1, &out->out_conv);
}

int64_t dg_unet_largest_whole(const dg_unet_config *c, int64_t h, int64_t w, const char **what) {
  int64_t best = 0;
  *what = "no layer";
  for (int l = 0; l < c->num_levels; l++) {
    // A transformer's activations of one latent, [C, H*W]: its NCHW <-> token transposes (dg_permute
    // splits them along the batch only) and its self-attention's keys (dg_attention binds one item's
    // K whole). GEGLU, concatenation, upsampling and the rest split by rows, planes or bands.
    int64_t hw = (h >> l) * (w >> l), ch = (int64_t)c->channel_mult[l] * c->model_channels;
    bool attn = c->attention[l] || (l == c->num_levels - 1 && c->mid_attention);
    if (attn && hw * ch > best) best = hw * ch, *what = "a transformer's activations of one latent";
  }
  return best;
}

int dg_unet_num_control(const dg_unet *u) { return u->enc.n_input + 1; }

dg_status dg_unet_forward(const dg_nn_ctx *nn, const dg_unet *u, const dg_tensor *x, const float *t,
                          const dg_tensor *context, const dg_tensor *const *control, dg_tensor *eps) {
  dg_tensor emb, ctx, hs[DG_UNET_MAX_BLOCKS], h = *x, nxt;
  DG_TRY(dg_unet_inputs(nn, &u->enc, x, t, context, &emb, &ctx));
  for (int i = 0; i < u->enc.n_input; i++) {
    DG_TRY(dg_unet_block_forward(nn, &u->enc.input[i], &h, &emb, &ctx, &hs[i]));
    h = hs[i];
  }
  DG_TRY(dg_unet_block_forward(nn, &u->enc.middle, &h, &emb, &ctx, &nxt));
  DG_TRY(dg_nn_resblock_forward(nn, &u->enc.middle_res2, &nxt, &emb, &h));
  int nc = u->enc.n_input;
  if (control) DG_TRY(dg_binary(nn->s, DG_ADD, &h, control[nc], &h));
  for (int j = 0; j < u->n_output; j++) {
    dg_tensor skip = hs[nc - 1 - j], cat;
    if (control) {
      dg_tensor sum;
      DG_TRY(dg_nn_alloc(nn, 4, skip.shape, &sum));
      DG_TRY(dg_binary(nn->s, DG_ADD, &skip, control[nc - 1 - j], &sum));
      if (dg_nn_tape(nn)) DG_TRY(dg_tape_record_add(dg_nn_tape(nn), &sum, &skip, control[nc - 1 - j]));
      skip = sum;
    }
    int64_t cs[4] = {h.shape[0], h.shape[1] + skip.shape[1], h.shape[2], h.shape[3]};
    const dg_tensor *parts[2] = {&h, &skip};
    DG_TRY(dg_nn_alloc(nn, 4, cs, &cat));
    DG_TRY(dg_concat(nn->s, parts, 2, 1, &cat));
    if (dg_nn_tape(nn)) DG_TRY(dg_tape_record_concat(dg_nn_tape(nn), parts, 2, 1, &cat));
    DG_TRY(dg_unet_block_forward(nn, &u->output[j], &cat, &emb, &ctx, &h));
  }
  dg_tensor o;
  DG_TRY(dg_nn_norm_forward(nn, &u->out_norm, &h, true, &o));
  return dg_nn_conv_forward(nn, &u->out_conv, &o, eps);
}
