// Spatial resampling over the last two dims ([..., H, W], at least 2-D).
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// out [..., 2H, 2W]: nearest-neighbour 2x upsampling (SD's Upsample before its conv).
dg_status dg_upsample_nearest2x(dg_stream *s, const dg_tensor *x, dg_tensor *out);
// out [..., H/k, W/k] (floor): mean over k x k windows with stride k (torch avg_pool2d(x, k)).
dg_status dg_avg_pool(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out);
// out [..., ceil(H/k), ceil(W/k)] = x[..., ::k, ::k].
dg_status dg_downsample(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out);
// out [..., (H + 2 pad - k) / stride + 1, (W + 2 pad - k) / stride + 1]: max over k x k windows, padding
// never chosen (torch max_pool2d(x, k, stride, pad), floor mode; needs pad <= k / 2).
dg_status dg_max_pool(dg_stream *s, const dg_tensor *x, int k, int stride, int pad, dg_tensor *out);
// out [..., OH, OW] (out's shape gives the size): torch adaptive_avg_pool2d, the mean over rows
// [floor(i H / OH), ceil((i + 1) H / OH)) and the same for columns (windows may overlap or repeat).
dg_status dg_adaptive_avg_pool(dg_stream *s, const dg_tensor *x, dg_tensor *out);
// out [..., OH, OW] (out's shape gives the size): torch interpolate(mode="bilinear", size=(OH, OW),
// align_corners), without antialiasing, up or down.
dg_status dg_resize_bilinear(dg_stream *s, const dg_tensor *x, bool align_corners, dg_tensor *out);
