// The evaluation models of a Dirigent model folder, on the engine: the segmenter
// (eval_segmenter.safetensors + .json) and the contrastive text-image model (clip.safetensors +
// .json), with the tokenizer (the folder's tokenizer/, else `default_tokenizer`). They have their own
// arenas and stream on the given device.
#pragma once
#include <stdint.h>

#include "dg_device.h"
#include "dg_tensor.h"

typedef struct dg_eval_models dg_eval_models;

// A missing file is an error naming it.
dg_status dg_eval_models_open(dg_device *device, const char *model_dir, const char *default_tokenizer, dg_dtype dtype,
                              dg_eval_models **out);
void dg_eval_models_close(dg_eval_models *m);
// One line per model, e.g. "segmenter: 14 classes, ... (eval_segmenter.safetensors)".
const char *dg_eval_models_describe(const dg_eval_models *m);
int dg_eval_models_classes(const dg_eval_models *m); // the segmenter's class count
int dg_eval_models_feature_dim(const dg_eval_models *m); // pooled image features
int dg_eval_models_embed_dim(const dg_eval_models *m);

// classes: width * height class ids of an RGB8 image.
dg_status dg_eval_segment(dg_eval_models *m, const uint8_t *rgb, int width, int height, uint8_t *classes);
// An RGB8 image -> features [feature_dim] (may be NULL) and a unit embedding [embed_dim].
dg_status dg_eval_embed_image(dg_eval_models *m, const uint8_t *rgb, int width, int height, float *features,
                              float *embedding);
// A text -> a unit embedding [embed_dim].
dg_status dg_eval_embed_text(dg_eval_models *m, const char *text, float *embedding);
// The text-image similarity of two unit embeddings (their cosine).
float dg_eval_similarity(const float *a, const float *b, int dim);
