// The contrastive text-image model of tools/train/dgtrain/clip_model.py as train_clip.py exports it
// (clip.safetensors + clip.json): the CLIP text tower under `cond_stage_model.transformer.`, the image
// tower under `clip.image.` and the two projections. Text embedding: the final-layer-norm state at the
// first end token, `clip.text_projection`, L2 normalisation; image embedding: dg_clip_image. Their dot
// product is the text-image similarity used in evaluation.
#pragma once
#include <stdint.h>

#include "dg_clip_image.h"
#include "dg_clip_text.h"

typedef struct dg_clip {
  dg_clip_text text;
  dg_clip_image image;
  dg_tensor text_projection; // [embed_dim, width]
  int embed_dim;
} dg_clip;

// The text tower's head count comes from the configuration's text.heads.
dg_status dg_clip_load(const dg_nn_src *src, const dg_model_config *cfg, dg_clip *out);
// n token sequences ids [n, len] -> unit-norm embeddings [n, embed_dim] on the host; finishes the
// stream and releases its scratch.
dg_status dg_clip_embed_ids(const dg_nn_ctx *nn, const dg_clip *c, const int32_t *ids, int n, int len, float *embeddings);
// Tokenizes n texts (77 tokens each, cut to the tower's positions) and embeds them as above.
dg_status dg_clip_embed_texts(const dg_nn_ctx *nn, const dg_clip *c, const dg_tokenizer *tok, const char *const *texts,
                              int n, float *embeddings);
// Cosine similarity of two unit-norm embeddings.
float dg_clip_similarity(const float *a, const float *b, int dim);
