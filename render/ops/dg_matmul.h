// Batched matrix multiply and linear layers (f32 or f16 storage, f32 arithmetic).
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// out[z] = op(a[z]) op(b[z]). a is [..., M, K] ([..., K, M] when trans_a), b is [..., K, N]
// ([..., N, K] when trans_b); the leading dims of each flatten to a batch count, and the two batch
// counts must match or one of them be 1 (broadcast). out has M*N elements per batch, last dims [M, N].
dg_status dg_matmul(dg_stream *s, const dg_tensor *a, bool trans_a, const dg_tensor *b, bool trans_b, dg_tensor *out);

// y = x W^T + bias, as torch.nn.Linear: x [..., in], w [out, in], bias [out] or NULL, y [..., out].
dg_status dg_linear(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, dg_tensor *y);

// y = x W^T + bias + residual in one dispatch (the fused epilogue of a residual sub-layer): residual
// NULL or a tensor of y's dtype and element count, read in y's layout; it may be y itself.
dg_status dg_linear_ex(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias,
                       const dg_tensor *residual, dg_tensor *y);

// y = GEGLU(x W^T + bias) in one dispatch (the transformers' feed-forward input): w [2F, in], bias [2F] or NULL,
// y [..., F] = h[..., :F] * gelu(h[..., F:]) for h = x W^T + bias, as dg_linear then dg_geglu (bit for bit in
// f32; in f16 the pre-activation is not rounded to f16), without writing h.
dg_status dg_linear_geglu(dg_stream *s, const dg_tensor *x, const dg_tensor *w, const dg_tensor *bias, dg_tensor *y);

// y[i] = x W[i]^T for i < S in one dispatch where the bindings allow (the attention's q, k, v projections of
// one input): x [..., in], w [S, out, in] (the stacked weights), y [S, ..., out]. No bias.
dg_status dg_linear_stacked(dg_stream *s, const dg_tensor *x, const dg_tensor *w, dg_tensor *y);
