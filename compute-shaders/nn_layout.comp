#version 450
// Data movement and small fused maps for the model layers, one element per invocation:
//   0 NCL -> NLC transpose      src [a, b, c] -> dst [a, c, b]
//   1 channel-slice copy        src [a, b, c] -> dst [a, d, c] at channel offset e (concatenation)
//   2 channel-slice extract     src [a, d, c] channels e .. e+b -> dst [a, b, c]
//   3 nearest 2x upsample       src [a, b, c] -> dst [a, 2b, 2c]
//   4 GEGLU                     src [a, 2b] -> dst [a, b] = src[:, :b] * gelu(src[:, b:])
//   5 clamp                     dst = clamp(src, alpha, beta)
//   6 embedding gather          dst [a, b] = src[ids[r], :] (src a table [V, b])
#extension GL_GOOGLE_include_directive : require
#include "dg_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer S { T s[]; };
layout(std430, binding = 1) buffer D { T o[]; };
layout(std430, binding = 2) readonly buffer I { uint ids[]; }; // mode 6 only
layout(push_constant) uniform P {
  uint total, a, b, c, d, e;
  float alpha, beta;
} p;

float gelu_erf(float x) { // Abramowitz-Stegun 7.1.26, as in elementwise.comp
  float z = abs(x) * 0.70710678118654752;
  float t = 1.0 / (1.0 + 0.3275911 * z);
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return 0.5 * x * (1.0 + (x < 0.0 ? -y : y));
}

void main() {
  uint i = dg_group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.total) return;
  if (MODE == 0) { // i indexes dst [a, c, b]
    uint bi = i % p.b, ci = (i / p.b) % p.c, ai = i / (p.b * p.c);
    o[i] = s[(ai * p.b + bi) * p.c + ci];
  } else if (MODE == 1) { // i indexes src [a, b, c]
    uint ci = i % p.c, bi = (i / p.c) % p.b, ai = i / (p.b * p.c);
    o[(ai * p.d + p.e + bi) * p.c + ci] = s[i];
  } else if (MODE == 2) { // i indexes dst [a, b, c]
    uint ci = i % p.c, bi = (i / p.c) % p.b, ai = i / (p.b * p.c);
    o[i] = s[(ai * p.d + p.e + bi) * p.c + ci];
  } else if (MODE == 3) { // i indexes dst [a, 2b, 2c]
    uint w2 = 2 * p.c, h2 = 2 * p.b;
    uint x = i % w2, y = (i / w2) % h2, ai = i / (w2 * h2);
    o[i] = s[(ai * p.b + y / 2) * p.c + x / 2];
  } else if (MODE == 4) { // i indexes dst [a, b]
    uint f = i % p.b, r = i / p.b;
    float xv = float(s[r * 2 * p.b + f]), g = float(s[r * 2 * p.b + p.b + f]);
    o[i] = T(xv * gelu_erf(g));
  } else if (MODE == 6) { // i indexes dst [a, b]
    uint d = i % p.b, r = i / p.b;
    o[i] = s[ids[r] * p.b + d];
  } else {
    o[i] = T(clamp(float(s[i]), p.alpha, p.beta));
  }
}
