// Exact (erf) GELU for one value. GLSL has no erf: Abramowitz-Stegun 7.1.26 (absolute error under
// 1.5e-7), odd-symmetric. Shared by elementwise.comp and elementwise_vec4.comp, whose GEGLU thus gives
// the same bits either way.
float gelu_erf(float x) {
  float z = abs(x) * 0.70710678118654752;
  float t = 1.0 / (1.0 + 0.3275911 * z);
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  float erf_v = x < 0.0 ? -y : y;
  return 0.5 * x * (1.0 + erf_v);
}
