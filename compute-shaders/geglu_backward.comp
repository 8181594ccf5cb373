#version 450
// Gradient of GEGLU out = a * gelu(g) (x = [a, g] along the last dim, exact erf GELU as
// elementwise.comp) with respect to x: da = dy gelu(g), dg = dy a gelu'(g), gelu'(g) = Phi(g) + g phi(g).
// One lane per element of dy [rows, f].
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer DY { T dy[]; };
layout(std430, binding = 2) writeonly buffer DX { T dx[]; };
layout(push_constant) uniform P { uint n, f, x_off, dy_off, dx_off; } p;

#include "dg_gelu.glsl"

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  uint c = i % p.f, row = i / p.f, xa = p.x_off + row * 2 * p.f + c;
  float a = float(x[xa]), g = float(x[xa + p.f]), d = float(dy[p.dy_off + i]);
  // Phi(g) from the same erf approximation as the forward (gelu_erf(g) = g Phi(g)).
  float z = abs(g) * 0.70710678118654752, t = 1.0 / (1.0 + 0.3275911 * z);
  float e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  float phi_cdf = 0.5 * (1.0 + (g < 0.0 ? -e : e));
  float pdf = 0.3989422804014327 * exp(-0.5 * g * g);
  uint o = p.dx_off + row * 2 * p.f + c;
  dx[o] = T(d * g * phi_cdf);
  dx[o + p.f] = T(d * a * (phi_cdf + g * pdf));
}
