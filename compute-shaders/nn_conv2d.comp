#version 450
// Direct 2-D convolution, NCHW, groups 1: one invocation computes 4 consecutive output channels of
// one output pixel, so every input value loaded is used 4 times. Zero padding may be asymmetric
// (pad_t/pad_l given; bottom/right follow from the output size), as the VAE downsample needs.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool BIAS = true;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer W { T w[]; };
layout(std430, binding = 2) readonly buffer B { T b[]; };
layout(std430, binding = 3) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, cin, h, w, cout, oh, ow, k, stride, pad_t, pad_l;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  uint co_blocks = (p.cout + 3) / 4;
  uint total = p.n * co_blocks * p.oh * p.ow;
  if (i >= total) return;
  uint ox = i % p.ow;
  uint oy = (i / p.ow) % p.oh;
  uint cb = (i / (p.ow * p.oh)) % co_blocks;
  uint nn = i / (p.ow * p.oh * co_blocks);
  uint co = cb * 4;
  uint nco = min(4u, p.cout - co);
  vec4 acc = vec4(0);
  int iy0 = int(oy * p.stride) - int(p.pad_t), ix0 = int(ox * p.stride) - int(p.pad_l);
  uint kk = p.k * p.k;
  uint wstride = p.cin * kk; // between output channels
  for (uint ci = 0; ci < p.cin; ci++) {
    uint xbase = (nn * p.cin + ci) * p.h * p.w;
    uint wbase = (co * p.cin + ci) * kk;
    for (uint ky = 0; ky < p.k; ky++) {
      int iy = iy0 + int(ky);
      if (iy < 0 || iy >= int(p.h)) continue;
      for (uint kx = 0; kx < p.k; kx++) {
        int ix = ix0 + int(kx);
        if (ix < 0 || ix >= int(p.w)) continue;
        float xv = float(x[xbase + uint(iy) * p.w + uint(ix)]);
        uint wi = wbase + ky * p.k + kx;
        acc.x += xv * float(w[wi]);
        if (nco > 1) acc.y += xv * float(w[wi + wstride]);
        if (nco > 2) acc.z += xv * float(w[wi + 2 * wstride]);
        if (nco > 3) acc.w += xv * float(w[wi + 3 * wstride]);
      }
    }
  }
  uint obase = ((nn * p.cout + co) * p.oh + oy) * p.ow + ox;
  uint plane = p.oh * p.ow;
  for (uint j = 0; j < nco; j++) {
    float v = acc[j];
    if (BIAS) v += float(b[co + j]);
    o[obase + j * plane] = T(v);
  }
}
