#version 450
// Reduction along one axis of x viewed as [outer, A, inner]: out[o, i] = op over a of
// x[o, a, i]; one output per invocation, so consecutive lanes read consecutive i.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0; // 0 sum, 1 mean, 2 max (dg_reduce_op)
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, a, inner, x_off, o_off; // outputs in this chunk, reduced extent, inner size
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint base = p.x_off + (i / p.inner) * p.a * p.inner + i % p.inner;
  float r = float(x[base]);
  for (uint k = 1; k < p.a; k++) {
    float v = float(x[base + k * p.inner]);
    r = OP == 2 ? max(r, v) : r + v;
  }
  if (OP == 1) r /= float(p.a);
  o[p.o_off + i] = T(r);
}
