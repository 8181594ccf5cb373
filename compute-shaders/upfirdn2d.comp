#version 450
// upfirdn2d of planes [P, H, W] (StyleGAN2-ADA's reference): zero insertion by UP, padding (px0, py0
// before; negative crops), correlation with the filter the host flipped and scaled by the gain (at most
// 4x4, in push constants), every DOWN-th sample kept. One output element per invocation.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, x_off, o_off, h, w, oh, ow, up, down;
  int px0, py0;
  uint fh, fw;
  float f[16]; // row-major fh x fw, already flipped
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint plane = i / (p.oh * p.ow), rem = i % (p.oh * p.ow), oy = rem / p.ow, ox = rem % p.ow;
  uint base = p.x_off + plane * p.h * p.w;
  int hu = int(p.h * p.up), wu = int(p.w * p.up);
  float r = 0.0;
  for (uint a = 0; a < p.fh; a++) {
    int u = int(oy * p.down + a) - p.py0; // row in the zero-inserted input
    if (u < 0 || u >= hu || u % int(p.up) != 0) continue;
    for (uint b = 0; b < p.fw; b++) {
      int v = int(ox * p.down + b) - p.px0;
      if (v < 0 || v >= wu || v % int(p.up) != 0) continue;
      r += p.f[a * p.fw + b] * float(x[base + uint(u / int(p.up)) * p.w + uint(v / int(p.up))]);
    }
  }
  o[p.o_off + i] = T(r);
}
