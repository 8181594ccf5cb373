// The attention shader's body, shared by attention.comp (vec4 loads, D % 4 == 0) and
// attention_scalar.comp (any D); see attention.comp.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint D = 64; // head dim
layout(constant_id = 2) const uint QR = 1; // query rows per lane
layout(constant_id = 3) const uint FLAGS = 0;
const bool BIAS = (FLAGS & 1) != 0;
const bool CAUSAL = (FLAGS & 2) != 0;
const bool PROBS = (FLAGS & 4) != 0;
const uint D4 = (D + 3) / 4;
// COOP (vec4 variant, CPU devices with a fixed subgroup of SG lanes): the lanes of a subgroup load
// a K/V row together, lane i the vec4s i, i + SG, ..., and every lane takes the values it needs
// with subgroupBroadcast. On lavapipe that turns D/4 lane-by-lane loads per row into D/(4 SG).
layout(constant_id = 4) const uint SG = 8;
const bool COOP = (FLAGS & 8) != 0;
const uint NL = (D4 + SG - 1) / SG;
const uint TILE = 1; // keys per softmax update: 4 measured slower on lavapipe and compiles longer

#ifdef DG_ATTENTION_SCALAR
// Any D: scalar loads and stores, zero-padded to whole vec4s.
layout(std430, binding = 0) readonly buffer Q { T q[]; };
layout(std430, binding = 1) readonly buffer K { T k[]; };
layout(std430, binding = 2) readonly buffer Vb { T v[]; };
layout(std430, binding = 3) writeonly buffer O { T o[]; };
#define LOAD4(buf, base, c4)                                                                       \
  vec4 r = vec4(0);                                                                                \
  [[unroll]] for (uint e = 0; e < 4; e++)                                                          \
    if (4 * c4 + e < D) r[e] = float(buf[base + 4 * c4 + e]);                                      \
  return r;
vec4 load_q(uint base, uint c4) { LOAD4(q, base, c4) }
#define FETCH_ROW(rows, buf, base)
#define ROW_ELEM(rows, load, base, c) load(base, c)
vec4 load_k(uint base, uint c4) { LOAD4(k, base, c4) }
vec4 load_v(uint base, uint c4) { LOAD4(v, base, c4) }
void store_o(uint base, uint c4, vec4 x) {
  [[unroll]] for (uint e = 0; e < 4; e++)
    if (4 * c4 + e < D) o[base + 4 * c4 + e] = T(x[e]);
}
#else
// D % 4 == 0 and 16-byte aligned windows: one vec4 per load or store.
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer Q { V q4[]; };
layout(std430, binding = 1) readonly buffer K { V k4[]; };
layout(std430, binding = 2) readonly buffer Vb { V v4[]; };
layout(std430, binding = 3) writeonly buffer O { V o4[]; };
vec4 load_q(uint base, uint c4) { return vec4(q4[(base >> 2) + c4]); }
#define FETCH_ROW(rows, buf, base)                                                                 \
  if (COOP)                                                                                        \
    [[unroll]] for (uint u = 0; u < NL; u++)                                                       \
      rows[u] = vec4(buf[(base >> 2) + min(u * SG + gl_SubgroupInvocationID, D4 - 1)]);
#define ROW_ELEM(rows, load, base, c) (COOP ? subgroupBroadcast(rows[(c) / SG], (c) % SG) : load(base, c))
vec4 load_k(uint base, uint c4) { return vec4(k4[(base >> 2) + c4]); }
vec4 load_v(uint base, uint c4) { return vec4(v4[(base >> 2) + c4]); }
void store_o(uint base, uint c4, vec4 x) { o4[(base >> 2) + c4] = V(x); }
#endif
layout(std430, binding = 4) readonly buffer Bias { T bias[]; };
layout(std430, binding = 5) writeonly buffer Probs { T probs[]; };
layout(push_constant) uniform P {
  uint nq, lk, heads, nh, h0, q0;  // queries in this dispatch, keys, heads, heads in this dispatch
  uint q_off, k_off, v_off, o_off, bias_off, bias_bstride, p_off, n_chosen;
  int causal_off;                  // key j is masked for query i when j > i + causal_off
  float scale;
  uint chosen_first;               // PROBS: the keys chosen_first .. chosen_first + n_chosen - 1
} p;

void main() {
  uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint first = (gl_WorkGroupID.x * wg + lid) * QR; // the lane's first query in this dispatch
  uint bl = gl_WorkGroupID.y, nl = bl / p.nh, hl = bl % p.nh, h = p.h0 + hl;
  uint rstride = p.heads * D;
  uint kvrow = (nl * p.lk) * rstride + h * D;
  float neg_inf = uintBitsToFloat(0xff800000u);

  vec4 qr[QR][D4], acc[QR][D4];
  float m[QR], l[QR];
  uint il[QR];
  [[unroll]] for (uint r = 0; r < QR; r++) {
    il[r] = min(first + r, p.nq - 1); // rows past the end shadow the last one and are not stored
    uint qbase = p.q_off + (nl * p.nq + il[r]) * rstride + h * D;
    [[unroll]] for (uint c = 0; c < D4; c++) {
      qr[r][c] = load_q(qbase, c) * p.scale;
      acc[r][c] = vec4(0);
    }
    m[r] = -1e30;
    l[r] = 0.0;
  }
  uint bbase = p.bias_off + (nl * p.nh + hl) * p.bias_bstride;
  uint jend = p.lk;
  if (CAUSAL) { // keys past the workgroup's last query are masked for all its lanes
    int last = int(p.q0 + min((gl_WorkGroupID.x + 1) * wg * QR, p.nq) - 1) + p.causal_off + 1;
    jend = uint(clamp(last, 0, int(p.lk)));
  }
  [[dont_unroll]] for (uint j0 = 0; j0 < jend; j0 += TILE) {
    float s[QR][TILE];
    [[unroll]] for (uint t = 0; t < TILE; t++) {
      uint j = min(j0 + t, jend - 1), kb = p.k_off + kvrow + j * rstride;
      vec4 a[QR];
      [[unroll]] for (uint r = 0; r < QR; r++) a[r] = vec4(0);
      vec4 krow[NL];
      FETCH_ROW(krow, k4, kb)
      [[unroll]] for (uint c = 0; c < D4; c++) {
        vec4 kv = ROW_ELEM(krow, load_k, kb, c);
        [[unroll]] for (uint r = 0; r < QR; r++) a[r] += qr[r][c] * kv;
      }
      [[unroll]] for (uint r = 0; r < QR; r++) {
        float x = (a[r].x + a[r].y) + (a[r].z + a[r].w);
        if (BIAS) x += float(bias[bbase + il[r] * p.lk + j]);
        if ((CAUSAL && int(j) > int(p.q0 + il[r]) + p.causal_off) || j0 + t >= jend) x = neg_inf;
        s[r][t] = x;
      }
    }
    [[unroll]] for (uint r = 0; r < QR; r++) {
      float tmax = m[r];
      [[unroll]] for (uint t = 0; t < TILE; t++) tmax = max(tmax, s[r][t]);
      // Rescale only when some lane's running max grew (rare after the first keys); lanes whose
      // max did not grow get corr = 1.
      if (subgroupAny(tmax > m[r])) {
        float corr = exp(m[r] - tmax);
        m[r] = tmax;
        l[r] *= corr;
        [[unroll]] for (uint c = 0; c < D4; c++) acc[r][c] *= corr;
      }
      [[unroll]] for (uint t = 0; t < TILE; t++) {
        s[r][t] = exp(s[r][t] - tmax);
        l[r] += s[r][t];
      }
    }
    [[unroll]] for (uint t = 0; t < TILE; t++) {
      uint vb = p.v_off + kvrow + min(j0 + t, jend - 1) * rstride;
      vec4 vrow[NL];
      FETCH_ROW(vrow, v4, vb)
      [[unroll]] for (uint c = 0; c < D4; c++) {
        vec4 vv = ROW_ELEM(vrow, load_v, vb, c);
        [[unroll]] for (uint r = 0; r < QR; r++) acc[r][c] += s[r][t] * vv;
      }
    }
  }
  [[unroll]] for (uint r = 0; r < QR; r++) {
    if (first + r >= p.nq) break;
    float inv = 1.0 / l[r];
    uint obase = p.o_off + (nl * p.nq + il[r]) * rstride + h * D;
    [[unroll]] for (uint c = 0; c < D4; c++) store_o(obase, c, acc[r][c] * inv);
    if (PROBS) {
      uint pbase = p.p_off + ((nl * p.nh + hl) * p.nq + il[r]) * p.n_chosen;
      for (uint n = 0; n < p.n_chosen; n++) {
        uint j = p.chosen_first + n;
        uint kb = p.k_off + kvrow + j * rstride;
        vec4 a = vec4(0);
        [[unroll]] for (uint c = 0; c < D4; c++) a += qr[r][c] * load_k(kb, c);
        float x = (a.x + a.y) + (a.z + a.w);
        if (BIAS) x += float(bias[bbase + il[r] * p.lk + j]);
        if (CAUSAL && int(j) > int(p.q0 + il[r]) + p.causal_off) x = neg_inf;
        probs[pbase + n] = T(exp(x - m[r]) * inv);
      }
    }
  }
}
