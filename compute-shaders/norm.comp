#version 450
// Row-wise normalisations, one workgroup per row: group norm (a row is one group of one sample:
// C/G channels x spatial, affine per channel, optional fused SiLU), layer norm (a row is the last
// dim, affine per element) and softmax (exp(scale * x - max) / sum). With VEC every lane moves
// vec4s (row length, offsets and, for group norm, the spatial size are multiples of 4); the vec4
// bindings alias the scalar ones.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0; // 0 group norm, 1 layer norm, 2 softmax
layout(constant_id = 2) const bool VEC = false;
layout(constant_id = 3) const bool SILU = false;
layout(constant_id = 4) const bool AFFINE = true;
// The workgroup is exactly one subgroup (short rows on CPU devices): reductions need no shared
// memory and no barriers, which are costly on lavapipe.
layout(constant_id = 5) const bool ONE_SUBGROUP = false;

#ifdef DG_F16
#define V f16vec4
#else
#define V vec4
#endif
layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer X4 { V x4[]; };
layout(std430, binding = 2) writeonly buffer O { T o[]; };
layout(std430, binding = 3) writeonly buffer O4 { V o4[]; };
layout(std430, binding = 4) readonly buffer G { T gamma[]; };
layout(std430, binding = 5) readonly buffer B { T beta[]; };
layout(std430, binding = 6) readonly buffer G4 { V gamma4[]; };
layout(std430, binding = 7) readonly buffer B4 { V beta4[]; };
layout(push_constant) uniform P {
  uint rows, len;      // rows in this chunk, elements per row
  uint x_off, o_off, g_off, b_off;
  uint row0;           // global index of the chunk's first row (group norm: sample * groups + group)
  uint groups, cpg, hw; // group norm: groups, channels per group, elements per channel
  float eps, scale;
} p;

const uint GROUP_NORM = 0, LAYER_NORM = 1, SOFTMAX = 2;
shared vec2 red[256];

vec2 reduce_sum(vec2 v) {
  v = subgroupAdd(v);
  if (ONE_SUBGROUP) return v;
  barrier();
  if (subgroupElect()) red[gl_SubgroupID] = v;
  barrier();
  vec2 t = vec2(0);
  for (uint i = 0; i < gl_NumSubgroups; i++) t += red[i];
  return t;
}

float reduce_max(float v) {
  v = subgroupMax(v);
  if (ONE_SUBGROUP) return v;
  barrier();
  if (subgroupElect()) red[gl_SubgroupID].x = v;
  barrier();
  float t = red[0].x;
  for (uint i = 1; i < gl_NumSubgroups; i++) t = max(t, red[i].x);
  return t;
}

float silu(float y) { return y / (1.0 + exp(-y)); }
vec4 silu(vec4 y) { return y / (1.0 + exp(-y)); }

void main() {
  uint row = dg_group_index();
  if (row >= p.rows) return; // uniform per workgroup
  uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint base = p.x_off + row * p.len, obase = p.o_off + row * p.len;
  uint n4 = p.len / 4, b4 = base / 4, ob4 = obase / 4;
  if (MODE == SOFTMAX) {
    float neg_inf = uintBitsToFloat(0xff800000u);
    float m = neg_inf, l = 0.0;
    if (VEC) {
      for (uint i = lid; i < n4; i += wg) {
        vec4 v = vec4(x4[b4 + i]) * p.scale;
        float mn = max(m, max(max(v.x, v.y), max(v.z, v.w)));
        vec4 e = exp(v - mn);
        l = l * exp(m - mn) + (e.x + e.y) + (e.z + e.w);
        m = mn;
      }
    } else {
      for (uint i = lid; i < p.len; i += wg) {
        float v = float(x[base + i]) * p.scale;
        float mn = max(m, v);
        l = l * exp(m - mn) + exp(v - mn);
        m = mn;
      }
    }
    float mx = reduce_max(m);
    float total = reduce_sum(vec2(m == neg_inf ? 0.0 : l * exp(m - mx), 0)).x;
    float inv = 1.0 / total;
    if (VEC) {
      for (uint i = lid; i < n4; i += wg) o4[ob4 + i] = V(exp(vec4(x4[b4 + i]) * p.scale - mx) * inv);
    } else {
      for (uint i = lid; i < p.len; i += wg) o[obase + i] = T(exp(float(x[base + i]) * p.scale - mx) * inv);
    }
    return;
  }
  // Mean and variance from sums shifted by the row's first element (avoids cancellation).
  float shift = float(x[base]);
  vec2 acc = vec2(0);
  if (VEC) {
    for (uint i = lid; i < n4; i += wg) {
      vec4 v = vec4(x4[b4 + i]) - shift;
      acc += vec2((v.x + v.y) + (v.z + v.w), dot(v, v));
    }
  } else {
    for (uint i = lid; i < p.len; i += wg) {
      float v = float(x[base + i]) - shift;
      acc += vec2(v, v * v);
    }
  }
  acc = reduce_sum(acc);
  float ms = acc.x / float(p.len);
  float rstd = inversesqrt(max(acc.y / float(p.len) - ms * ms, 0.0) + p.eps);
  float mean = shift + ms;
  uint c0 = ((p.row0 + row) % p.groups) * p.cpg; // group norm: first channel of the row
  if (VEC && MODE == GROUP_NORM) {
    // Channel by channel: one scale and shift per channel (no division per element, and gamma and
    // beta read once per channel rather than once per vec4).
    uint hw4 = p.hw / 4;
    for (uint c = 0; c < p.cpg; c++) {
      float sc = rstd, sh = 0.0;
      if (AFFINE) {
        sc *= float(gamma[p.g_off + c0 + c]);
        sh = float(beta[p.b_off + c0 + c]);
      }
      uint cb = b4 + c * hw4, ocb = ob4 + c * hw4;
      for (uint i = lid; i < hw4; i += wg) {
        vec4 y = (vec4(x4[cb + i]) - mean) * sc + sh;
        if (SILU) y = silu(y);
        o4[ocb + i] = V(y);
      }
    }
  } else if (VEC) {
    for (uint i = lid; i < n4; i += wg) {
      vec4 y = (vec4(x4[b4 + i]) - mean) * rstd;
      if (AFFINE) y = y * vec4(gamma4[p.g_off / 4 + i]) + vec4(beta4[p.b_off / 4 + i]);
      o4[ob4 + i] = V(y);
    }
  } else {
    for (uint i = lid; i < p.len; i += wg) {
      float y = (float(x[base + i]) - mean) * rstd;
      if (AFFINE) {
        uint c = MODE == GROUP_NORM ? c0 + i / p.hw : i;
        y = y * float(gamma[p.g_off + c]) + float(beta[p.b_off + c]);
      }
      if (SILU) y = silu(y);
      o[obase + i] = T(y);
    }
  }
}
