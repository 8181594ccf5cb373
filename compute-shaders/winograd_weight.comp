#version 450
// dg:f32-only (render/ops/dg_conv_winograd.c takes f32 convolutions only)
// Winograd F(4x4, 3x3) weight transform (render/ops/dg_conv_winograd.c): for output channel o and input
// channel i, u[e][o][i] = (G g G^T)[e] of the 3x3 kernel g = w[o][i], e = 6 r + q over the 6x6 elements.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer W { T w[]; };
layout(std430, binding = 1) writeonly buffer U { T u[]; };
layout(push_constant) uniform P { uint cout, cin, w_off, u_off; } p;

// G applied to the 3 taps of one row or column: 6 values.
float[6] gt(float a, float b, float c) {
  return float[6](a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c);
}

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.cout * p.cin) return;
  float g[3][3];
  [[unroll]] for (uint r = 0; r < 3; r++)
    [[unroll]] for (uint q = 0; q < 3; q++) g[r][q] = float(w[p.w_off + i * 9 + r * 3 + q]);
  float t[6][3]; // G g
  [[unroll]] for (uint q = 0; q < 3; q++) {
    float c[6] = gt(g[0][q], g[1][q], g[2][q]);
    [[unroll]] for (uint r = 0; r < 6; r++) t[r][q] = c[r];
  }
  uint plane = p.cout * p.cin;
  [[unroll]] for (uint r = 0; r < 6; r++) { // (G g) G^T
    float row[6] = gt(t[r][0], t[r][1], t[r][2]);
    [[unroll]] for (uint q = 0; q < 6; q++) u[p.u_off + (r * 6 + q) * plane + i] = T(row[q]);
  }
}
