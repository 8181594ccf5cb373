// Plain-C reference implementations of the ops, in f32, used by the tests and benchmarks only.
// Each mirrors the op of the same name in render/ops (same argument order and layout).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_elementwise.h"

void dg_ref_binary(dg_binary_op op, const float *a, const float *b, int64_t n, int64_t b_inner, int64_t b_count,
                   float *out);
void dg_ref_unary(dg_unary_op op, const float *a, int64_t n, float alpha, float beta, float *out);

// out[z] = op(a[z]) op(b[z]) for z < max(za, zb); a batch count of 1 broadcasts. a is [M, K] per
// batch ([K, M] when ta), b [K, N] ([N, K] when tb), out [M, N].
void dg_ref_matmul(const float *a, bool ta, int64_t za, const float *b, bool tb, int64_t zb, int64_t M, int64_t N,
                   int64_t K, float *out);
// y[r] = x[r] W^T + bias (bias may be NULL); x [rows, in], w [out, in].
void dg_ref_linear(const float *x, const float *w, const float *bias, int64_t rows, int64_t in, int64_t out, float *y);
// NCHW conv2d as torch: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], bias [Cout] or NULL.
void dg_ref_conv2d(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t H, int64_t W,
                   int64_t Cout, int64_t KH, int64_t KW, int sh, int sw, int ph, int pw, int groups, float *y);
// Temporal k x 1 x 1 convolution: x [N, Cin, F, HW], w [Cout, Cin, k], y [N, Cout, F + 2 pad - k + 1, HW].
void dg_ref_conv_temporal(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t F,
                          int64_t HW, int64_t Cout, int64_t k, int pad, float *y);
