#version 450
// Attention for heads wider than attention.comp keeps in registers (DG_ATTENTION_MAX_D < D, e.g.
// the VAE mid-block's single head of 512): one invocation per query of one (item, head), one pass
// over the keys with the online (running max) softmax, accumulation in f32. Same push constants,
// windows and options (bias, causal mask, chosen-key probabilities) as attention.comp; K and V are
// bound a second time as vec4 arrays (bindings 6 and 7) for VEC (D % 4 == 0, aligned windows).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint D = 512; // head dim
layout(constant_id = 2) const uint FLAGS = 0;
const bool BIAS = (FLAGS & 1) != 0;
const bool CAUSAL = (FLAGS & 2) != 0;
const bool PROBS = (FLAGS & 4) != 0;
const bool VEC = (FLAGS & 8) != 0;

layout(std430, binding = 0) readonly buffer Q { T q[]; };
layout(std430, binding = 1) readonly buffer K { T k[]; };
layout(std430, binding = 2) readonly buffer Vb { T v[]; };
layout(std430, binding = 3) writeonly buffer O { T o[]; };
layout(std430, binding = 4) readonly buffer Bias { T bias[]; };
layout(std430, binding = 5) writeonly buffer Probs { T probs[]; };
#ifdef DG_F16
#define V4 f16vec4
#else
#define V4 vec4
#endif
layout(std430, binding = 6) readonly buffer K4 { V4 k4[]; };
layout(std430, binding = 7) readonly buffer V4b { V4 v4[]; };
layout(push_constant) uniform P {
  uint nq, lk, heads, nh, h0, q0;
  uint q_off, k_off, v_off, o_off, bias_off, bias_bstride, p_off, n_chosen;
  int causal_off;
  float scale;
  uint chosen_first;
} p;

// s = q . k[kb ..] (q already scaled); a macro, not a function, so qv is not copied.
#define SCORE(s, kb)                                                                               \
  s = 0.0;                                                                                         \
  if (VEC) {                                                                                       \
    for (uint d = 0; d < D; d += 4) {                                                              \
      vec4 kv = vec4(k4[(kb + d) / 4]);                                                            \
      s += qv[d] * kv.x + qv[d + 1] * kv.y + qv[d + 2] * kv.z + qv[d + 3] * kv.w;                  \
    }                                                                                              \
  } else {                                                                                         \
    for (uint d = 0; d < D; d++) s += qv[d] * float(k[kb + d]);                                    \
  }

void main() {
  uint qi = gl_GlobalInvocationID.x; // query in this dispatch
  if (qi >= p.nq) return;
  uint bl = gl_WorkGroupID.y, nl = bl / p.nh, hl = bl % p.nh, h = p.h0 + hl;
  uint rstride = p.heads * D;
  uint qb = p.q_off + (nl * p.nq + qi) * rstride + h * D;
  uint kvrow = (nl * p.lk) * rstride + h * D;
  uint bbase = p.bias_off + (nl * p.nh + hl) * p.bias_bstride + qi * p.lk;
  float qv[D];
  float acc[D];
  for (uint d = 0; d < D; d++) {
    qv[d] = float(q[qb + d]) * p.scale;
    acc[d] = 0.0;
  }
  float mx = -1.0 / 0.0, sum = 0.0;
  uint lk = CAUSAL ? uint(clamp(int(p.q0 + qi) + p.causal_off + 1, 0, int(p.lk))) : p.lk;
  for (uint j = 0; j < lk; j++) {
    uint kb = kvrow + j * rstride;
    float s;
    SCORE(s, p.k_off + kb)
    if (BIAS) s += float(bias[bbase + j]);
    float m2 = max(mx, s);
    float c = exp(mx - m2), e = exp(s - m2);
    sum = sum * c + e;
    uint vb = p.v_off + kb;
    if (VEC) {
      for (uint d = 0; d < D; d += 4) {
        vec4 vv = vec4(v4[(vb + d) / 4]);
        acc[d] = acc[d] * c + e * vv.x;
        acc[d + 1] = acc[d + 1] * c + e * vv.y;
        acc[d + 2] = acc[d + 2] * c + e * vv.z;
        acc[d + 3] = acc[d + 3] * c + e * vv.w;
      }
    } else {
      for (uint d = 0; d < D; d++) acc[d] = acc[d] * c + e * float(v[vb + d]);
    }
    mx = m2;
  }
  float inv = 1.0 / sum;
  uint ob = p.o_off + (nl * p.nq + qi) * rstride + h * D;
  for (uint d = 0; d < D; d++) o[ob + d] = T(acc[d] * inv);
  if (PROBS) {
    uint pbase = p.p_off + ((nl * p.nh + hl) * p.nq + qi) * p.n_chosen;
    for (uint n = 0; n < p.n_chosen; n++) {
      uint j = p.chosen_first + n;
      float s;
      SCORE(s, p.k_off + kvrow + j * rstride)
      if (BIAS) s += float(bias[bbase + j]);
      probs[pbase + n] = T(j < lk ? exp(s - mx) * inv : 0.0);
    }
  }
}
