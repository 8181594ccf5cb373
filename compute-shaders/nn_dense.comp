#version 450
// Fully connected layer over rows: o[m, j] = sum_k x[m, k] w[j, k] + b[j] (torch.nn.Linear, w [N, K]).
// One invocation computes 4 outputs of one row, so each x value loaded serves 4 weights.
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool BIAS = true;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) readonly buffer W { T w[]; };
layout(std430, binding = 2) readonly buffer B { T b[]; };
layout(std430, binding = 3) writeonly buffer O { T o[]; };
layout(push_constant) uniform P {
  uint m, k, n;
} p;

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  uint nb = (p.n + 3) / 4;
  if (i >= p.m * nb) return;
  uint row = i / nb, j0 = (i % nb) * 4;
  uint nj = min(4u, p.n - j0);
  uint w0 = j0 * p.k, w1 = (j0 + min(1u, nj - 1)) * p.k, w2 = (j0 + min(2u, nj - 1)) * p.k,
       w3 = (j0 + min(3u, nj - 1)) * p.k; // clamped rows past the end are computed and dropped
  uint xb = row * p.k;
  vec4 acc = vec4(0);
  for (uint kk = 0; kk < p.k; kk++) {
    float xv = float(x[xb + kk]);
    acc += xv * vec4(float(w[w0 + kk]), float(w[w1 + kk]), float(w[w2 + kk]), float(w[w3 + kk]));
  }
  for (uint j = 0; j < nj; j++) {
    float v = acc[j];
    if (BIAS) v += float(b[j0 + j]);
    o[row * p.n + j0 + j] = T(v);
  }
}
