#version 450
// Spatial resampling of planes [P, H, W], one output element per invocation: nearest 2x upsample
// (MODE 0), average pooling with kernel = stride S (MODE 1, floor) and strided subsampling
// x[:, ::S, ::S] (MODE 2). MODE 3 is the upsample with vec4s (W % 4 == 0, aligned offsets, all
// in vec4 units): one input vec4 per invocation, written as two vec4s on each of two rows.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 2) readonly buffer X4 { V x4[]; };
layout(std430, binding = 3) writeonly buffer O4 { V o4[]; };
layout(push_constant) uniform P {
  uint n; // output elements in this chunk
  uint x_off, o_off, h, w, oh, ow, s;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  if (MODE == 3) { // i: input vec4; w, ow in vec4s
    uint row = i / p.w, c = i % p.w;
    vec4 v = vec4(x4[p.x_off + i]);
    vec4 lo = v.xxyy, hi = v.zzww;
    uint ob = p.o_off + 2 * row * p.ow + 2 * c; // input row r of a plane -> output rows 2r, 2r + 1
    o4[ob] = V(lo);
    o4[ob + 1] = V(hi);
    o4[ob + p.ow] = V(lo);
    o4[ob + p.ow + 1] = V(hi);
    return;
  }
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
