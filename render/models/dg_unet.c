#include "dg_unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_elementwise.h"
#include "dg_memory.h"
#include "dg_nn_ops.h"

#define P_LEN 256
// Weight names are built with snprintf into fixed buffers; the loaders reject a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

// The heads of an attention block `ch` wide; an error (DG_ERR_FORMAT for a configuration file, else
// DG_ERR_ARG, prefixed with `source`) unless there is at least one and they split the width evenly.
static dg_status heads_for(const char *source, dg_unet_heads h, int ch, int *heads) {
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
    if (cfg->attention[level]) DG_TRY(heads_for(source, h, cfg->channel_mult[level] * cfg->model_channels, &heads));
  if (cfg->mid_attention && cfg->num_levels > 0)
    DG_TRY(heads_for(source, h, cfg->channel_mult[cfg->num_levels - 1] * cfg->model_channels, &heads));
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
        DG_TRY(heads_for("unet", heads, ch, &nh));
        DG_TRY(dg_nn_transformer_load(src, p, nh, &b->attn));
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
    DG_TRY(heads_for("unet", heads, ch, &nh));
    DG_TRY(dg_nn_transformer_load(src, p, nh, &out->middle.attn));
  }
  snprintf(p, sizeof p, "%smiddle_block.%d", prefix, cfg->mid_attention ? 2 : 1);
  return dg_nn_resblock_load(src, p, &out->middle_res2);
}

dg_status dg_unet_time_embed(const dg_nn *nn, const dg_unet_encoder *e, const float *t, int n, dg_tensor *emb_silu) {
  int mc = e->cfg.model_channels;
  float *host = malloc((size_t)n * mc * sizeof *host);
  if (!host) return dg_memory_fail("the timestep embedding", (uint64_t)n * mc * sizeof *host);
  dg_nn_timestep_embedding(t, n, mc, host);
  int64_t shape[2] = {n, mc};
  dg_tensor te, h;
  dg_status st = dg_nn_alloc(nn, 2, shape, &te);
  // A host write: scratch memory may still be in use by recorded work (layers release temporaries
  // right after recording), so that work must finish first.
  if (st == DG_OK) st = dg_stream_finish(nn->s);
  if (st == DG_OK) dg_tensor_write_f32(&te, host);
  free(host);
  DG_TRY(st);
  DG_TRY(dg_nn_linear_forward(nn, &e->time1, &te, &h));
  DG_TRY(dg_unary(nn->s, DG_SILU, &h, &h, 0, 0));
  DG_TRY(dg_nn_linear_forward(nn, &e->time2, &h, emb_silu));
  return dg_unary(nn->s, DG_SILU, emb_silu, emb_silu, 0, 0);
}

dg_status dg_unet_block_forward(const dg_nn *nn, const dg_unet_block *b, const dg_tensor *x, const dg_tensor *emb_silu,
                                const dg_tensor *context, dg_tensor *out) {
  dg_tensor cur = *x, nxt;
  if (b->has_conv) {
    DG_TRY(dg_nn_conv_forward(nn, &b->conv, &cur, &nxt));
    cur = nxt;
  }
  if (b->has_res) {
    DG_TRY(dg_nn_resblock_forward(nn, &b->res, &cur, emb_silu, &nxt));
    cur = nxt;
  }
  if (b->has_attn) {
    DG_TRY(dg_nn_transformer_forward(nn, &b->attn, &cur, context, &nxt));
    cur = nxt;
  }
  if (b->has_up) {
    int64_t s[4] = {cur.shape[0], cur.shape[1], cur.shape[2] * 2, cur.shape[3] * 2};
    dg_tensor u;
    DG_TRY(dg_nn_alloc(nn, 4, s, &u));
    DG_TRY(dg_nn_upsample2x(nn->s, &cur, &u));
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
        DG_TRY(heads_for("unet", heads, ch, &nh));
        DG_TRY(dg_nn_transformer_load(src, p, nh, &b->attn));
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

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int64_t dg_unet_largest_whole(const dg_unet_config *c, int64_t batch, int64_t h, int64_t w, const char **what) {
  int64_t best = 0;
  *what = "no layer";
  for (int l = 0; l < c->num_levels; l++) {
    int64_t hw = (h >> l) * (w >> l), ch = (int64_t)c->channel_mult[l] * c->model_channels;
    int64_t below = l + 1 < c->num_levels ? (int64_t)c->channel_mult[l + 1] * c->model_channels : ch;
    int64_t above = l > 0 ? (int64_t)c->channel_mult[l - 1] * c->model_channels : c->model_channels;
    // GEGLU input: the feed-forward's 2 x 4 x width (SD's SpatialTransformer); an output block's input:
    // the block below (upsampled) or this level's, concatenated with a skip of this level or the one above.
    int64_t size[3] = {c->attention[l] || (l == c->num_levels - 1 && c->mid_attention) ? 8 * ch : 0,
                       max64(below, ch) + max64(ch, above), l + 1 < c->num_levels ? below : 0};
    const char *name[3] = {"the feed-forward GEGLU", "an output block's concatenated input", "an upsampled activation"};
    for (int i = 0; i < 3; i++)
      if (batch * hw * size[i] > best) best = batch * hw * size[i], *what = name[i];
  }
  return best;
}

int dg_unet_num_control(const dg_unet *u) { return u->enc.n_input + 1; }

dg_status dg_unet_forward(const dg_nn *nn, const dg_unet *u, const dg_tensor *x, const float *t,
                          const dg_tensor *context, const dg_tensor *const *control, dg_tensor *eps) {
  char sx[96];
  if (x->ndim != 4 || x->shape[1] != u->enc.cfg.in_channels || context->ndim != 3 || context->shape[0] != x->shape[0] ||
      context->shape[2] != u->enc.cfg.context_dim)
    return dg_fail(DG_ERR_ARG, "unet: x %s must be [N, %d, h, w] and context [N, L, %d]",
                   dg_shape_str(x, sx, sizeof sx), u->enc.cfg.in_channels, u->enc.cfg.context_dim);
  int levels = u->enc.cfg.num_levels - 1;
  if (x->shape[2] % (1 << levels) || x->shape[3] % (1 << levels))
    return dg_fail(DG_ERR_ARG, "unet: latent size %s must be divisible by %d", dg_shape_str(x, sx, sizeof sx),
                   1 << levels);
  dg_tensor emb, hs[DG_UNET_MAX_BLOCKS], h = *x, nxt;
  DG_TRY(dg_unet_time_embed(nn, &u->enc, t, (int)x->shape[0], &emb));
  for (int i = 0; i < u->enc.n_input; i++) {
    DG_TRY(dg_unet_block_forward(nn, &u->enc.input[i], &h, &emb, context, &hs[i]));
    h = hs[i];
  }
  DG_TRY(dg_unet_block_forward(nn, &u->enc.middle, &h, &emb, context, &nxt));
  DG_TRY(dg_nn_resblock_forward(nn, &u->enc.middle_res2, &nxt, &emb, &h));
  int nc = u->enc.n_input;
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
    DG_TRY(dg_nn_alloc(nn, 4, cs, &cat));
    DG_TRY(dg_nn_put_channels(nn->s, &h, 0, &cat));
    DG_TRY(dg_nn_put_channels(nn->s, &skip, h.shape[1], &cat));
    DG_TRY(dg_unet_block_forward(nn, &u->output[j], &cat, &emb, context, &h));
  }
  dg_tensor o;
  DG_TRY(dg_nn_norm_forward(nn, &u->out_norm, &h, true, &o));
  return dg_nn_conv_forward(nn, &u->out_conv, &o, eps);
}
