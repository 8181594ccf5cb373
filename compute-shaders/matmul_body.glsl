// The body of matmul.comp and matmul_bda.comp (DG_BDA).
// Batched matmul C[z] = A[z] B[z] (+ bias) (+ C), all operands given by element strides, so
// transposes, broadcast batches, linear layers and 1x1 convolutions are the same shader.
//
// Written for CPU devices (lavapipe: one invocation = one SIMD lane, 8 per subgroup). There every
// storage-buffer load inside a loop is executed lane by lane (a scalar loop with a bounds check per
// component), whatever the address, so the cost is the number of loads per lane, and a vec4 load
// costs little more than a scalar one. Each lane therefore computes a TM x TN register tile and
// per 4 steps of k loads a TM x 4 block of A and a 4 x TN block of B as vec4s along whichever axis
// is contiguous (AV/BV; scalar loads otherwise): (TM + TN) loads for 4 TM TN multiply-adds.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_ballot : require
#ifdef DG_BDA
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 8;    // rows per lane (multiple of 4)
layout(constant_id = 2) const uint TN = 8;    // columns per lane (multiple of 4)
layout(constant_id = 3) const uint FLAGS = 0; // see below
layout(constant_id = 4) const uint LN = 4;    // lanes along N (the workgroup is LM x LN lanes)
const bool AT = (FLAGS & 1) != 0;   // A(m, k) contiguous along m (else along k)
const bool BT = (FLAGS & 2) != 0;   // B(k, n) contiguous along k (else along n)
const bool AV = (FLAGS & 4) != 0;   // vec4 loads of A allowed (aligned, extent % 4 == 0)
const bool BV = (FLAGS & 8) != 0;   // vec4 loads of B allowed
const uint BIAS = (FLAGS >> 4) & 3; // 0 none, 1 per column n, 2 per row m
const bool ACCUM = (FLAGS & 64) != 0; // C += A B
// COOP (A row-major with vec4 loads, a subgroup of LN lanes = the workgroup, one row group): all
// lanes share the TM rows, so lane l loads only rows l, l + LN, ... and the others take them with
// subgroupBroadcast; on lavapipe that replaces TM lane-by-lane loads per lane with TM / LN.
const bool COOP = (FLAGS & 128) != 0;
const bool RESID = (FLAGS & 256) != 0; // C = A B (+ bias) + R, R read with C's layout (binding 6)
// UB (f32, BV): B's vec4s come from the uniform buffer at binding 8 (at most 64 KiB, the same window as
// binding 3). On lavapipe a uniform buffer's per-lane loads are branch-free gathers, where a storage buffer's
// are a lane-by-lane loop with a bounds check and a branch per component, several times dearer.
const bool UB = (FLAGS & 512) != 0;
// GEGLU (BT or scalar B, no ACCUM or RESID): C(m, n) = (AB(m, n) + bias n) * gelu(AB(m, n + G) + bias n + G) for the
// N output columns, where the gate columns n + G of B come from their own window (binding 6, vec4s at binding 7,
// p.r_off its offset) and their bias at p.gate_bias past the column's. A lane's TN accumulator columns are its
// TN / 2 output columns and their gates, so the [M, 2N] pre-activation never goes to memory.
const bool GEGLU = (FLAGS & 1024) != 0;
const uint TNO = GEGLU ? TN / 2 : TN; // output columns per lane

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
layout(std430, binding = 5) buffer C { T c[]; };
layout(std430, binding = 6) readonly buffer R { T r[]; };   // the residual, or GEGLU's gate columns of B
layout(std430, binding = 7) readonly buffer G4 { V g4[]; }; // GEGLU: the gate columns' vec4s
#ifdef DG_BDA
// matmul_bda.comp: A's vec4s (and B's unless UB) through buffer device addresses (dg_vec4_address.glsl);
// indices as into a4 / b4 (from the binding's start).
#include "dg_vec4_address.glsl"
#define LOADA(i) load4(XV(p.aa), i)
#define LOADB4(i) load4(XV(p.ba), i)
#define LOADG(i) load4(XV(p.ga), i)
#else
#define LOADA(i) vec4(a4[i])
#define LOADB4(i) vec4(b4[i])
#define LOADG(i) vec4(g4[i])
#endif
#ifdef DG_F16
#define LOADB(i) LOADB4(i)
#else
layout(std140, binding = 8) uniform BU { vec4 bu[4096]; };
#define LOADB(i) (UB ? bu[i] : LOADB4(i))
#endif
layout(push_constant) uniform P {
#ifdef DG_BDA
  uvec2 aa, ba, ga; // addresses of the A, B and (GEGLU) gate bindings' first elements
#endif
  uint M, N, K;
  uint a_off, a_sm, a_sk, a_sz;
  uint b_off, b_sk, b_sn, b_sz;
  uint c_off, c_sm, c_sz;
  uint bias_off;
  uint r_off;    // the residual window's offset of element c_off (GEGLU: the gate window's of b_off)
  uint gate_bias; // GEGLU: the gate's bias element past its column's
} p;

#include "dg_gelu.glsl"

void main() {
  const uint LM = gl_WorkGroupSize.x / LN;
  uint g = dg_group_index();
  // Row groups vary fastest: consecutive workgroups share B's columns (linear 4096x320->1280 on lavapipe
  // 69.7-70.6 -> 72.6-73.0 GFLOP/s; the matmuls unchanged).
  uint groups_m = (p.M + LM * TM - 1) / (LM * TM);
  uint gm = g % groups_m, gn = g / groups_m;
  uint lane = gl_LocalInvocationID.x;
  uint m0 = (gm * LM + lane / LN) * TM, n0 = (gn * LN + lane % LN) * TNO;
  if (m0 >= p.M || (!COOP && n0 >= p.N)) return; // COOP: lanes past N load for the others
  uint z = gl_WorkGroupID.z;
  uint a_base = p.a_off + z * p.a_sz, b_base = p.b_off + z * p.b_sz, g_base = p.r_off + z * p.b_sz;

  float acc[TM][TN];
  [[unroll]] for (uint i = 0; i < TM; i++)
    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0;

  [[dont_unroll]] for (uint k = 0; k < p.K; k += 4) {
    float as[TM][4], bs[4][TN];
    // Rows/columns/k past the end are clamped (k past K is zeroed below; rows and columns past
    // the end are computed but never stored).
    if (COOP) {
      vec4 al[TM / LN];
      [[unroll]] for (uint r = 0; r < TM / LN; r++)
        al[r] = LOADA((a_base + min(m0 + r * LN + lane, p.M - 1) * p.a_sm + k) / 4);
      [[unroll]] for (uint i = 0; i < TM; i++) {
        vec4 v = subgroupBroadcast(al[i / LN], i % LN);
        [[unroll]] for (uint t = 0; t < 4; t++) as[i][t] = v[t];
      }
    } else if (!AT && AV) {
      [[unroll]] for (uint i = 0; i < TM; i++) {
        vec4 v = LOADA((a_base + min(m0 + i, p.M - 1) * p.a_sm + k) / 4);
        [[unroll]] for (uint t = 0; t < 4; t++) as[i][t] = v[t];
      }
    } else if (AT && AV) {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint i4 = 0; i4 < TM / 4; i4++) {
          vec4 v = LOADA((a_base + min(k + t, p.K - 1) * p.a_sk + min(m0 + 4 * i4, p.M - 4)) / 4);
          [[unroll]] for (uint q = 0; q < 4; q++) as[4 * i4 + q][t] = v[q];
        }
    } else {
      [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint t = 0; t < 4; t++)
          as[i][t] = float(a[a_base + min(m0 + i, p.M - 1) * p.a_sm + min(k + t, p.K - 1) * p.a_sk]);
    }
    if (BT && BV) {
      [[unroll]] for (uint j = 0; j < TN; j++) {
        vec4 v = GEGLU && j >= TNO ? LOADG((g_base + min(n0 + j - TNO, p.N - 1) * p.b_sn + k) / 4)
                                   : LOADB((b_base + min(n0 + j, p.N - 1) * p.b_sn + k) / 4);
        [[unroll]] for (uint t = 0; t < 4; t++) bs[t][j] = v[t];
      }
    } else if (!BT && BV) {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint j4 = 0; j4 < TN / 4; j4++) {
          vec4 v = LOADB((b_base + min(k + t, p.K - 1) * p.b_sk + min(n0 + 4 * j4, p.N - 4)) / 4);
          [[unroll]] for (uint q = 0; q < 4; q++) bs[t][4 * j4 + q] = v[q];
        }
    } else {
      [[unroll]] for (uint t = 0; t < 4; t++)
        [[unroll]] for (uint j = 0; j < TN; j++)
          bs[t][j] = GEGLU && j >= TNO
                         ? float(r[g_base + min(k + t, p.K - 1) * p.b_sk + min(n0 + j - TNO, p.N - 1) * p.b_sn])
                         : float(b[b_base + min(k + t, p.K - 1) * p.b_sk + min(n0 + j, p.N - 1) * p.b_sn]);
    }
    if (k + 4 > p.K) // K % 4 != 0: zero the steps past K
      [[unroll]] for (uint t = 1; t < 4; t++)
        if (k + t >= p.K)
          [[unroll]] for (uint i = 0; i < TM; i++) as[i][t] = 0;
    [[unroll]] for (uint t = 0; t < 4; t++)
      [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] += as[i][t] * bs[t][j];
  }

  uint c_base = p.c_off + z * p.c_sz;
  if (GEGLU) {
    [[unroll]] for (uint i = 0; i < TM; i++) {
      uint m = m0 + i;
      if (m >= p.M) break;
      [[unroll]] for (uint j = 0; j < TNO; j++) {
        uint n = n0 + j;
        if (n >= p.N) break;
        float xv = acc[i][j], gv = acc[i][j + TNO];
        if (BIAS == 1) {
          xv += float(bias[p.bias_off + n]);
          gv += float(bias[p.bias_off + p.gate_bias + n]);
        }
        c[c_base + m * p.c_sm + n] = T(xv * gelu_erf(gv));
      }
    }
    return;
  }
  [[unroll]] for (uint i = 0; i < TM; i++) {
    uint m = m0 + i;
    if (m >= p.M) break;
    [[unroll]] for (uint j = 0; j < TN; j++) {
      uint n = n0 + j;
      if (n >= p.N) break;
      float v = acc[i][j];
      if (BIAS == 1) v += float(bias[p.bias_off + n]);
      if (BIAS == 2) v += float(bias[p.bias_off + m]);
      uint ci = c_base + m * p.c_sm + n;
      if (ACCUM) v += float(c[ci]);
      if (RESID) v += float(r[ci - p.c_off + p.r_off]);
      c[ci] = T(v);
    }
  }
}
