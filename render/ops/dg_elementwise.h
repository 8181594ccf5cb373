// Elementwise ops. Binary ops broadcast b over a numpy-style, restricted to b's non-1 dims forming
// one contiguous block of a's dims (scalar, per-channel [C,1,1], full tensor, ...).
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

// Values match the OP constants in compute-shaders/elementwise.comp.
typedef enum dg_binary_op { DG_ADD = 0, DG_MUL = 1, DG_SUB = 2, DG_DIV = 10 } dg_binary_op;
typedef enum dg_unary_op {
  DG_SCALE = 3, // alpha * x + beta
  DG_SILU = 4,
  DG_GELU = 5, // exact (erf) GELU
  DG_GELU_TANH = 6,
  DG_QUICK_GELU = 7, // x * sigmoid(1.702 x), CLIP's
  DG_SIGMOID = 8,
  DG_COPY = 9,
  DG_RELU = 11,  // max(x, 0)
  DG_CLAMP = 12, // clamp(x, alpha, beta)
  DG_LEAKY_RELU = 14, // x >= 0 ? x : alpha x (13 is the shaders' GEGLU)
} dg_unary_op;

dg_status dg_binary(dg_stream *s, dg_binary_op op, const dg_tensor *a, const dg_tensor *b, dg_tensor *out);
dg_status dg_unary(dg_stream *s, dg_unary_op op, const dg_tensor *a, dg_tensor *out, float alpha, float beta);
// GEGLU of the transformers' feed-forward: x [..., 2F] -> out [..., F] = x[..., :F] * gelu(x[..., F:])
// (exact erf GELU). Rows are split across bindings as needed.
dg_status dg_geglu(dg_stream *s, const dg_tensor *x, dg_tensor *out);
// Broadcast parameters of b against a: b element for a's element i is (i / inner) % count.
dg_status dg_broadcast_params(const char *op, const dg_tensor *a, const dg_tensor *b, int64_t *inner, int64_t *count);
