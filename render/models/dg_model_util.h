// Helpers shared by the evaluation models (dg_segmenter, dg_clip_image): RGB8 images as [-1, 1]
// tensors, ReLU convolutions on the general ops.
#pragma once
#include <stdint.h>

#include "dg_nn.h"

// images [n, 3, height, width] in [-1, 1] from n RGB8 images (height x width x 3 each), in scratch
// (finishes the stream first, so the memory is no longer in use).
dg_status dg_model_rgb_tensor(const dg_nn_ctx *nn, const uint8_t *const *rgb, int n, int width, int height,
                              dg_tensor *out);
// out = conv2d(x, w, b) with stride/pad (allocated in scratch), then ReLU when relu.
dg_status dg_model_conv(const dg_nn_ctx *nn, const dg_tensor *x, const dg_tensor *w, const dg_tensor *b, int stride,
                        int pad, bool relu, dg_tensor *out);
