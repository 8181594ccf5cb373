#version 450
// out[i] = op(a[i], b[bi]) or op(a[i]) for unary ops. b is broadcast: bi = (i / b_inner) % b_count,
// which covers a scalar (b_count 1), a per-channel vector (b_inner = H*W) and a full tensor.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;
layout(constant_id = 2) const bool B_FULL = false; // b has a's shape: no broadcast arithmetic

layout(std430, binding = 0) readonly buffer A { T a[]; };
layout(std430, binding = 1) readonly buffer B { T b[]; };
layout(std430, binding = 2) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n;        // elements in this chunk
  uint a_off, b_off, o_off;
  uint base;     // index of the chunk's first element in the whole tensor (for broadcasting)
  uint b_inner, b_count; // GEGLU: b_inner is F, the output row length (a's rows are 2F long)
  float alpha, beta; // out = alpha * op(...) + beta for OP_SCALE; extra operands otherwise
} p;

// Keep in sync with dg_unary_op / dg_binary_op in render/ops/dg_elementwise.h.
const uint ADD = 0, MUL = 1, SUB = 2, SCALE = 3, SILU = 4, GELU = 5, GELU_TANH = 6, QUICK_GELU = 7,
           SIGMOID = 8, COPY = 9, DIV = 10, RELU = 11, CLAMP = 12, GEGLU = 13,
           LEAKY_RELU = 14;

#include "dg_gelu.glsl"

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  if (OP == GEGLU) { // i indexes out [rows, F]; a is [rows, 2F]
    uint f = i % p.b_inner, row = i / p.b_inner;
    float xv = float(a[p.a_off + row * 2 * p.b_inner + f]), g = float(a[p.a_off + row * 2 * p.b_inner + p.b_inner + f]);
    o[p.o_off + i] = T(xv * gelu_erf(g));
    return;
  }
  float x = float(a[p.a_off + i]);
  float r;
  if (OP <= SUB || OP == DIV) {
    float y = float(b[B_FULL ? p.b_off + i : p.b_off + ((p.base + i) / p.b_inner) % p.b_count]);
    r = OP == ADD ? x + y : OP == MUL ? x * y : OP == SUB ? x - y : x / y;
  } else if (OP == SCALE) {
    r = p.alpha * x + p.beta;
  } else if (OP == SILU) {
    r = x / (1.0 + exp(-x));
  } else if (OP == GELU) {
    r = gelu_erf(x);
  } else if (OP == GELU_TANH) {
    r = 0.5 * x * (1.0 + tanh(clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0)));
  } else if (OP == QUICK_GELU) {
    r = x / (1.0 + exp(-1.702 * x));
  } else if (OP == SIGMOID) {
    r = 1.0 / (1.0 + exp(-x));
  } else if (OP == RELU) {
    r = max(x, 0.0);
  } else if (OP == CLAMP) {
    r = clamp(x, p.alpha, p.beta);
  } else if (OP == LEAKY_RELU) {
    r = x >= 0.0 ? x : p.alpha * x;
  } else {
    r = x;
  }
  o[p.o_off + i] = T(r);
}
