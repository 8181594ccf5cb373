// Plain-C references of the model-layer ops of dg_nn_ops.h (f32), for the tests. Attention's is
// dg_ref_attention (dg_ref.h).
#pragma once
#include <stdbool.h>
#include <stdint.h>

// Convolution with separate top/left padding (the VAE downsample pads (0, 1, 0, 1)).
void dg_ref_conv2d_pad_tl(const float *x, int64_t n, int64_t cin, int64_t h, int64_t w, const float *wt, int64_t cout,
                   int64_t k, const float *b, int stride, int pad_t, int pad_l, int64_t oh, int64_t ow, float *out);
void dg_ref_transpose(const float *x, int64_t a, int64_t b, int64_t c, float *out);
void dg_ref_upsample2x(const float *x, int64_t nc, int64_t h, int64_t w, float *out);
void dg_ref_geglu(const float *x, int64_t rows, int64_t f, float *out);
