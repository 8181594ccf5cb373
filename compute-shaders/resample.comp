#version 450
// Spatial resampling of planes [P, H, W], one output element per invocation: nearest 2x upsample
// (MODE 0), average pooling with kernel = stride S (MODE 1, floor) and strided subsampling
// x[:, ::S, ::S] (MODE 2).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n; // output elements in this chunk
  uint x_off, o_off, h, w, oh, ow, s;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint plane = i / (p.oh * p.ow), rem = i % (p.oh * p.ow), oy = rem / p.ow, ox = rem % p.ow;
  uint base = p.x_off + plane * p.h * p.w;
  float r;
  if (MODE == 0) {
    r = float(x[base + (oy / 2) * p.w + ox / 2]);
  } else if (MODE == 1) {
    r = 0.0;
    for (uint dy = 0; dy < p.s; dy++)
      for (uint dx = 0; dx < p.s; dx++) r += float(x[base + (oy * p.s + dy) * p.w + ox * p.s + dx]);
    r /= float(p.s * p.s);
  } else {
    r = float(x[base + oy * p.s * p.w + ox * p.s]);
  }
  o[p.o_off + i] = T(r);
}
