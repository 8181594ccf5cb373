#version 450
// Group norm and layer norm on CPU devices (one subgroup per workgroup, the vec4 case of norm.comp)
// through buffer device addresses. On lavapipe a storage-buffer load is a loop over the lanes with
// a bounds check per component, while a load through an address is a vector gather (and a store a
// scatter) without one: about 3x less work per element (docs/lavapipe-performance.md).
// Group norm: one workgroup per row (one group of one sample: cpg channels x hw elements, hw % 4 == 0),
// optional affine per channel and fused SiLU. Layer norm: p.rpw rows of len (len % 4 == 0) per
// workgroup, optional affine per element. Statistics from sums shifted by the row's first element.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0; // 0 group norm, 1 layer norm
layout(constant_id = 2) const bool SILU = false;
layout(constant_id = 3) const bool AFFINE = true;

#include "dg_vec4_address.glsl"
layout(buffer_reference, std430, buffer_reference_align = 2) readonly buffer PS { T v[]; };
layout(push_constant) uniform P {
  uvec2 x, o, g, b;     // addresses of the chunk's first element, gamma and beta
  uint rows, len;       // rows in this chunk, elements per row
  uint row0;            // global index of the chunk's first row (group norm: sample * groups + group)
  uint groups, cpg, hw; // group norm: groups, channels per group, elements per channel
  uint rpw;             // layer norm: rows per workgroup
  float eps;
} p;

const uint GROUP_NORM = 0, LAYER_NORM = 1;
const uint U = 2; // loop unrolling: fewer loop and execution-mask updates per vec4

float silu(float y) { return y / (1.0 + exp(-y)); }
vec4 silu(vec4 y) { return y / (1.0 + exp(-y)); }

// Mean and 1/std of the n4 vec4s at b4.
vec2 stats(XV xr, uint b4, uint n4, uint lid, uint wg) {
  float shift = load4(xr, b4).x;
  vec4 s = vec4(0), q = vec4(0);
  uint i = lid;
  for (; i + (U - 1) * wg < n4; i += U * wg) { // U vec4s per lane and iteration
    [[unroll]] for (uint u = 0; u < U; u++) {
      vec4 v = load4(xr, b4 + i + u * wg) - shift;
      s += v;
      q += v * v;
    }
  }
  for (; i < n4; i += wg) {
    vec4 v = load4(xr, b4 + i) - shift;
    s += v;
    q += v * v;
  }
  float len = float(4 * n4);
  float ms = subgroupAdd((s.x + s.y) + (s.z + s.w)) / len;
  float var = subgroupAdd((q.x + q.y) + (q.z + q.w)) / len - ms * ms;
  return vec2(shift + ms, inversesqrt(max(var, 0.0) + p.eps));
}

void main() {
  uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint n4 = p.len / 4;
  XV xr = XV(p.x);
  XV orow = XV(p.o);
  if (MODE == GROUP_NORM) {
    uint row = dg_group_index();
    if (row >= p.rows) return; // uniform per workgroup
    uint b4 = row * n4, hw4 = p.hw / 4;
    vec2 st = stats(xr, b4, n4, lid, wg);
    float mean = st.x, rstd = st.y;
    uint c0 = ((p.row0 + row) % p.groups) * p.cpg; // first channel of the row
    // Channel by channel: one scale per channel, gamma and beta read once per channel.
    for (uint c = 0; c < p.cpg; c++) {
      float sc = rstd, sh = 0.0;
      if (AFFINE) {
        sc *= float(PS(p.g).v[c0 + c]);
        sh = float(PS(p.b).v[c0 + c]);
      }
      uint cb = b4 + c * hw4;
      uint i = lid;
      for (; i + (U - 1) * wg < hw4; i += U * wg) {
        [[unroll]] for (uint u = 0; u < U; u++) {
          vec4 y = (load4(xr, cb + i + u * wg) - mean) * sc + sh;
          if (SILU) y = silu(y);
          store4(orow, cb + i + u * wg, y);
        }
      }
      for (; i < hw4; i += wg) {
        vec4 y = (load4(xr, cb + i) - mean) * sc + sh;
        if (SILU) y = silu(y);
        store4(orow, cb + i, y);
      }
    }
  } else {
    // R rows at a time, so that gamma and beta are read once per R rows (when fewer are left, the
    // last row is done more than once).
    const uint R = 2;
    uint r0 = dg_group_index() * p.rpw, r1 = min(r0 + p.rpw, p.rows);
    if (r0 >= p.rows) return; // uniform per workgroup
    XV gr = XV(p.g), br = XV(p.b);
    for (uint row = r0; row < r1; row += R) {
      uint b4[R];
      float shift[R], mean[R], rstd[R];
      vec4 s[R], q[R];
      [[unroll]] for (uint k = 0; k < R; k++) {
        b4[k] = min(row + k, r1 - 1) * n4;
        shift[k] = load4(xr, b4[k]).x;
        s[k] = q[k] = vec4(0);
      }
      for (uint i = lid; i < n4; i += wg) {
        [[unroll]] for (uint k = 0; k < R; k++) {
          vec4 v = load4(xr, b4[k] + i) - shift[k];
          s[k] += v;
          q[k] += v * v;
        }
      }
      [[unroll]] for (uint k = 0; k < R; k++) {
        float ms = subgroupAdd((s[k].x + s[k].y) + (s[k].z + s[k].w)) / float(p.len);
        float var = subgroupAdd((q[k].x + q[k].y) + (q[k].z + q[k].w)) / float(p.len) - ms * ms;
        mean[k] = shift[k] + ms;
        rstd[k] = inversesqrt(max(var, 0.0) + p.eps);
      }
      for (uint i = lid; i < n4; i += wg) {
        vec4 g = vec4(1), b = vec4(0);
        if (AFFINE) {
          g = load4(gr, i);
          b = load4(br, i);
        }
        [[unroll]] for (uint k = 0; k < R; k++) store4(orow, b4[k] + i, (load4(xr, b4[k] + i) - mean[k]) * rstd[k] * g + b);
      }
    }
  }
}
