#version 450
// Reduction along one axis of x viewed as [outer, A, inner]: out[o, i] = op over a of
// x[o, a, i]; one output per invocation, so consecutive lanes read consecutive i.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0; // 0 sum, 1 mean, 2 max (dg_reduce_op)
// Last axis (inner 1) with A and x_off multiples of 4: each lane reads its row as vec4s.
layout(constant_id = 2) const bool VEC = false;
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer X4 { V x4[]; };
layout(push_constant) uniform P {
  uint n, a, inner, x_off, o_off; // outputs in this chunk, reduced extent, inner size
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  if (VEC) {
    uint b4 = (p.x_off + i * p.a) / 4;
    vec4 r4 = vec4(x4[b4]);
    for (uint k = 1; k < p.a / 4; k++) {
      vec4 v = vec4(x4[b4 + k]);
      r4 = OP == 2 ? max(r4, v) : r4 + v;
    }
    float r = OP == 2 ? max(max(r4.x, r4.y), max(r4.z, r4.w)) : (r4.x + r4.y) + (r4.z + r4.w);
    if (OP == 1) r /= float(p.a);
    o[p.o_off + i] = T(r);
    return;
  }
  uint base = p.x_off + (i / p.inner) * p.a * p.inner + i % p.inner;
  float r = float(x[base]);
  for (uint k = 1; k < p.a; k++) {
    float v = float(x[base + k * p.inner]);
    r = OP == 2 ? max(r, v) : r + v;
  }
  if (OP == 1) r /= float(p.a);
  o[p.o_off + i] = T(r);
}
