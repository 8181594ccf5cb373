#version 450
// Strided 2-D copy: o[o_off + r * o_stride + c] = x[x_off + r * x_stride + c] for r < rows,
// c < cols (the building block of concat and split). One element per invocation, or with VEC
// (cols, strides and offsets multiples of 4) one vec4 through the aliasing vec4 bindings; all
// sizes in the push constants are then in vec4s.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool VEC = false;
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer X4 { V x4[]; };
layout(std430, binding = 3) writeonly buffer O4 { V o4[]; };
layout(push_constant) uniform P {
  uint rows, cols, x_off, x_stride, o_off, o_stride;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.rows * p.cols) return;
  uint r = i / p.cols, c = i % p.cols;
  if (VEC) o4[p.o_off + r * p.o_stride + c] = x4[p.x_off + r * p.x_stride + c];
  else o[p.o_off + r * p.o_stride + c] = x[p.x_off + r * p.x_stride + c];
}
