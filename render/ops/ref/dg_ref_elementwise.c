#include <math.h>

#include "dg_ref.h"

void dg_ref_binary(dg_binary_op op, const float *a, const float *b, int64_t n, int64_t b_inner, int64_t b_count,
                   float *out) {
  for (int64_t i = 0; i < n; i++) {
    double x = a[i], y = b[(i / b_inner) % b_count];
    out[i] = (float)(op == DG_ADD ? x + y : op == DG_MUL ? x * y : op == DG_SUB ? x - y : x / y);
  }
}

void dg_ref_unary(dg_unary_op op, const float *a, int64_t n, float alpha, float beta, float *out) {
  for (int64_t i = 0; i < n; i++) {
    double x = a[i], r;
    switch (op) {
    case DG_SCALE: r = alpha * x + beta; break;
    case DG_SILU: r = x / (1 + exp(-x)); break;
    case DG_GELU: r = 0.5 * x * (1 + erf(x / sqrt(2.0))); break;
    case DG_GELU_TANH: r = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); break;
    case DG_QUICK_GELU: r = x / (1 + exp(-1.702 * x)); break;
    case DG_SIGMOID: r = 1 / (1 + exp(-x)); break;
    case DG_RELU: r = x > 0 ? x : 0; break;
    case DG_CLAMP: r = x < alpha ? alpha : x > beta ? beta : x; break;
    case DG_LEAKY_RELU: r = x >= 0 ? x : alpha * x; break;
    default: r = x; break;
    }
    out[i] = (float)r;
  }
}

void dg_ref_geglu(const float *x, int64_t rows, int64_t f, float *out) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < f; j++) {
      double a = x[r * 2 * f + j], g = x[r * 2 * f + f + j];
      out[r * f + j] = (float)(a * 0.5 * g * (1 + erf(g / sqrt(2.0))));
    }
}
