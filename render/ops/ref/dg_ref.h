// Plain-C reference implementations of the ops, in f32, used by the tests and benchmarks only.
// Each mirrors the op of the same name in render/ops (same argument order and layout).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_elementwise.h"

void dg_ref_binary(dg_binary_op op, const float *a, const float *b, int64_t n, int64_t b_inner, int64_t b_count,
                   float *out);
void dg_ref_unary(dg_unary_op op, const float *a, int64_t n, float alpha, float beta, float *out);

// Norms (dg_norm.h): x is [n, c, hw] for group norm, [rows, len] otherwise; gamma/beta may be NULL.
void dg_ref_group_norm(const float *x, int64_t n, int64_t c, int64_t hw, int groups, const float *gamma,
                       const float *beta, float eps, bool silu, float *out);
void dg_ref_layer_norm(const float *x, int64_t rows, int64_t len, const float *gamma, const float *beta, float eps,
                       float *out);
void dg_ref_softmax(const float *x, int64_t rows, int64_t len, float scale, float *out);
