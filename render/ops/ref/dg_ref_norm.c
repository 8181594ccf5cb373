#include <math.h>

#include "dg_ref.h"

// Normalises `rows` rows of `len` elements with per-element gamma/beta index given by `affine_index`.
static void normalise_row(const float *x, int64_t len, float eps, double *mean, double *rstd) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < len; i++)
    s += x[i];
  double m = s / (double)len;
  for (int64_t i = 0; i < len; i++)
    q += (x[i] - m) * (x[i] - m);
  *mean = m;
  *rstd = 1 / sqrt(q / (double)len + eps);
}

void dg_ref_group_norm(const float *x, int64_t n, int64_t c, int64_t hw, int groups, const float *gamma,
                       const float *beta, float eps, bool silu, float *out) {
  int64_t cpg = c / groups, len = cpg * hw;
  for (int64_t r = 0; r < n * groups; r++) {
    double mean, rstd;
    const float *xr = x + r * len;
    normalise_row(xr, len, eps, &mean, &rstd);
    for (int64_t i = 0; i < len; i++) {
      int64_t ch = (r % groups) * cpg + i / hw;
      double y = (xr[i] - mean) * rstd;
      if (gamma) y = y * gamma[ch] + beta[ch];
      if (silu) y = y / (1 + exp(-y));
      out[r * len + i] = (float)y;
    }
  }
}

void dg_ref_layer_norm(const float *x, int64_t rows, int64_t len, const float *gamma, const float *beta, float eps,
                       float *out) {
  for (int64_t r = 0; r < rows; r++) {
    double mean, rstd;
    normalise_row(x + r * len, len, eps, &mean, &rstd);
    for (int64_t i = 0; i < len; i++) {
      double y = (x[r * len + i] - mean) * rstd;
      if (gamma) y = y * gamma[i] + beta[i];
      out[r * len + i] = (float)y;
    }
  }
}

void dg_ref_softmax(const float *x, int64_t rows, int64_t len, float scale, float *out) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * len;
    double m = -INFINITY, sum = 0;
    for (int64_t i = 0; i < len; i++)
      m = fmax(m, (double)scale * xr[i]);
    for (int64_t i = 0; i < len; i++)
      sum += exp((double)scale * xr[i] - m);
    for (int64_t i = 0; i < len; i++)
      out[r * len + i] = (float)(exp((double)scale * xr[i] - m) / sum);
  }
}
