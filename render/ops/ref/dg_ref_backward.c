// CPU references of the backward ops (dg_backward.h), straight from the chain rule, in double where
// a row is summed.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_ref.h"

void dg_ref_conv2d_backward(const float *dy, const float *w, int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout,
                            int64_t Ho, int64_t Wo, int64_t KH, int64_t KW, int sh, int sw, int ph, int pw, float *dx) {
  memset(dx, 0, (size_t)(N * Cin * H * W) * sizeof *dx);
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < Cout; o++)
      for (int64_t oy = 0; oy < Ho; oy++)
        for (int64_t ox = 0; ox < Wo; ox++) {
          float g = dy[((n * Cout + o) * Ho + oy) * Wo + ox];
          for (int64_t c = 0; c < Cin; c++)
            for (int64_t ky = 0; ky < KH; ky++)
              for (int64_t kx = 0; kx < KW; kx++) {
                int64_t y = oy * sh - ph + ky, x = ox * sw - pw + kx;
                if (y < 0 || y >= H || x < 0 || x >= W) continue;
                dx[((n * Cin + c) * H + y) * W + x] += g * w[((o * Cin + c) * KH + ky) * KW + kx];
              }
        }
}

// One row of len elements; element i uses affine index base + i / hw.
static void norm_row(const float *x, const float *dy, int64_t len, int64_t base, int64_t hw, const float *gamma,
                     const float *beta, float eps, bool silu, float *dx) {
  double mean = 0, var = 0, s1 = 0, s2 = 0;
  for (int64_t i = 0; i < len; i++) mean += x[i];
  mean /= (double)len;
  for (int64_t i = 0; i < len; i++) var += (x[i] - mean) * (x[i] - mean);
  double rstd = 1.0 / sqrt(var / (double)len + eps);
  double *g = malloc((size_t)len * sizeof *g);
  for (int64_t i = 0; i < len; i++) {
    int64_t c = base + i / hw;
    double xh = (x[i] - mean) * rstd, d = dy[i];
    if (silu) {
      double y = gamma[c] * xh + beta[c], sg = 1.0 / (1.0 + exp(-y));
      d *= sg * (1.0 + y * (1.0 - sg));
    }
    g[i] = d * gamma[c];
    s1 += g[i];
    s2 += g[i] * xh;
  }
  for (int64_t i = 0; i < len; i++) {
    double xh = (x[i] - mean) * rstd;
    dx[i] = (float)(rstd * (g[i] - s1 / (double)len - xh * s2 / (double)len));
  }
  free(g);
}

void dg_ref_group_norm_backward(const float *x, const float *dy, int64_t n, int64_t c, int64_t hw, int groups,
                                const float *gamma, const float *beta, float eps, bool silu, float *dx) {
  int64_t cpg = c / groups, len = cpg * hw;
  for (int64_t r = 0; r < n * groups; r++)
    norm_row(x + r * len, dy + r * len, len, (r % groups) * cpg, hw, gamma, beta, eps, silu, dx + r * len);
}

void dg_ref_layer_norm_backward(const float *x, const float *dy, int64_t rows, int64_t len, const float *gamma,
                                const float *beta, float eps, bool silu, float *dx) {
  for (int64_t r = 0; r < rows; r++)
    norm_row(x + r * len, dy + r * len, len, 0, 1, gamma, beta, eps, silu, dx + r * len);
}

void dg_ref_softmax_backward(const float *p, const float *dp, const float *gc, const int *chosen, int n_chosen,
                             int64_t rows, int64_t len, float scale, float *ds) {
  double *g = malloc((size_t)len * sizeof *g);
  for (int64_t r = 0; r < rows; r++) {
    double dot = 0;
    for (int64_t j = 0; j < len; j++) g[j] = dp ? dp[r * len + j] : 0;
    for (int c = 0; gc && c < n_chosen; c++) g[chosen[c]] += gc[r * n_chosen + c];
    for (int64_t j = 0; j < len; j++) dot += g[j] * p[r * len + j];
    for (int64_t j = 0; j < len; j++) ds[r * len + j] = (float)(scale * p[r * len + j] * (g[j] - dot));
  }
  free(g);
}

void dg_ref_geglu_backward(const float *x, const float *dy, int64_t rows, int64_t f, float *dx) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t i = 0; i < f; i++) {
      double a = x[r * 2 * f + i], g = x[r * 2 * f + f + i], d = dy[r * f + i];
      double cdf = 0.5 * (1 + erf(g / sqrt(2.0))), pdf = exp(-0.5 * g * g) / sqrt(2 * M_PI);
      dx[r * 2 * f + i] = (float)(d * g * cdf);
      dx[r * 2 * f + f + i] = (float)(d * a * (cdf + g * pdf));
    }
}

void dg_ref_attention_backward(const float *q, const float *k, const float *v, const float *d_out, const float *gprobs,
                               const int *chosen, int n_chosen, int64_t n, int64_t lq, int64_t lk, int heads, int64_t d,
                               float scale, float *dq, float *dk, float *dv) {
  int64_t w = heads * d;
  memset(dq, 0, (size_t)(n * lq * w) * sizeof *dq);
  if (dk) memset(dk, 0, (size_t)(n * lk * w) * sizeof *dk);
  if (dv) memset(dv, 0, (size_t)(n * lk * w) * sizeof *dv);
  double *p = malloc((size_t)lk * sizeof *p), *g = malloc((size_t)lk * sizeof *g);
  for (int64_t b = 0; b < n; b++)
    for (int h = 0; h < heads; h++)
      for (int64_t i = 0; i < lq; i++) {
        const float *qi = q + (b * lq + i) * w + h * d;
        double mx = -INFINITY, sum = 0, dot = 0;
        for (int64_t j = 0; j < lk; j++) {
          const float *kj = k + (b * lk + j) * w + h * d;
          double s = 0;
          for (int64_t c = 0; c < d; c++) s += (double)qi[c] * kj[c];
          p[j] = s * scale;
          if (p[j] > mx) mx = p[j];
        }
        for (int64_t j = 0; j < lk; j++) sum += p[j] = exp(p[j] - mx);
        for (int64_t j = 0; j < lk; j++) {
          p[j] /= sum;
          g[j] = 0;
          if (d_out) {
            const float *vj = v + (b * lk + j) * w + h * d, *oi = d_out + (b * lq + i) * w + h * d;
            for (int64_t c = 0; c < d; c++) g[j] += (double)oi[c] * vj[c];
          }
        }
        for (int c = 0; gprobs && c < n_chosen; c++) g[chosen[c]] += gprobs[((b * heads + h) * lq + i) * n_chosen + c];
        for (int64_t j = 0; j < lk; j++) dot += g[j] * p[j];
        for (int64_t j = 0; j < lk; j++) {
          double ds = scale * p[j] * (g[j] - dot);
          const float *kj = k + (b * lk + j) * w + h * d;
          for (int64_t c = 0; c < d; c++) {
            dq[(b * lq + i) * w + h * d + c] += (float)(ds * kj[c]);
            if (dk) dk[(b * lk + j) * w + h * d + c] += (float)(ds * qi[c]);
            if (dv) dv[(b * lk + j) * w + h * d + c] += (float)(p[j] * d_out[(b * lq + i) * w + h * d + c]);
          }
        }
      }
  free(p);
  free(g);
}
