// StyleGAN2's ops (StyleGAN2-ADA's arithmetic): upfirdn2d resampling, and the tail of a modulated conv
// (demodulation, noise, bias, leaky ReLU, gain, clamp). The modulated conv itself runs as ADA's non-fused
// path: x * styles per input channel (dg_binary), a plain conv with the shared weight (dg_conv2d), then
// dg_modulate_act with dsum = (styles^2) @ (sum over the kernel of weight^2)^T.
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

#define DG_UPFIRDN_MAX_TAPS 4

// out [..., OH, OW] of x [..., H, W]: zero insertion by up, padding (x0, x1, y0, y1; negative crops),
// convolution with the flipped filter f [fh, fw] (host floats, fh, fw <= 4) times gain, every down-th
// sample: OH = (H up + y0 + y1 - fh) / down + 1 (ADA's upfirdn2d; upsample2d is up 2, pad 2, 1, gain 4).
dg_status dg_upfirdn2d(dg_stream *s, const dg_tensor *x, const float *f, int fh, int fw, int up, int down,
                       const int pad[4], float gain, dg_tensor *out);

typedef struct dg_modulate_args {
  const dg_tensor *dsum;  // [N, O] demodulation sums, or NULL: no demodulation (toRGB)
  const dg_tensor *noise; // [H, W] or [N, H, W] (or [N, 1, H, W]), or y's [N, O, H, W] (an encoder's layer noise), or NULL
  float strength;         // noise_strength
  const dg_tensor *bias;  // [O]
  bool lrelu;             // leaky ReLU 0.2 times sqrt 2; else linear
  float gain;             // 1 in ADA's layers
  float clamp;            // conv_clamp; < 0: none
} dg_modulate_args;

// out [N, O, H, W] = clamp(act(y * rsqrt(dsum + 1e-8) + strength * noise + bias) * gain); out may be y.
dg_status dg_modulate_act(dg_stream *s, const dg_tensor *y, const dg_modulate_args *a, dg_tensor *out);
