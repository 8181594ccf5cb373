// Convolutions (f32 or f16 storage, f32 arithmetic), PyTorch semantics and weight layouts.
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

typedef struct dg_conv2d_params {
  int stride_h, stride_w; // 0 means 1
  int pad_h, pad_w;       // zero padding
  int groups;             // 0 means 1
  int pad_b, pad_r;       // further zero padding at the bottom / right only, as F.pad(x, (0, r, 0, b))
} dg_conv2d_params;

// y = conv2d(x, w) + bias, as torch.nn.functional.conv2d: x [N, Cin, H, W] (or [Cin, H, W]),
// w [Cout, Cin/groups, KH, KW], bias [Cout] or NULL, y [N, Cout, Ho, Wo] with
// Ho = (H + 2 pad_h + pad_b - KH) / stride_h + 1. params NULL: stride 1, no padding, one group.
// 1x1 convolutions run as a matmul; 3x3 stride-1 padding-1 ones have a vectorised path.
dg_status dg_conv2d(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                    const dg_conv2d_params *params, dg_tensor *y);

// y = conv2d(x, w) + bias + residual in one pass over y (the fused epilogue of a residual block):
// residual NULL or a tensor of y's dtype and element count, read in y's layout; it may be y itself.
dg_status dg_conv2d_ex(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                       const dg_conv2d_params *params, const dg_tensor *residual, dg_tensor *y);

// Convolution over frames with a k x 1 x 1 kernel (VideoCrafter's temporal Conv3d (k,1,1), padding
// (pad,0,0)): x [N, Cin, F, H, W], w tap-major [k, Cout, Cin] (each tap a contiguous matrix, the GEMM's
// fast path; dg_conv_temporal_taps writes it from PyTorch's [Cout, Cin, k, 1, 1]), bias [Cout] or NULL,
// residual NULL or y's dtype and element count (read in y's layout, added in the first tap's pass),
// y [N, Cout, Fo, H, W] with Fo = F + 2 pad - k + 1. Needs 0 <= 2 pad <= k - 1 (Fo <= F; "same"
// padding is pad = (k - 1) / 2).
dg_status dg_conv_temporal(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, int pad,
                           const dg_tensor *residual, dg_tensor *y);
// Host weights in PyTorch's [Cout, Cin, k] order (the Conv3d's [Cout, Cin, k, 1, 1]) to tap-major [k, Cout, Cin].
void dg_conv_temporal_taps(const float *w, int64_t cout, int64_t cin, int64_t k, float *taps);

// Dispatches of the direct (not 1x1) conv2d kernel in this process, how many took the vectorised 3x3
// path with weights shared by broadcast, how many of those read x and w through buffer device
// addresses (conv2d_bda.comp), and the convolutions done by Winograd F(4x4, 3x3) instead (CPU devices,
// f32, large enough: dg_conv_winograd.h). test_conv checks the paths a CPU device with 8-lane subgroups takes.
typedef struct dg_conv_counts {
  uint64_t direct, shared, address, winograd;
} dg_conv_counts;
dg_conv_counts dg_conv_get_counts(void);

