#version 450
// The elementwise ops of elementwise.comp for the common case without broadcasting (b absent or of
// a's shape), four contiguous elements per invocation: on CPU devices such as lavapipe each lane
// then issues one 16-byte load instead of four scalar gathers. n4 counts vec4s; offsets are in vec4s.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
#include "dg_gelu.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;

#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer A { V a[]; };
layout(std430, binding = 1) readonly buffer B { V b[]; };
layout(std430, binding = 2) writeonly buffer O { V o[]; };
layout(push_constant) uniform P {
  uint n4, a_off, b_off, o_off;
  float alpha, beta;
  uint f4; // GEGLU: vec4s per output row (a's rows are twice as long)
} p;

const uint ADD = 0, MUL = 1, SUB = 2, SCALE = 3, SILU = 4, GELU = 5, GELU_TANH = 6, QUICK_GELU = 7,
           SIGMOID = 8, COPY = 9, DIV = 10, RELU = 11, CLAMP = 12, GEGLU = 13,
           LEAKY_RELU = 14;

vec4 erf4(vec4 x) { // Abramowitz-Stegun 7.1.26, odd-symmetric
  vec4 z = abs(x);
  vec4 t = 1.0 / (1.0 + 0.3275911 * z);
  vec4 y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return sign(x) * y;
}


void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n4) return;
  if (OP == GEGLU) { // i indexes out [rows, F4]; a is [rows, 2 F4]
    uint f = i % p.f4, row = i / p.f4;
    vec4 xv = vec4(a[p.a_off + row * 2 * p.f4 + f]), g = vec4(a[p.a_off + row * 2 * p.f4 + p.f4 + f]);
    vec4 r;
    for (uint c = 0; c < 4; c++) r[c] = xv[c] * gelu_erf(g[c]); // not erf4: the scalar shader's bits
    o[p.o_off + i] = V(r);
    return;
  }
  vec4 x = vec4(a[p.a_off + i]);
  vec4 r;
  if (OP == ADD) r = x + vec4(b[p.b_off + i]);
  else if (OP == MUL) r = x * vec4(b[p.b_off + i]);
  else if (OP == SUB) r = x - vec4(b[p.b_off + i]);
  else if (OP == DIV) r = x / vec4(b[p.b_off + i]);
  else if (OP == SCALE) r = p.alpha * x + p.beta;
  else if (OP == SILU) r = x / (1.0 + exp(-x));
  else if (OP == GELU) r = 0.5 * x * (1.0 + erf4(x * 0.70710678118654752));
  else if (OP == GELU_TANH) r = 0.5 * x * (1.0 + tanh(clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0)));
  else if (OP == QUICK_GELU) r = x / (1.0 + exp(-1.702 * x));
  else if (OP == SIGMOID) r = 1.0 / (1.0 + exp(-x));
  else if (OP == RELU) r = max(x, vec4(0.0));
  else if (OP == CLAMP) r = clamp(x, vec4(p.alpha), vec4(p.beta));
  else if (OP == LEAKY_RELU) r = mix(p.alpha * x, x, greaterThanEqual(x, vec4(0.0)));
  else r = x;
  o[p.o_off + i] = V(r);
}
