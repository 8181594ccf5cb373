// Helpers shared by the evaluation models (dg_segmenter, dg_clip_image): device tensors made from
// host values, RGB8 images as [-1, 1] tensors, ReLU convolutions on the general ops.
#pragma once
#include <stdint.h>

#include "dg_nn.h"

// A tensor of `shape` in the source's arena and dtype, written from f32 host values.
dg_status dg_model_upload(const dg_nn_src *src, int ndim, const int64_t *shape, const float *values, dg_tensor *out);
// An f32 host copy of the named tensor, which must have exactly `ndim` dims of `shape` (-1: any).
// Caller frees.
dg_status dg_model_read(const dg_nn_src *src, const char *name, int ndim, const int64_t *shape, float **out);
// images [n, 3, height, width] in [-1, 1] from n RGB8 images (height x width x 3 each), in scratch
// (finishes the stream first, so the memory is no longer in use).
dg_status dg_model_rgb_tensor(const dg_nn_ctx *nn, const uint8_t *const *rgb, int n, int width, int height,
                              dg_tensor *out);
// out = conv2d(x, w, b) with stride/pad (allocated in scratch), then ReLU when relu.
dg_status dg_model_conv(const dg_nn_ctx *nn, const dg_tensor *x, const dg_tensor *w, const dg_tensor *b, int stride,
                        int pad, bool relu, dg_tensor *out);
