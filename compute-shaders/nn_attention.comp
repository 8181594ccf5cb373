#version 450
// Scaled dot-product attention, one invocation per (sample, head, query): q [N, Lq, H*D],
// k, v [N, Lk, H*D] straight from the projections, out [N, Lq, H*D]. One pass over the keys with
// the online (running max) softmax, accumulation in f32; optionally causal (CLIP's text mask).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint D = 64; // head dim
layout(constant_id = 2) const bool CAUSAL = false; // query i sees keys j <= i + (Lk - Lq)

layout(std430, binding = 0) readonly buffer Q { T q[]; };
layout(std430, binding = 1) readonly buffer K { T k[]; };
layout(std430, binding = 2) readonly buffer V { T v[]; };
layout(std430, binding = 3) writeonly buffer O { T o[]; };
#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 4) readonly buffer K4 { V k4[]; }; // aliases of k and v for vec4 loads (D % 4 == 0)
layout(std430, binding = 5) readonly buffer V4 { V v4[]; };
layout(push_constant) uniform P {
  uint n, lq, lk, heads;
  float scale;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.n * p.heads * p.lq) return;
  uint qi = i % p.lq, h = (i / p.lq) % p.heads, nn = i / (p.lq * p.heads);
  uint width = p.heads * D;
  uint qb = (nn * p.lq + qi) * width + h * D;
  float qv[D];
  float acc[D];
  for (uint d = 0; d < D; d++) {
    qv[d] = float(q[qb + d]) * p.scale;
    acc[d] = 0.0;
  }
  float mx = -1.0 / 0.0, sum = 0.0;
  uint lk = CAUSAL ? min(p.lk, qi + 1 + (p.lk - p.lq)) : p.lk;
  for (uint j = 0; j < lk; j++) {
    uint kb = (nn * p.lk + j) * width + h * D;
    float s = 0.0;
    if (D % 4 == 0) {
      for (uint d = 0; d < D; d += 4) {
        vec4 kv = vec4(k4[(kb + d) / 4]);
        s += qv[d] * kv.x + qv[d + 1] * kv.y + qv[d + 2] * kv.z + qv[d + 3] * kv.w;
      }
    } else {
      for (uint d = 0; d < D; d++) s += qv[d] * float(k[kb + d]);
    }
    float m2 = max(mx, s);
    float c = exp(mx - m2), e = exp(s - m2);
    sum = sum * c + e;
    if (D % 4 == 0) {
      for (uint d = 0; d < D; d += 4) {
        vec4 vv = vec4(v4[(kb + d) / 4]);
        acc[d] = acc[d] * c + e * vv.x;
        acc[d + 1] = acc[d + 1] * c + e * vv.y;
        acc[d + 2] = acc[d + 2] * c + e * vv.z;
        acc[d + 3] = acc[d + 3] * c + e * vv.w;
      }
    } else {
      for (uint d = 0; d < D; d++) acc[d] = acc[d] * c + e * float(v[kb + d]);
    }
    mx = m2;
  }
  float inv = 1.0 / sum;
  for (uint d = 0; d < D; d++) o[qb + d] = T(acc[d] * inv);
}
