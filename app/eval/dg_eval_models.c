#include "dg_eval_models.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "dg_clip.h"
#include "dg_segmenter.h"

struct dg_eval_models {
  dg_arena *weights, *scratch;
  dg_stream *stream;
  dg_dtype dtype;
  dg_weights *seg_w, *clip_w;
  dg_segmenter seg;
  dg_clip clip;
  dg_tokenizer *tok;
  char description[1024];
};

// Opens PATH (which must exist) and its configuration.
static dg_status open_model(const char *dir, const char *file, dg_weights **w, dg_model_config *cfg) {
  char *path = g_build_filename(dir, file, NULL);
  dg_status s = g_file_test(path, G_FILE_TEST_IS_REGULAR)
                    ? DG_OK
                    : dg_fail(DG_ERR_IO, "no %s (train it with tools/train/train_defaults.sh)", path);
  if (s == DG_OK) s = dg_weights_open(path, w);
  if (s == DG_OK) s = dg_model_config_load(path, *w, cfg);
  g_free(path);
  return s;
}

dg_status dg_eval_models_open(dg_device *device, const char *model_dir, const char *default_tokenizer, dg_dtype dtype,
                              dg_eval_models **out) {
  *out = NULL;
  dg_eval_models *m = calloc(1, sizeof *m);
  if (!m) return dg_fail(DG_ERR_OOM, "out of host memory");
  m->dtype = dtype;
  dg_model_config seg_cfg = {0}, clip_cfg = {0};
  dg_status s = dg_arena_create(device, 0, &m->weights);
  if (s == DG_OK) s = dg_arena_create(device, 0, &m->scratch);
  if (s == DG_OK) s = dg_stream_create(device, 0, &m->stream);
  if (s == DG_OK) s = open_model(model_dir, "eval_segmenter.safetensors", &m->seg_w, &seg_cfg);
  if (s == DG_OK) s = dg_segmenter_load(&(dg_nn_src){m->seg_w, m->weights, dtype}, &seg_cfg, &m->seg);
  if (s == DG_OK) s = open_model(model_dir, "clip.safetensors", &m->clip_w, &clip_cfg);
  if (s == DG_OK) s = dg_clip_load(&(dg_nn_src){m->clip_w, m->weights, dtype}, &clip_cfg, &m->clip);
  char *tok = g_build_filename(model_dir, "tokenizer", NULL), *vocab = g_build_filename(tok, "vocab.json", NULL);
  const char *tok_dir = g_file_test(vocab, G_FILE_TEST_IS_REGULAR) ? tok : default_tokenizer;
  if (s == DG_OK) s = dg_tokenizer_load(tok_dir, &m->tok);
  if (s == DG_OK && dg_tokenizer_vocab_size(m->tok) > m->clip.text.cfg.vocab)
    s = dg_fail(DG_ERR_FORMAT, "the tokenizer %s has %d tokens, the text tower of %s/clip.safetensors %d", tok_dir,
                dg_tokenizer_vocab_size(m->tok), model_dir, m->clip.text.cfg.vocab);
  if (s == DG_OK)
    snprintf(m->description, sizeof m->description,
             "segmenter: %d classes, stem %d, channels %d/%d/%d/%d, FPN %d (eval_segmenter.safetensors)\n"
             "clip: text width %d x %d layers, image features %d, embedding %d (clip.safetensors)\n"
             "tokenizer: %d tokens (%s)\n",
             m->seg.num_classes, m->seg.stem, m->seg.channels[0], m->seg.channels[1], m->seg.channels[2],
             m->seg.channels[3], m->seg.fpn_dim, m->clip.text.cfg.width, m->clip.text.cfg.layers, m->clip.image.out_dim,
             m->clip.embed_dim, dg_tokenizer_vocab_size(m->tok), tok_dir);
  g_free(tok);
  g_free(vocab);
  dg_model_config_free(&seg_cfg);
  dg_model_config_free(&clip_cfg);
  if (s != DG_OK) {
    dg_eval_models_close(m);
    return s;
  }
  *out = m;
  return DG_OK;
}

void dg_eval_models_close(dg_eval_models *m) {
  if (!m) return;
  dg_stream_destroy(m->stream);
  dg_arena_destroy(m->scratch);
  dg_arena_destroy(m->weights);
  dg_weights_close(m->seg_w);
  dg_weights_close(m->clip_w);
  dg_tokenizer_free(m->tok);
  free(m);
}

const char *dg_eval_models_describe(const dg_eval_models *m) { return m->description; }
int dg_eval_models_classes(const dg_eval_models *m) { return m->seg.num_classes; }
int dg_eval_models_feature_dim(const dg_eval_models *m) { return m->clip.image.out_dim; }
int dg_eval_models_embed_dim(const dg_eval_models *m) { return m->clip.embed_dim; }

static dg_nn_ctx nn_of(dg_eval_models *m) { return (dg_nn_ctx){.s = m->stream, .scratch = m->scratch, .dtype = m->dtype}; }

dg_status dg_eval_segment(dg_eval_models *m, const uint8_t *rgb, int width, int height, uint8_t *classes) {
  dg_nn_ctx nn = nn_of(m);
  return dg_segmenter_classify(&nn, &m->seg, rgb, width, height, classes);
}

dg_status dg_eval_embed_image(dg_eval_models *m, const uint8_t *rgb, int width, int height, float *features,
                              float *embedding) {
  dg_nn_ctx nn = nn_of(m);
  return dg_clip_image_embed(&nn, &m->clip.image, &rgb, 1, width, height, features, embedding);
}

dg_status dg_eval_embed_text(dg_eval_models *m, const char *text, float *embedding) {
  dg_nn_ctx nn = nn_of(m);
  return dg_clip_embed_texts(&nn, &m->clip, m->tok, &text, 1, embedding);
}

float dg_eval_similarity(const float *a, const float *b, int dim) { return dg_clip_similarity(a, b, dim); }
