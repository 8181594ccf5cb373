#version 450
// Direct 2-D convolution, NCHW, with stride, padding, groups and bias; no im2col buffer. Each lane
// computes TM output channels x TN consecutive output pixels of one row (see matmul.comp for why
// per-lane register tiles and few, wide loads matter on lavapipe).
// MODE 0: any kernel/stride/padding, scalar loads.
// MODE 1: 3x3, stride 1, padding 1, W % 4 == 0, TN % 4 == 0, input channels in blocks of 4: per block
//   the weights of each output channel are 9 vec4s (4 channels x 9 taps are contiguous), and each
//   lane loads TN / 4 + 2 vec4s per input row (pixels x0-4 .. x0+TN+3, of which x0-1 .. x0+TN are
//   used). All lanes of a workgroup use the same TM output channels: with COOP (a subgroup that is the
//   whole workgroup, TM a multiple of its size) lane l loads the weights of channels l, l + 8, ... only
//   and the others take them with subgroupBroadcast, which on lavapipe is far cheaper than every lane
//   loading all TM channels.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 8;    // output channels per lane
layout(constant_id = 2) const uint TN = 8;    // output pixels per lane (along x)
layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const bool COOP = false;

#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer X4 { V x4[]; };
layout(std430, binding = 2) readonly buffer W { T w[]; };
layout(std430, binding = 3) readonly buffer W4 { V w4[]; };
layout(std430, binding = 4) readonly buffer Bias { T bias[]; };
layout(std430, binding = 5) buffer Y { T y[]; };
layout(std430, binding = 6) readonly buffer R { T r[]; }; // residual, read with y's layout
layout(push_constant) uniform P {
  uint H, W, Ho, Wo;
  uint cin, cout;       // input channels in this pass, output channels in this dispatch
  uint x_off, x_sz, x_row0; // x_row0: first input row inside the x window
  uint y_off, y_sz, oy0;    // oy0: first output row of this dispatch (window starts there)
  uint rows;                // output rows in this dispatch
  uint w_off, w_sco;        // w_sco: weight stride between output channels
  uint bias_off;
  uint sh, sw, ph, pw;
  uint groups_n;            // pixel-tile workgroups
  uint KH, KW;
  uint flags; // 1: add bias, 2: accumulate into y, 4: add the residual (push constants, not specialisation: one pipeline)
  uint r_off; // the residual window's offset of element y_off
} p;

void main() {
  uint g = dg_group_index();
  uint gp = g % p.groups_n, gc = g / p.groups_n;
  uint lane = gl_LocalInvocationID.x;
  uint tiles_x = (p.Wo + TN - 1) / TN;
  uint pt = gp * gl_WorkGroupSize.x + lane;
  bool live = pt < tiles_x * p.rows;
  if (!COOP && !live) return;
  pt = min(pt, tiles_x * p.rows - 1); // COOP: lanes past the end load (for the others) but store nothing
  uint oy = p.oy0 + pt / tiles_x, ox0 = (pt % tiles_x) * TN;
  uint co0 = gc * TM;
  uint z = gl_WorkGroupID.z;
  uint xb = p.x_off + z * p.x_sz;
  uint plane = p.H * p.W;

  float acc[TM][TN];
  [[unroll]] for (uint i = 0; i < TM; i++)
    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0;
  uint wrow[TM];
  [[unroll]] for (uint i = 0; i < TM; i++) wrow[i] = p.w_off + min(co0 + i, p.cout - 1) * p.w_sco;

  if (MODE == 1) {
    [[dont_unroll]] for (uint c = 0; c < p.cin; c += 4) {
      // weights of input channels c..c+3 (4 x 9 taps, contiguous) for each output channel
      float wt[TM][36];
      if (COOP) {
        const uint LW = gl_WorkGroupSize.x;
        vec4 wl[TM / LW][9];
        [[unroll]] for (uint r = 0; r < TM / LW; r++) {
          uint wb = (p.w_off + min(co0 + r * LW + lane, p.cout - 1) * p.w_sco + c * 9) / 4;
          [[unroll]] for (uint q = 0; q < 9; q++) wl[r][q] = vec4(w4[wb + q]);
        }
        [[unroll]] for (uint i = 0; i < TM; i++)
          [[unroll]] for (uint q = 0; q < 9; q++) {
            vec4 v = subgroupBroadcast(wl[i / LW][q], i % LW);
            [[unroll]] for (uint e = 0; e < 4; e++) wt[i][4 * q + e] = v[e];
          }
      } else {
        [[unroll]] for (uint i = 0; i < TM; i++)
          [[unroll]] for (uint q = 0; q < 9; q++) {
            vec4 v = vec4(w4[(wrow[i] + c * 9) / 4 + q]);
            [[unroll]] for (uint e = 0; e < 4; e++) wt[i][4 * q + e] = v[e];
          }
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
            vec4 v = vec4(x4[(rb + uint(clamp(xs, 0, int(p.W) - 4))) / 4]);
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
  } else {
    [[dont_unroll]] for (uint c = 0; c < p.cin; c++) {
      [[dont_unroll]] for (uint ky = 0; ky < p.KH; ky++) {
        int iy = int(oy * p.sh) - int(p.ph) + int(ky);
        bool rv = iy >= 0 && iy < int(p.H);
        uint rb = xb + c * plane + uint(clamp(iy, 0, int(p.H) - 1) - int(p.x_row0)) * p.W;
        [[dont_unroll]] for (uint kx = 0; kx < p.KW; kx++) {
          float px[TN];
          [[unroll]] for (uint j = 0; j < TN; j++) {
            int ix = int((ox0 + j) * p.sw) - int(p.pw) + int(kx);
            bool ok = rv && ix >= 0 && ix < int(p.W);
            float v = float(x[rb + uint(clamp(ix, 0, int(p.W) - 1))]);
            px[j] = ok ? v : 0.0;
          }
          [[unroll]] for (uint i = 0; i < TM; i++) {
            float wv = float(w[wrow[i] + (c * p.KH + ky) * p.KW + kx]);
            [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] += wv * px[j];
          }
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
