#version 450
// Batched 2-D transpose [batch, X, Y] -> [batch, Y, X] with X and Y multiples of 4: each invocation
// moves one 4x4 block with four vec4 loads and four vec4 stores (a general permute would do 16
// scalar loads and stores). Offsets are in vec4s.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer X { V x4[]; };
layout(std430, binding = 1) writeonly buffer O { V o4[]; };
layout(push_constant) uniform P {
  uint blocks, x4n, y4n, x_off, o_off; // blocks in this chunk, X / 4, Y / 4
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.blocks) return;
  uint per = p.x4n * p.y4n, b = i / per, r = i % per, bx = r / p.y4n, by = r % p.y4n;
  uint xs = p.y4n, os = p.x4n; // row strides in vec4s
  uint ib = p.x_off + b * per * 4 + 4 * bx * xs + by;
  vec4 r0 = vec4(x4[ib]), r1 = vec4(x4[ib + xs]), r2 = vec4(x4[ib + 2 * xs]), r3 = vec4(x4[ib + 3 * xs]);
  uint ob = p.o_off + b * per * 4 + 4 * by * os + bx;
  o4[ob] = V(vec4(r0.x, r1.x, r2.x, r3.x));
  o4[ob + os] = V(vec4(r0.y, r1.y, r2.y, r3.y));
  o4[ob + 2 * os] = V(vec4(r0.z, r1.z, r2.z, r3.z));
  o4[ob + 3 * os] = V(vec4(r0.w, r1.w, r2.w, r3.w));
}
