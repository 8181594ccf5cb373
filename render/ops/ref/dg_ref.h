// Plain-C reference implementations of the ops, in f32, used by the tests and benchmarks only.
// Each mirrors the op of the same name in render/ops (same argument order and layout).
#pragma once
#include <stdint.h>

#include "dg_elementwise.h"

void dg_ref_binary(dg_binary_op op, const float *a, const float *b, int64_t n, int64_t b_inner, int64_t b_count,
                   float *out);
void dg_ref_unary(dg_unary_op op, const float *a, int64_t n, float alpha, float beta, float *out);
