#version 450
// The tail of a StyleGAN2 modulated conv (ADA's non-fused path: the input scaled by the styles, a plain
// conv with the shared weight, then this) over planes [N*O, H*W]: demodulation y * rsqrt(dsum[n,o] + 1e-8)
// (dsum = sum_i s[n,i]^2 sum_k w[o,i,k]^2; DEMOD 0 skips it), noise * strength (NOISE 1: one [H,W] map,
// 2: [N,H,W], 3: [N,O,H,W] windowed like y: an encoder's full-channel layer noise), + bias[o], leaky ReLU 0.2 times sqrt 2 (ACT 1), times gain, clamped to +-clamp when >= 0.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Y { T y[]; };
layout(std430, binding = 1) readonly buffer D { T dsum[]; };
layout(std430, binding = 2) readonly buffer N { T noise[]; };
layout(std430, binding = 3) readonly buffer B { T bias[]; };
layout(std430, binding = 4) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint n, y_off, o_off, d_off, nz_off, b_off, plane0, c, hw;
  uint demod, noise_mode, act;
  float strength, gain, clamp_to;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint plane = p.plane0 + i / p.hw, pix = i % p.hw, ch = plane % p.c;
  float v = float(y[p.y_off + i]);
  if (p.demod != 0) v *= inversesqrt(float(dsum[p.d_off + plane]) + 1e-8);
  if (p.noise_mode == 1) v += p.strength * float(noise[p.nz_off + pix]);
  else if (p.noise_mode == 2) v += p.strength * float(noise[p.nz_off + (plane / p.c) * p.hw + pix]);
  else if (p.noise_mode == 3) v += p.strength * float(noise[p.nz_off + i]);
  v += float(bias[p.b_off + ch]);
  if (p.act != 0) v = (v < 0.0 ? 0.2 * v : v) * 1.4142135623730951;
  v *= p.gain;
  if (p.clamp_to >= 0.0) v = clamp(v, -p.clamp_to, p.clamp_to);
  o[p.o_off + i] = T(v);
}
