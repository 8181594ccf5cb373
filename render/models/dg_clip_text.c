#include "dg_clip_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attention.h"
#include "dg_elementwise.h"
#include "dg_embedding.h"

// Weight names are built with snprintf into fixed buffers; the loaders reject a truncated name.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define CLIP DG_LDM_CLIP "text_model."

dg_status dg_clip_text_load(const dg_nn_src *src, int heads, dg_clip_text *out) {
  dg_model_info info;
  DG_TRY(dg_weights_detect(src->w, &info));
  if (!(info.parts & DG_PART_CLIP_TEXT))
    return dg_fail(DG_ERR_FORMAT, "clip_text: the checkpoint holds no CLIP text encoder");
  memset(out, 0, sizeof *out);
  out->cfg = info.clip;
  out->heads = heads;
  if (heads < 1 || out->cfg.width % heads)
    return dg_fail(DG_ERR_ARG, "clip_text: width %d not divisible by %d heads", out->cfg.width, heads);
  if (out->cfg.layers < 1 || out->cfg.layers > DG_CLIP_MAX_LAYERS)
    return dg_fail(DG_ERR_UNSUPPORTED, "clip_text: %d layers", out->cfg.layers);
  DG_TRY(dg_weights_load(src->w, CLIP "embeddings.token_embedding.weight", src->arena, src->dtype, &out->token));
  DG_TRY(dg_weights_load(src->w, CLIP "embeddings.position_embedding.weight", src->arena, src->dtype, &out->position));
  char p[256];
  for (int i = 0; i < out->cfg.layers; i++) {
    dg_clip_layer *l = &out->layers[i];
#define SUB(fmt) (snprintf(p, sizeof p, CLIP "encoder.layers.%d." fmt, i), p)
    DG_TRY(dg_nn_norm_load(src, SUB("layer_norm1"), 0, 1e-5f, &l->ln1));
    DG_TRY(dg_nn_norm_load(src, SUB("layer_norm2"), 0, 1e-5f, &l->ln2));
    DG_TRY(dg_nn_linear_load(src, SUB("self_attn.q_proj"), true, &l->q));
    DG_TRY(dg_nn_linear_load(src, SUB("self_attn.k_proj"), true, &l->k));
    DG_TRY(dg_nn_linear_load(src, SUB("self_attn.v_proj"), true, &l->v));
    DG_TRY(dg_nn_linear_load(src, SUB("self_attn.out_proj"), true, &l->out));
    DG_TRY(dg_nn_linear_load(src, SUB("mlp.fc1"), true, &l->fc1));
    DG_TRY(dg_nn_linear_load(src, SUB("mlp.fc2"), true, &l->fc2));
#undef SUB
  }
  return dg_nn_norm_load(src, CLIP "final_layer_norm", 0, 1e-5f, &out->final_ln);
}

dg_status dg_clip_text_heads_read(const dg_model_config *c, const dg_clip_config *cc, int *heads) {
  int guess = cc->width >= 64 ? cc->width / 64 : 1;
  DG_TRY(dg_model_config_int(c, "heads", guess, 1, 1 << 16, heads));
  if (cc->width % *heads)
    return dg_fail(DG_ERR_FORMAT, "%s: 'heads' is %d, which does not divide the text encoder's width %d", c->source,
                   *heads, cc->width);
  return DG_OK;
}

dg_status dg_clip_text_forward(const dg_nn_ctx *nn, const dg_clip_text *c, const int32_t *ids, int batch, int len, int skip,
                               dg_tensor *hidden) {
  int w = c->cfg.width;
  if (batch < 1 || len < 1 || len > c->position.shape[0] || skip < 0 || skip >= c->cfg.layers)
    return dg_fail(DG_ERR_ARG, "clip_text: batch %d, %d tokens (max %lld), skip %d of %d layers", batch, len,
                   (long long)c->position.shape[0], skip, c->cfg.layers);
  int64_t n = (int64_t)batch * len;
  uint32_t *u = malloc((size_t)n * sizeof *u);
  if (!u) return dg_fail(DG_ERR_OOM, "clip_text: out of host memory");
  for (int64_t i = 0; i < n; i++)
    u[i] = ids[i] < 0 ? UINT32_MAX : (uint32_t)ids[i];
  int64_t xs[3] = {batch, len, w};
  dg_tensor x, pos, h, q, k, v, o, y;
  dg_status st = dg_nn_alloc(nn, 3, xs, &x);
  if (st == DG_OK) st = dg_embedding_lookup_host(nn->s, nn->scratch, u, n, &c->token, &x);
  free(u);
  DG_TRY(st);
  pos = c->position; // its first len rows
  pos.ndim = 2;
  pos.shape[0] = len;
  pos.shape[1] = w;
  pos.data.size = (uint64_t)len * w * dg_dtype_size(pos.dtype);
  DG_TRY(dg_binary(nn->s, DG_ADD, &x, &pos, &x));
  dg_attention_args causal = {.heads = c->heads, .scale = 1.0f / sqrtf((float)(w / c->heads)), .causal = true};
  for (int i = 0; i < c->cfg.layers - skip; i++) {
    const dg_clip_layer *l = &c->layers[i];
    DG_TRY(dg_nn_norm_forward(nn, &l->ln1, &x, false, &h));
    DG_TRY(dg_nn_linear_forward(nn, &l->q, &h, &q));
    DG_TRY(dg_nn_linear_forward(nn, &l->k, &h, &k));
    DG_TRY(dg_nn_linear_forward(nn, &l->v, &h, &v));
    DG_TRY(dg_nn_alloc(nn, 3, xs, &o));
    DG_TRY(dg_attention(nn->s, &q, &k, &v, &causal, &o));
    DG_TRY(dg_nn_linear_forward(nn, &l->out, &o, &y));
    DG_TRY(dg_binary(nn->s, DG_ADD, &x, &y, &x));
    DG_TRY(dg_nn_norm_forward(nn, &l->ln2, &x, false, &h));
    DG_TRY(dg_nn_linear_forward(nn, &l->fc1, &h, &q));
    DG_TRY(dg_unary(nn->s, DG_QUICK_GELU, &q, &q, 0, 0));
    DG_TRY(dg_nn_linear_forward(nn, &l->fc2, &q, &y));
    DG_TRY(dg_binary(nn->s, DG_ADD, &x, &y, &x));
  }
  return dg_nn_norm_forward(nn, &c->final_ln, &x, false, hidden);
}

int dg_clip_text_pooled_index(const int32_t *ids, int len) {
  int best = 0;
  for (int i = 1; i < len; i++)
    if (ids[i] > ids[best]) best = i;
  return best;
}

dg_status dg_clip_text_encode(const dg_nn_ctx *nn, const dg_clip_text *c, const dg_tokenizer *tok,
                              const char *const *prompts, int n, int skip, dg_tensor *context) {
  if (n < 1) return dg_fail(DG_ERR_ARG, "clip_text: no prompts");
  int32_t *ids = malloc((size_t)n * DG_TOKENS_MAX * sizeof *ids);
  if (!ids) return dg_fail(DG_ERR_OOM, "clip_text: out of host memory");
  dg_status st = DG_OK;
  for (int i = 0; i < n && st == DG_OK; i++)
    st = dg_tokenizer_encode(tok, prompts[i], DG_TOKENS_MAX, ids + (size_t)i * DG_TOKENS_MAX, NULL, NULL);
  if (st == DG_OK) st = dg_clip_text_forward(nn, c, ids, n, DG_TOKENS_MAX, skip, context);
  free(ids);
  return st;
}
