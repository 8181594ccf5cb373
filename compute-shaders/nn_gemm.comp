#version 450
// C[z] = A[z] B[z] (+ bias) for the model layers' dense layers and convolutions (after im2col).
// A [M, K] is row-major; B is [K, N] row-major or, with BT, given as [N, K] row-major (a weight of
// torch.nn.Linear). On lavapipe every load in the loop costs about the same whether scalar or vec4,
// so each lane computes a TM x TN register tile from vec4 loads: (TM + TN) loads per 4 TM TN
// multiply-adds (the pattern of the ops-mm branch's matmul).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FLAGS = 0;
layout(constant_id = 2) const uint LN = 8; // lanes along N
const uint TM = 8, TN = 8;
const bool BT = (FLAGS & 1) != 0;   // B given as [N, K]
const bool AV = (FLAGS & 2) != 0;   // vec4 loads of A (K % 4 == 0)
const bool BV = (FLAGS & 4) != 0;   // vec4 loads of B (BT: K % 4 == 0, else N % 4 == 0)
const uint BIAS = (FLAGS >> 3) & 3; // 0 none, 1 per column n, 2 per row m

#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer A { T a[]; };
layout(std430, binding = 1) readonly buffer A4 { V a4[]; };
layout(std430, binding = 2) readonly buffer B { T b[]; };
layout(std430, binding = 3) readonly buffer B4 { V b4[]; };
layout(std430, binding = 4) readonly buffer Bias { T bias[]; };
layout(std430, binding = 5) writeonly buffer C { T c[]; };
layout(push_constant) uniform P {
  uint M, N, K;
  uint a_sz, b_sz, c_sz; // per-batch strides (elements)
  uint groups_n;
  uint c_off, c_sm; // C[m, n] is c[c_off + z c_sz + m c_sm + n] (a band of a wider output)
} p;

void main() {
  const uint LM = gl_WorkGroupSize.x / LN;
  uint g = dg_group_index();
  uint gn = g % p.groups_n, gm = g / p.groups_n;
  uint lane = gl_LocalInvocationID.x;
  uint m0 = (gm * LM + lane / LN) * TM, n0 = (gn * LN + lane % LN) * TN;
  if (m0 >= p.M || n0 >= p.N) return;
  uint z = gl_WorkGroupID.z;
  uint ab = z * p.a_sz, bb = z * p.b_sz;
  float acc[TM][TN];
  [[unroll]] for (uint i = 0; i < TM; i++)
    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0;
  [[dont_unroll]] for (uint k = 0; k < p.K; k += 4) {
    float as[TM][4], bs[4][TN];
    // Rows and columns past the end are clamped (computed, never stored); k past K is zeroed.
    if (AV) {
      [[unroll]] for (uint i = 0; i < TM; i++) {
        vec4 v = vec4(a4[(ab + min(m0 + i, p.M - 1) * p.K + k) / 4]);
        [[unroll]] for (uint t = 0; t < 4; t++) as[i][t] = v[t];
      }
    } else {
      [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint t = 0; t < 4; t++)
          as[i][t] = k + t < p.K ? float(a[ab + min(m0 + i, p.M - 1) * p.K + k + t]) : 0.0;
    }
    if (BT && BV) {
      [[unroll]] for (uint j = 0; j < TN; j++) {
        vec4 v = vec4(b4[(bb + min(n0 + j, p.N - 1) * p.K + k) / 4]);
        [[unroll]] for (uint t = 0; t < 4; t++) bs[t][j] = v[t];
      }
    } else if (BT) {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint j = 0; j < TN; j++)
          bs[t][j] = float(b[bb + min(n0 + j, p.N - 1) * p.K + min(k + t, p.K - 1)]);
    } else if (BV) {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint j4 = 0; j4 < TN / 4; j4++) {
          vec4 v = vec4(b4[(bb + min(k + t, p.K - 1) * p.N + min(n0 + 4 * j4, p.N - 4)) / 4]);
          [[unroll]] for (uint q = 0; q < 4; q++) bs[t][4 * j4 + q] = v[q];
        }
    } else {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint j = 0; j < TN; j++)
          bs[t][j] = float(b[bb + min(k + t, p.K - 1) * p.N + min(n0 + j, p.N - 1)]);
    }
    [[unroll]] for (uint t = 0; t < 4; t++)
      [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] += as[i][t] * bs[t][j];
  }
  uint cb = p.c_off + z * p.c_sz;
  [[unroll]] for (uint i = 0; i < TM; i++) {
    uint m = m0 + i;
    if (m >= p.M) break;
    [[unroll]] for (uint j = 0; j < TN; j++) {
      uint n = n0 + j;
      if (n >= p.N) break;
      float v = acc[i][j];
      if (BIAS == 1) v += float(bias[n]);
      if (BIAS == 2) v += float(bias[m]);
      c[cb + m * p.c_sm + n] = T(v);
    }
  }
}
