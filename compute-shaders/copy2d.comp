#version 450
// Strided 2-D copy: o[o_off + r * o_stride + c] = x[x_off + r * x_stride + c] for r < rows,
// c < cols (the building block of concat and split). One element per invocation.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint rows, cols, x_off, x_stride, o_off, o_stride;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.rows * p.cols) return;
  uint r = i / p.cols, c = i % p.cols;
  o[p.o_off + r * p.o_stride + c] = x[p.x_off + r * p.x_stride + c];
}
