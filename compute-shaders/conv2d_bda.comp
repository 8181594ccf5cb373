#version 450
// The vectorised 3x3 path of conv2d.comp (MODE 1 with COOP: stride 1, padding 1, W % 4 == 0, input
// channels in blocks of 4, an 8-lane subgroup that is the whole workgroup, TM a multiple of it) with
// the input pixels and the weights read through buffer device addresses. On lavapipe a storage-buffer
// load is a loop over the lanes with a bounds check per component; a load through an address is not
// (docs/lavapipe-performance.md). Bias, accumulation and residual go through the bindings as in
// conv2d.comp (once per output, outside the loop over input channels); the push constants are
// conv2d.comp's after the two addresses, and the indices into x and w are the same (relative to the
// start of the binding, whose address is given).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 16; // output channels per lane (a multiple of the subgroup)
layout(constant_id = 2) const uint TN = 8;  // output pixels per lane (along x, a multiple of 4)

// vec4s move as 64-bit words (one per f16 vec4, two per f32 vec4), as in norm_bda.comp.
#ifdef DG_F16
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer XV { uint64_t v[]; };
vec4 load4(XV r, uint i) {
  uvec2 u = unpackUint2x32(r.v[i]);
  return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
}
#else
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer XV { u64vec2 v[]; };
vec4 load4(XV r, uint i) {
  u64vec2 w = r.v[i];
  return uintBitsToFloat(uvec4(unpackUint2x32(w.x), unpackUint2x32(w.y)));
}
#endif
layout(std430, binding = 4) readonly buffer Bias { T bias[]; };
layout(std430, binding = 5) buffer Y { T y[]; };
layout(std430, binding = 6) readonly buffer R { T r[]; }; // residual, read with y's layout
layout(push_constant) uniform P {
  uvec2 xa, wa; // addresses of the x and w bindings' first elements
  uint H, W, Ho, Wo;
  uint cin, cout;
  uint x_off, x_sz, x_row0;
  uint y_off, y_sz, oy0;
  uint rows;
  uint w_off, w_sco;
  uint bias_off;
  uint sh, sw, ph, pw;
  uint groups_n;
  uint KH, KW;
  uint flags; // 1: add bias, 2: accumulate into y, 4: add the residual
  uint r_off;
} p;

void main() {
  uint g = dg_group_index();
  uint gp = g % p.groups_n, gc = g / p.groups_n;
  uint lane = gl_LocalInvocationID.x;
  const uint LW = gl_WorkGroupSize.x;
  uint tiles_x = (p.Wo + TN - 1) / TN;
  uint pt = gp * LW + lane;
  bool live = pt < tiles_x * p.rows;
  pt = min(pt, tiles_x * p.rows - 1); // lanes past the end load (for the others) but store nothing
  uint oy = p.oy0 + pt / tiles_x, ox0 = (pt % tiles_x) * TN;
  uint co0 = gc * TM;
  uint z = gl_WorkGroupID.z;
  uint xb = p.x_off + z * p.x_sz;
  uint plane = p.H * p.W;
  XV xr = XV(p.xa), wr = XV(p.wa);

  float acc[TM][TN];
  [[unroll]] for (uint i = 0; i < TM; i++)
    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0;

  [[dont_unroll]] for (uint c = 0; c < p.cin; c += 4) {
    // weights of input channels c..c+3 (4 x 9 taps, contiguous) for each output channel: lane l loads
    // those of channels l, l + LW, ... and the others take them by broadcast
    float wt[TM][36];
    vec4 wl[TM / LW][9];
    [[unroll]] for (uint q = 0; q < TM / LW; q++) {
      uint wb = (p.w_off + min(co0 + q * LW + lane, p.cout - 1) * p.w_sco + c * 9) / 4;
      [[unroll]] for (uint k = 0; k < 9; k++) wl[q][k] = load4(wr, wb + k);
    }
    [[unroll]] for (uint i = 0; i < TM; i++)
      [[unroll]] for (uint k = 0; k < 9; k++) {
        vec4 v = subgroupBroadcast(wl[i / LW][k], i % LW);
        [[unroll]] for (uint e = 0; e < 4; e++) wt[i][4 * k + e] = v[e];
      }
    [[unroll]] for (uint cc = 0; cc < 4; cc++) {
      [[unroll]] for (uint ky = 0; ky < 3; ky++) {
        int iy = int(oy) - 1 + int(ky);
        bool rv = iy >= 0 && iy < int(p.H);
        uint rb = xb + (c + cc) * plane + uint(clamp(iy, 0, int(p.H) - 1) - int(p.x_row0)) * p.W;
        // TN + 8 pixels x0-4 .. x0+TN+3 as vec4s (each entirely inside or outside the row)
        float px[TN + 8];
        [[unroll]] for (uint q = 0; q < TN / 4 + 2; q++) {
          int xs = int(ox0) - 4 + 4 * int(q);
          bool ok = rv && xs >= 0 && xs < int(p.W);
          vec4 v = load4(xr, (rb + uint(clamp(xs, 0, int(p.W) - 4))) / 4);
          if (!ok) v = vec4(0);
          [[unroll]] for (uint e = 0; e < 4; e++) px[4 * q + e] = v[e];
        }
        [[unroll]] for (uint i = 0; i < TM; i++)
          [[unroll]] for (uint kx = 0; kx < 3; kx++) {
            float wv = wt[i][cc * 9 + ky * 3 + kx];
            [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] += wv * px[3 + j + kx];
          }
      }
    }
  }

  if (!live) return;
  uint yb = p.y_off + z * p.y_sz + (oy - p.oy0) * p.Wo;
  [[unroll]] for (uint i = 0; i < TM; i++) {
    uint co = co0 + i;
    if (co >= p.cout) break;
    [[unroll]] for (uint j = 0; j < TN; j++) {
      uint ox = ox0 + j;
      if (ox >= p.Wo) break;
      float v = acc[i][j];
      if ((p.flags & 1) != 0) v += float(bias[p.bias_off + co]);
      uint yi = yb + co * p.Ho * p.Wo + ox;
      if ((p.flags & 2) != 0) v += float(y[yi]);
      if ((p.flags & 4) != 0) v += float(r[yi - p.y_off + p.r_off]);
      y[yi] = T(v);
    }
  }
}
