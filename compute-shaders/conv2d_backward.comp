#version 450
// Gradient of conv2d with respect to its input (one group): dx[n, ci, y, x] = sum over co, ky, kx of
// dy[n, co, oy, ox] w[co, ci, ky, kx] where oy * stride - pad_top + ky = y (the transposed convolution).
// One lane per element of dx; any stride and padding (the UNet's stride-2 downsampling).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer DY { T dy[]; };
layout(std430, binding = 1) readonly buffer W { T w[]; };
layout(std430, binding = 2) writeonly buffer DX { T dx[]; };
layout(push_constant) uniform P {
  uint n, ci, h, wd;  // dx [n, ci, h, wd]
  uint co, ho, wo;    // dy [n, co, ho, wo]
  uint kh, kw, sh, sw, ph, pw;
  uint dy_off, w_off, dx_off;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n * p.ci * p.h * p.wd) return;
  uint x = i % p.wd, y = (i / p.wd) % p.h, c = (i / (p.wd * p.h)) % p.ci, b = i / (p.wd * p.h * p.ci);
  float acc = 0.0;
  for (uint ky = 0; ky < p.kh; ky++) {
    int ty = int(y + p.ph) - int(ky);
    if (ty < 0 || ty % int(p.sh) != 0) continue;
    uint oy = uint(ty) / p.sh;
    if (oy >= p.ho) continue;
    for (uint kx = 0; kx < p.kw; kx++) {
      int tx = int(x + p.pw) - int(kx);
      if (tx < 0 || tx % int(p.sw) != 0) continue;
      uint ox = uint(tx) / p.sw;
      if (ox >= p.wo) continue;
      uint dyi = p.dy_off + (b * p.co * p.ho + oy) * p.wo + ox, wi = p.w_off + (c * p.kh + ky) * p.kw + kx;
      for (uint o = 0; o < p.co; o++)
        acc += float(dy[dyi + o * p.ho * p.wo]) * float(w[wi + o * p.ci * p.kh * p.kw]);
    }
  }
  dx[p.dx_off + i] = T(acc);
}
