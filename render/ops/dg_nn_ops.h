// Ops the model layers need that have no general-purpose version yet: convolution, a fully
// connected layer, multi-head attention, and layout moves (transpose, channel concat/slice, nearest
// upsample, GEGLU, clamp). Every tensor must fit one binding (no windowing yet, except the conv's
// im2col buffer). out may not alias an input.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_stream.h"
#include "dg_tensor.h"

// x [N, Cin, H, W], w [Cout, Cin, K, K], b [Cout] or NULL; zero padding pad_t/pad_l on the top/left,
// out [N, Cout, OH, OW] with OH = (H + pad_t + pad_b - K) / stride + 1 (pad_b and pad_r are implied
// by out's shape). Runs as im2col (into `scratch`, except for 1x1 convs; per sample in bands of pixels
// when the batch's im2col would pass the binding limit) and a register-tiled GEMM.
dg_status dg_nn_conv2d(dg_stream *s, dg_arena *scratch, const dg_tensor *x, const dg_tensor *w, const dg_tensor *b,
                       int stride, int pad_t, int pad_l, dg_tensor *out);
// x [..., K] as M rows, w [N, K], b [N] or NULL -> out [..., N].
dg_status dg_nn_dense(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *b, dg_tensor *out);
// q [N, Lq, H*D], k, v [N, Lk, H*D] -> out [N, Lq, H*D]; softmax(scale q k^T) v per head. causal:
// query i attends to keys j <= i + Lk - Lq (Lk >= Lq).
dg_status dg_nn_attention(dg_stream *s, const dg_tensor *q, const dg_tensor *k, const dg_tensor *v, int heads,
                          float scale, bool causal, dg_tensor *out);
// out [R, D] = table[ids[r]] for R ids (uint32, host) of a table [V, D]; an id >= V is an error. The ids
// are uploaded into `arena` after finishing the stream (so released memory is no longer in use).
dg_status dg_nn_embed(dg_stream *s, dg_arena *arena, const dg_tensor *table, const uint32_t *ids, int64_t n,
                      dg_tensor *out);
// x [A, B, C] (any shape read that way) -> out [A, C, B].
dg_status dg_nn_transpose(dg_stream *s, const dg_tensor *x, int64_t a, int64_t b, int64_t c, dg_tensor *out);
// Copies x [N, Cx, ...] into channels [c0, c0 + Cx) of out [N, Cout, ...] (same trailing size).
dg_status dg_nn_put_channels(dg_stream *s, const dg_tensor *x, int64_t c0, dg_tensor *out);
// out [N, Co, ...] = channels [c0, c0 + Co) of x [N, Cx, ...].
dg_status dg_nn_get_channels(dg_stream *s, const dg_tensor *x, int64_t c0, dg_tensor *out);
// x [N, C, H, W] -> out [N, C, 2H, 2W], nearest.
dg_status dg_nn_upsample2x(dg_stream *s, const dg_tensor *x, dg_tensor *out);
// x [..., 2F] -> out [..., F] = x[..., :F] * gelu(x[..., F:]) (exact erf GELU).
dg_status dg_nn_geglu(dg_stream *s, const dg_tensor *x, dg_tensor *out);
dg_status dg_nn_clamp(dg_stream *s, const dg_tensor *x, float lo, float hi, dg_tensor *out);
