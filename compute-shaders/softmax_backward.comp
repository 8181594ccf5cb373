#version 450
// Gradient of attention logits through the softmax, one lane per row of P [rows, len]:
// ds = scale * P * (dP - sum(dP * P)), where dP is the gradient of the whole row (HAS_DP) plus, at the
// chosen columns chosen_first .. chosen_first + n_chosen - 1, the gradient of the probabilities a hook
// captured (gc [rows, n_chosen]).
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool HAS_DP = true;
layout(constant_id = 2) const bool HAS_GC = false;

layout(std430, binding = 0) readonly buffer PR { T prob[]; };
layout(std430, binding = 1) readonly buffer DP { T dp[]; };
layout(std430, binding = 2) readonly buffer GC { T gc[]; };
layout(std430, binding = 3) writeonly buffer DS { T ds[]; };
layout(push_constant) uniform P {
  uint rows, len, p_off, dp_off, gc_off, ds_off, n_chosen;
  float scale;
  uint chosen_first;
} p;

float grad_p(uint r, uint j) {
  float g = HAS_DP ? float(dp[p.dp_off + r * p.len + j]) : 0.0;
  if (HAS_GC && j >= p.chosen_first && j - p.chosen_first < p.n_chosen)
    g += float(gc[p.gc_off + r * p.n_chosen + (j - p.chosen_first)]);
  return g;
}

void main() {
  uint r = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (r >= p.rows) return;
  float dot_ = 0.0;
  for (uint j = 0; j < p.len; j++) dot_ += float(prob[p.p_off + r * p.len + j]) * grad_p(r, j);
  for (uint j = 0; j < p.len; j++) {
    float pj = float(prob[p.p_off + r * p.len + j]);
    ds[p.ds_off + r * p.len + j] = T(p.scale * pj * (grad_p(r, j) - dot_));
  }
}
