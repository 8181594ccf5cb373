// The UperNet-style evaluation segmenter of tools/train/dgtrain/segmenter.py, exported by
// train_segmenter.py (names as its state dict, config in the .json beside): a ResNet-like backbone
// (stem of two 3x3 convs and a 3x3 stride-2 max pool, four stages of BasicBlocks at strides 4..32), a
// pyramid pooling module on the last stage (adaptive average pooling to each pool scale, 1x1 conv,
// bilinear upsampling, 3x3 bottleneck), an FPN fusing all levels at stride 4, a 1x1 classifier and a
// bilinear upsampling to the input size (align_corners=False throughout), and, when the checkpoint has
// `refine.*`, a full-resolution head adding out(head(cat(stem(image), logits))) to those logits. BatchNorm
// runs in eval mode: each one is folded into the weights and bias of the conv before it at load time.
#pragma once
#include <stdint.h>

#include "dg_model_config.h"
#include "dg_nn.h"

#define DG_SEG_STAGES 4
#define DG_SEG_MAX_BLOCKS 8
#define DG_SEG_MAX_SCALES 8

// A convolution with its BatchNorm folded in (bias always present).
typedef struct dg_seg_conv {
  dg_tensor w, b;
  int stride, pad;
} dg_seg_conv;

typedef struct dg_seg_block {
  dg_seg_conv conv1, conv2, down;
  bool has_down;
} dg_seg_block;

typedef struct dg_segmenter {
  int num_classes, in_channels, stem, fpn_dim;
  int channels[DG_SEG_STAGES], blocks[DG_SEG_STAGES];
  int n_scales, pool_scales[DG_SEG_MAX_SCALES];
  dg_seg_conv stem1, stem2;
  dg_seg_block stage[DG_SEG_STAGES][DG_SEG_MAX_BLOCKS];
  dg_seg_conv ppm[DG_SEG_MAX_SCALES], bottleneck;
  dg_seg_conv lateral[DG_SEG_STAGES - 1], fpn_out[DG_SEG_STAGES - 1], fuse, classifier;
  int refine; // channels of the refinement head, 0 without one
  dg_seg_conv refine_stem[2], refine_head, refine_out;
} dg_segmenter;

// Widths and depths come from the tensor shapes; pool_scales (default 1, 2, 3, 6) and norm ("bn"; a
// GroupNorm discriminator is refused) from the configuration.
dg_status dg_segmenter_load(const dg_nn_src *src, const dg_model_config *cfg, dg_segmenter *out);
// images [N, in_channels, H, W] in [-1, 1] -> logits [N, num_classes, H, W] (scratch).
dg_status dg_segmenter_forward(const dg_nn_ctx *nn, const dg_segmenter *m, const dg_tensor *images, dg_tensor *logits);
// classes[i] = argmax over c of logits[c * hw + i] (the first maximum).
void dg_segmenter_argmax(const float *logits, int num_classes, int64_t hw, uint8_t *classes);
// An RGB8 image (height x width x 3) -> the class of every pixel; finishes the stream and releases
// its scratch.
dg_status dg_segmenter_classify(const dg_nn_ctx *nn, const dg_segmenter *m, const uint8_t *rgb, int width, int height,
                                uint8_t *classes);
