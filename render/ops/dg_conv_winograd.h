// The "same" 3x3 stride-1 convolution by Winograd F(4x4, 3x3) (Lavin & Gray 2016), dg_conv2d's path on CPU
// devices: each 4x4 block of outputs from a 6x6 block of inputs with 36 multiplies per input/output channel
// pair instead of 144, the multiplies as 36 batched GEMMs [Cout, Cin] x [Cin, tiles] on the matmul's
// shared-row path, the transforms as vec4 kernels (compute-shaders/winograd_*.comp). Internal to render/ops.
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// y = conv(x, w, padding 1) + bias + residual (bias, residual may be NULL; the residual read in y's layout,
// may be y), x [N, Cin, H, W], w [Cout, Cin, 3, 3], y [N, Cout, H, W] given checked. Records it and sets
// *done where the path takes it: f32, Cin % 4 == 0 and >= 16, W % 4 == 0, at least 128 tiles of 4x4
// outputs (fewer do not pay for the transforms), operands and temporaries within the binding limit and
// vec4-aligned, the temporaries at most a quarter of the device's memory budget left, a CPU device with
// 8-lane subgroups and buffer device addresses, DIRIGENT_CONV_NO_WINOGRAD unset; else records nothing.
dg_status dg_winograd_conv3x3(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                              const dg_tensor *residual, dg_tensor *y, bool *done);
