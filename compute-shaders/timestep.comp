#version 450
// Sinusoidal timestep embedding as LDM's timestep_embedding: half = dim / 2,
// freq_i = exp(-ln(max_period) * i / half), out = [cos(t freq), sin(t freq)] (COS_FIRST, LDM) or
// [sin, cos] (diffusers without flip_sin_to_cos), plus a zero column when dim is odd. t is f32.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool COS_FIRST = true;
layout(std430, binding = 0) readonly buffer Ts { float ts[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, dim, t_off, o_off;
  float log_max_period;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint r = i / p.dim, c = i % p.dim, half_dim = p.dim / 2;
  float v = 0.0;
  if (c < 2 * half_dim) {
    uint f = c % half_dim;
    float arg = ts[p.t_off + r] * exp(-p.log_max_period * float(f) / float(half_dim));
    v = (c < half_dim) == COS_FIRST ? cos(arg) : sin(arg);
  }
  o[p.o_off + i] = T(v);
}
