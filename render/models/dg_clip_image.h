// The image tower of the contrastive text-image model (tools/train/dgtrain/clip_model.py ImageEncoder,
// exported by train_clip.py under `clip.image.`): a patchify stem (k x k conv, stride k, GroupNorm,
// ReLU), residual stages of two 3x3 convs with GroupNorm (the first block of every stage after the first
// halves the resolution; a 1x1 conv + GroupNorm skip where the shape changes), global average pooling;
// then `clip.image_projection` and L2 normalisation give the embedding compared with text embeddings.
#pragma once
#include <stdint.h>

#include "dg_model_config.h"
#include "dg_nn.h"

#define DG_CLIP_IMAGE "clip.image."
#define DG_CLIP_IMAGE_MAX_STAGES 8
#define DG_CLIP_IMAGE_MAX_BLOCKS 8

typedef struct dg_clip_image_block {
  dg_tensor conv1, conv2, skip;
  dg_tensor g1, b1, g2, b2, skip_g, skip_b;
  int stride;
  bool has_skip;
} dg_clip_image_block;

typedef struct dg_clip_image {
  int in_channels, stem_stride, groups, n_stages, out_dim, embed_dim;
  int blocks[DG_CLIP_IMAGE_MAX_STAGES];
  dg_tensor stem_w, stem_b, stem_g, stem_beta;
  dg_clip_image_block stage[DG_CLIP_IMAGE_MAX_STAGES][DG_CLIP_IMAGE_MAX_BLOCKS];
  dg_tensor projection; // [embed_dim, out_dim]
} dg_clip_image;

// Widths, depths and the stem stride come from the tensor shapes; the GroupNorm group count from the
// configuration's image.groups (default 8).
dg_status dg_clip_image_load(const dg_nn_src *src, const dg_model_config *cfg, dg_clip_image *out);
// images [N, in_channels, H, W] in [-1, 1] -> features [N, out_dim] (the pooled tower output) and
// projected [N, embed_dim] (before normalisation), in scratch.
dg_status dg_clip_image_forward(const dg_nn_ctx *nn, const dg_clip_image *m, const dg_tensor *images, dg_tensor *features,
                                dg_tensor *projected);
// n RGB8 images (height x width x 3 each) -> host features [n, out_dim] (may be NULL) and unit-norm
// embeddings [n, embed_dim]; finishes the stream and releases its scratch.
dg_status dg_clip_image_embed(const dg_nn_ctx *nn, const dg_clip_image *m, const uint8_t *const *rgb, int n, int width,
                              int height, float *features, float *embeddings);
// Scales each of the n rows of `dim` values to unit L2 norm (a zero row stays zero), as F.normalize.
void dg_clip_normalize(float *rows, int n, int dim);
