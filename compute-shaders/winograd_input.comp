#version 450
// dg:f32-only (render/ops/dg_conv_winograd.c takes f32 convolutions only)
// Winograd F(4x4, 3x3) input transform of a "same" 3x3 convolution (render/ops/dg_conv_winograd.c). Tiles of
// 4x4 outputs are numbered t = (n th + ty) tw4 + tx with tw4 = tw rounded up to 4, so every group of four
// consecutive tiles lies in one tile row. One invocation per input channel c and group: it loads the 6 x 24
// inputs the group's four 6x6 patches lie in (from (4 ty - 1, 16 tx / 4 - 4), zero outside x) as vec4s,
// applies B^T down each column once, then B across each tile's 6 columns, and writes v[e][c][t..t+3] as one
// vec4 per element e of the 36. Needs W % 4 == 0; x and v move through their bindings' addresses (the
// bindings declare the access), offsets in vec4s from there.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#include "dg_common.glsl"
#include "dg_vec4_address.glsl"
layout(local_size_x_id = 0) in;
// groups = tiles4 / 4 (tile groups per channel).
layout(push_constant) uniform P { uvec2 xa, va; uint c, h, w, th, tw4, groups, x_off, v_off; } p;

// B^T applied to 6 values of one row or column.
float[6] bt(float d[6]) {
  return float[6](4 * d[0] - 5 * d[2] + d[4], -4 * d[1] - 4 * d[2] + d[3] + d[4], 4 * d[1] - 4 * d[2] - d[3] + d[4],
                  -2 * d[1] - d[2] + 2 * d[3] + d[4], 2 * d[1] - d[2] - 2 * d[3] + d[4], 4 * d[1] - 5 * d[3] + d[5]);
}

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.c * p.groups) return;
  uint c = i / p.groups, g = i % p.groups;
  uint t0 = 4 * g, per = p.th * p.tw4, n = t0 / per, k = t0 % per;
  int y0 = int(4 * (k / p.tw4)) - 1, xa = int(4 * (k % p.tw4)) - 4; // xa: 4 left of the first tile's column 0
  uint w4 = p.w / 4, base = p.x_off + (n * p.c + c) * p.h * w4;
  // Columns xa .. xa + 23; tile q reads columns xa + 3 + 4 q .. xa + 8 + 4 q.
  float s[6][24];
  [[unroll]] for (int r = 0; r < 6; r++) {
    int iy = y0 + r;
    bool row_in = iy >= 0 && iy < int(p.h);
    uint row = base + uint(clamp(iy, 0, int(p.h) - 1)) * w4;
    [[unroll]] for (int j = 0; j < 6; j++) {
      int cx = xa / 4 + j;
      vec4 val = load4(XV(p.xa), row + uint(clamp(cx, 0, int(w4) - 1)));
      if (!(row_in && cx >= 0 && cx < int(w4))) val = vec4(0);
      [[unroll]] for (int q = 0; q < 4; q++) s[r][4 * j + q] = val[q];
    }
  }
  [[unroll]] for (uint col = 3; col < 21; col++) { // B^T d, down the 18 columns the tiles read
    float v[6] = bt(float[6](s[0][col], s[1][col], s[2][col], s[3][col], s[4][col], s[5][col]));
    [[unroll]] for (uint r = 0; r < 6; r++) s[r][col] = v[r];
  }
  uint plane = p.c * p.groups;
  [[unroll]] for (uint r = 0; r < 6; r++) { // (B^T d) B for the four tiles, one vec4 per element
    float e[4][6];
    [[unroll]] for (uint q = 0; q < 4; q++) {
      float row[6] = bt(float[6](s[r][3 + 4 * q], s[r][4 + 4 * q], s[r][5 + 4 * q], s[r][6 + 4 * q], s[r][7 + 4 * q],
                                 s[r][8 + 4 * q]));
      e[q] = row;
    }
    [[unroll]] for (uint col = 0; col < 6; col++)
      store4(XV(p.va), p.v_off + (r * 6 + col) * plane + i, vec4(e[0][col], e[1][col], e[2][col], e[3][col]));
  }
}
