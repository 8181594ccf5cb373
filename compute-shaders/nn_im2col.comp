#version 450
// im2col for the convolution GEMM: x [N, C, H, W] -> col [N, C*K*K, PB] for the output pixels
// p0 .. p0+PB of each sample, zero outside the (top/left-padded) input. Each invocation writes 4
// consecutive output pixels of one row of col.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, c, h, w, k, stride, pad_t, pad_l, oh, ow;
  uint p0, pb, s0; // first output pixel, pixels in the band, first sample
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  uint P4 = (p.pb + 3) / 4, kk = p.c * p.k * p.k;
  if (i >= p.n * kk * P4) return;
  uint q = (i % P4) * 4, row = (i / P4) % kk, s = i / (P4 * kk);
  uint ci = row / (p.k * p.k), ky = (row / p.k) % p.k, kx = row % p.k;
  uint xb = ((p.s0 + s) * p.c + ci) * p.h * p.w, ob = (s * kk + row) * p.pb;
  for (uint j = 0; j < 4; j++) {
    uint q2 = q + j, pix = p.p0 + q2;
    if (q2 >= p.pb) break;
    int iy = int((pix / p.ow) * p.stride + ky) - int(p.pad_t), ix = int((pix % p.ow) * p.stride + kx) - int(p.pad_l);
    float v = iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.w) ? float(x[xb + uint(iy) * p.w + uint(ix)]) : 0.0;
    o[ob + q2] = T(v);
  }
}
