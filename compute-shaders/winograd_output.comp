#version 450
// dg:f32-only (render/ops/dg_conv_winograd.c takes f32 convolutions only)
// Winograd F(4x4, 3x3) output transform (render/ops/dg_conv_winograd.c): for output channel o and a group of
// four consecutive tiles (numbered as in winograd_input.comp), the 4x4 outputs A^T m A of each tile from the
// 36 vec4s m[e][o][t..t+3], + bias[o] (FLAGS 1) + the residual read in y's layout (FLAGS 4; it may be y
// itself), written as one vec4 per output row into y [N, Cout, Ho, Wo] where the tile lies inside it.
// Needs Wo % 4 == 0; m, y and the residual move through their bindings' addresses, offsets in vec4s.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#include "dg_common.glsl"
#include "dg_vec4_address.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FLAGS = 0;
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
// m_off, y_off, r_off in vec4s, bias_off in floats; groups = tiles4 / 4.
layout(push_constant) uniform P {
  uvec2 ma, ya, ra; // addresses of the m, y and residual bindings (0, 1, 3)
  uint cout, ho, wo, th, tw, tw4, groups, m_off, y_off, bias_off, r_off;
} p;

// A^T applied to 6 values of one row or column: 4 values.
float[4] at(float v[6]) {
  return float[4](v[0] + v[1] + v[2] + v[3] + v[4], v[1] - v[2] + 2 * v[3] - 2 * v[4], v[1] + v[2] + 4 * v[3] + 4 * v[4],
                  v[1] - v[2] + 8 * v[3] - 8 * v[4] + v[5]);
}

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.cout * p.groups) return;
  uint o = i / p.groups, g = i % p.groups;
  uint t0 = 4 * g, per = p.th * p.tw4, n = t0 / per, k = t0 % per, oy0 = 4 * (k / p.tw4), tx0 = k % p.tw4;
  uint plane = p.cout * p.groups, src = p.m_off + o * p.groups + g;
  vec4 m[36];
  [[unroll]] for (uint e = 0; e < 36; e++) m[e] = load4(XV(p.ma), src + e * plane);
  float b = (FLAGS & 1) != 0 ? bias[p.bias_off + o] : 0.0;
  uint wo4 = p.wo / 4, out0 = (n * p.cout + o) * p.ho * wo4;
  [[unroll]] for (uint q = 0; q < 4; q++) {
    if (tx0 + q >= p.tw) break;
    float s[4][6]; // A^T m
    [[unroll]] for (uint col = 0; col < 6; col++) {
      float a[4] = at(float[6](m[col][q], m[6 + col][q], m[12 + col][q], m[18 + col][q], m[24 + col][q], m[30 + col][q]));
      [[unroll]] for (uint r = 0; r < 4; r++) s[r][col] = a[r];
    }
    [[unroll]] for (uint r = 0; r < 4; r++) {
      uint oy = oy0 + r;
      if (oy >= p.ho) break;
      float row[4] = at(s[r]);
      uint e = out0 + oy * wo4 + tx0 + q;
      vec4 val = vec4(row[0], row[1], row[2], row[3]) + b;
      if ((FLAGS & 4) != 0) val += load4(XV(p.ra), p.r_off + e);
      store4(XV(p.ya), p.y_off + e, val);
    }
  }
}
