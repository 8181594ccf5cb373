#version 450
// Gradient of group norm (+ fused SiLU) and layer norm with respect to x, one lane per row (a row is
// one group of one sample, or one vector of layer norm). The statistics are recomputed from x:
// xh = (x - mean) rstd, g = dy * silu'(gamma xh + beta) * gamma,
// dx = rstd (g - mean(g) - xh mean(g xh)).
// Element i of row r has the affine index (r % groups) * cpg + i / hw (layer norm: groups 1, hw 1).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool SILU = false;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer DY { T dy[]; };
layout(std430, binding = 2) writeonly buffer DX { T dx[]; };
layout(std430, binding = 3) readonly buffer G { T gamma[]; };
layout(std430, binding = 4) readonly buffer B { T beta[]; };
layout(push_constant) uniform P {
  uint rows, len, x_off, dy_off, dx_off, g_off, b_off, groups, cpg, hw;
  float eps;
} p;

float grad_xh(uint r, uint i, float xh) {
  uint c = (r % p.groups) * p.cpg + i / p.hw;
  float g = float(gamma[p.g_off + c]), d = float(dy[p.dy_off + r * p.len + i]);
  if (SILU) {
    float y = g * xh + float(beta[p.b_off + c]), s = 1.0 / (1.0 + exp(-y));
    d *= s * (1.0 + y * (1.0 - s));
  }
  return d * g;
}

void main() {
  uint r = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (r >= p.rows) return;
  uint base = p.x_off + r * p.len;
  float mean = 0.0;
  for (uint i = 0; i < p.len; i++) mean += float(x[base + i]);
  mean /= float(p.len);
  float var = 0.0;
  for (uint i = 0; i < p.len; i++) {
    float t = float(x[base + i]) - mean;
    var += t * t;
  }
  float rstd = inversesqrt(var / float(p.len) + p.eps);
  float s1 = 0.0, s2 = 0.0;
  for (uint i = 0; i < p.len; i++) {
    float xh = (float(x[base + i]) - mean) * rstd, g = grad_xh(r, i, xh);
    s1 += g;
    s2 += g * xh;
  }
  s1 /= float(p.len);
  s2 /= float(p.len);
  for (uint i = 0; i < p.len; i++) {
    float xh = (float(x[base + i]) - mean) * rstd;
    dx[p.dx_off + r * p.len + i] = T(rstd * (grad_xh(r, i, xh) - s1 - xh * s2));
  }
}
