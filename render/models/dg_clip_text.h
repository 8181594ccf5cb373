// CLIP text transformer (Hugging Face CLIPTextModel names under `cond_stage_model.transformer.`):
// token + position embeddings, pre-LN layers of causal multi-head self-attention (q scaled by
// head_dim^-0.5) and a quick-GELU MLP, final layer norm. SD 1.5's encoder and our small ones share it.
#pragma once
#include "dg_model_config.h"
#include "dg_nn.h"
#include "dg_tokenizer.h"

#define DG_CLIP_MAX_LAYERS 48

typedef struct dg_clip_layer {
  dg_nn_norm ln1, ln2;
  dg_nn_linear q, k, v, out, fc1, fc2;
} dg_clip_layer;

typedef struct dg_clip_text {
  dg_clip_config cfg;
  int heads;
  dg_tensor token, position;
  dg_clip_layer layers[DG_CLIP_MAX_LAYERS];
  dg_nn_norm final_ln;
} dg_clip_text;

// heads: SD 1.5 12 (not recorded in the weights).
dg_status dg_clip_text_load(const dg_nn_src *src, int heads, dg_clip_text *out);
// The head count from a text encoder's configuration ("heads"; absent: width / 64, CLIP ViT-L/14's 12
// heads of 64 for SD 1.5): a whole number dividing the width of `cc` (the detected configuration),
// else an error naming the source, the key and the value.
dg_status dg_clip_text_heads_read(const dg_model_config *c, const dg_clip_config *cc, int *heads);
// ids [batch, len] (host, len <= max positions) -> hidden [batch, len, width] after the final layer
// norm; skip = 0 uses the last layer's output, skip = 1 the one before ("clip skip 2"), etc.
dg_status dg_clip_text_forward(const dg_nn_ctx *nn, const dg_clip_text *c, const int32_t *ids, int batch, int len, int skip,
                               dg_tensor *hidden);
// The pooled token of each sequence: the position of its largest id (the first end token).
int dg_clip_text_pooled_index(const int32_t *ids, int len);
// Tokenizes `n` prompts (77 tokens each) and encodes them: context [n, 77, width] for the UNet.
dg_status dg_clip_text_encode(const dg_nn_ctx *nn, const dg_clip_text *c, const dg_tokenizer *tok,
                              const char *const *prompts, int n, int skip, dg_tensor *context);
