#include "dg_clip.h"

#include <stdlib.h>
#include <string.h>

#include "dg_matmul.h"

dg_status dg_clip_load(const dg_nn_src *src, const dg_model_config *cfg, dg_clip *out) {
  memset(out, 0, sizeof *out);
  int heads;
  DG_TRY(dg_model_config_int(cfg, "text.heads", 0, 1, 4096, &heads));
  if (heads < 1) return dg_fail(DG_ERR_FORMAT, "%s: no text.heads (the text tower's head count)", cfg->source);
  DG_TRY(dg_clip_text_load(src, heads, &out->text));
  DG_TRY(dg_clip_image_load(src, cfg, &out->image));
  out->embed_dim = out->image.embed_dim;
  int64_t ps[2] = {out->embed_dim, out->text.cfg.width};
  return dg_weights_load_shaped(src->w, "clip.text_projection.weight", 2, ps, src->arena, src->dtype,
                                &out->text_projection);
}

dg_status dg_clip_embed_ids(const dg_nn_ctx *nn, const dg_clip *c, const int32_t *ids, int n, int len, float *embeddings) {
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  int d = c->embed_dim;
  float *proj = malloc((size_t)n * len * d * sizeof *proj);
  dg_tensor hidden, projected;
  dg_status s = proj ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  // Every position is projected (a small matmul), then the pooled one is picked on the host.
  if (s == DG_OK) s = dg_clip_text_forward(nn, &c->text, ids, n, len, 0, &hidden);
  int64_t shape[3] = {n, len, d};
  if (s == DG_OK) s = dg_nn_alloc(nn, 3, shape, &projected);
  if (s == DG_OK) s = dg_linear(nn->s, &hidden, &c->text_projection, NULL, &projected);
  if (s == DG_OK) s = dg_stream_finish(nn->s);
  else dg_stream_finish(nn->s);
  if (s == DG_OK) s = dg_tensor_read_f32(&projected, proj);
  if (s == DG_OK) {
    for (int i = 0; i < n; i++) {
      int k = dg_clip_text_pooled_index(ids + (size_t)i * len, len);
      memcpy(embeddings + (size_t)i * d, proj + ((size_t)i * len + k) * d, (size_t)d * sizeof *proj);
    }
    dg_clip_normalize(embeddings, n, d);
  }
  dg_arena_release(nn->scratch, mark);
  free(proj);
  return s;
}

dg_status dg_clip_embed_texts(const dg_nn_ctx *nn, const dg_clip *c, const dg_tokenizer *tok, const char *const *texts,
                              int n, float *embeddings) {
  if (n < 1) return dg_fail(DG_ERR_ARG, "clip: no texts");
  int len = c->text.cfg.max_positions < DG_TOKENS_MAX ? c->text.cfg.max_positions : DG_TOKENS_MAX;
  int32_t *ids = malloc((size_t)n * DG_TOKENS_MAX * sizeof *ids), *cut = malloc((size_t)n * len * sizeof *cut);
  dg_status s = ids && cut ? DG_OK : dg_fail(DG_ERR_OOM, "out of host memory");
  for (int i = 0; i < n && s == DG_OK; i++) {
    s = dg_tokenizer_encode(tok, texts[i], DG_TOKENS_MAX, ids + (size_t)i * DG_TOKENS_MAX, NULL, NULL);
    memcpy(cut + (size_t)i * len, ids + (size_t)i * DG_TOKENS_MAX, (size_t)len * sizeof *cut);
  }
  if (s == DG_OK) s = dg_clip_embed_ids(nn, c, cut, n, len, embeddings);
  free(ids);
  free(cut);
  return s;
}

float dg_clip_similarity(const float *a, const float *b, int dim) {
  double dot = 0;
  for (int i = 0; i < dim; i++)
    dot += (double)a[i] * b[i];
  return (float)dot;
}
