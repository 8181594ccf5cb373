#version 450
// General permutation of up to 5 dims, one output element per invocation: the output index is
// split into coordinates of the output shape, which index the input through permuted strides.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, x_off, o_off;
  uint oshape[5];  // output shape, leading dims padded with 1
  uint xstride[5]; // input stride of each output dim
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint rem = i, xi = 0;
  for (int d = 4; d >= 0; d--) {
    xi += (rem % p.oshape[d]) * p.xstride[d];
    rem /= p.oshape[d];
  }
  o[p.o_off + i] = x[p.x_off + xi];
}
