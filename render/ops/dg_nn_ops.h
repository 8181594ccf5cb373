// Ops the model layers need that have no general-purpose version yet: multi-head attention (on
// dg_attention up to its head width), embedding lookup and layout moves (transpose, channel
// concat/slice, nearest upsample, GEGLU, clamp). Convolutions and linear layers use dg_conv2d and
// dg_linear. Every tensor must fit one binding (no windowing). out may not alias an input.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_stream.h"
#include "dg_tensor.h"

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
