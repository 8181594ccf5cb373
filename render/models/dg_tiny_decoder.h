// The live frame's tiny latent decoder (tools/train/dgtrain/tiny_decoder.py, trained by distillation from
// the VAE decoder by train_tiny_decoder.py; names under `tiny_decoder.`): the VAE's unscaled latent
// z [N, 4, h, w] -> an image [N, 3, 8h, 8w] in about [-1, 1], from ReLU convolutions and three nearest 2x
// upsamples, no normalisation or attention:
//   conv_in, ReLU; per level i: blocks (conv1, ReLU, conv2 + input, ReLU), then (but after the last level)
//   nearest 2x, up.i, ReLU; conv_out.
// Widths and block counts come from the tensor shapes; every tensor's shape is checked against them at load.
#pragma once
#include <stdbool.h>

#include "dg_nn.h"

#define DG_TINY_DECODER_PREFIX "tiny_decoder."
#define DG_TINY_LEVELS 4 // three upsamples: a latent factor of 8
#define DG_TINY_MAX_BLOCKS 4

typedef struct dg_tiny_decoder {
  int latent_channels;
  int channels[DG_TINY_LEVELS], blocks[DG_TINY_LEVELS];
  dg_nn_conv conv_in, conv_out, up[DG_TINY_LEVELS - 1];
  dg_nn_conv block[DG_TINY_LEVELS][DG_TINY_MAX_BLOCKS][2];
} dg_tiny_decoder;

// Errors name the store, the tensor and its shape against the one the others imply.
dg_status dg_tiny_decoder_load(const dg_nn_src *src, dg_tiny_decoder *out);
// Whether the decode of an n x h x w latent keeps every activation within one binding of the device
// (larger latents are left to the VAE decoder, which tiles).
bool dg_tiny_decoder_fits(const dg_nn_ctx *nn, const dg_tiny_decoder *d, int64_t n, int64_t h, int64_t w);
// z [N, latent_channels, h, w] (unscaled: latent / scale_factor) -> image [N, 3, 8h, 8w] (scratch).
dg_status dg_tiny_decoder_decode(const dg_nn_ctx *nn, const dg_tiny_decoder *d, const dg_tensor *z, dg_tensor *image);
