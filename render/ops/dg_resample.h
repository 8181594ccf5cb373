// Spatial resampling over the last two dims ([..., H, W], at least 2-D).
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

// out [..., 2H, 2W]: nearest-neighbour 2x upsampling (SD's Upsample before its conv).
dg_status dg_upsample_nearest2x(dg_stream *s, const dg_tensor *x, dg_tensor *out);
// out [..., H/k, W/k] (floor): mean over k x k windows with stride k (torch avg_pool2d(x, k)).
dg_status dg_avg_pool(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out);
// out [..., ceil(H/k), ceil(W/k)] = x[..., ::k, ::k].
dg_status dg_downsample(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out);
