#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_ref.h"

// One DFT of length n over `count` sequences with element stride `stride` and sequence stride `step`.
static void dft1d(double *re, double *im, int64_t n, int64_t count, int64_t stride, int64_t step, int sign) {
  double *c = malloc((size_t)n * sizeof *c), *s = malloc((size_t)n * sizeof *s);
  double *tr = malloc((size_t)n * sizeof *tr), *ti = malloc((size_t)n * sizeof *ti);
  for (int64_t k = 0; k < n; k++) { // exact angles: k x mod n
    c[k] = cos(2.0 * M_PI * (double)k / (double)n);
    s[k] = sign * sin(2.0 * M_PI * (double)k / (double)n);
  }
  for (int64_t q = 0; q < count; q++) {
    double *r = re + q * step, *i = im + q * step;
    for (int64_t k = 0; k < n; k++) {
      double ar = 0, ai = 0;
      for (int64_t x = 0; x < n; x++) {
        int64_t t = k * x % n;
        double xr = r[x * stride], xi = i[x * stride];
        ar += xr * c[t] - xi * s[t];
        ai += xr * s[t] + xi * c[t];
      }
      tr[k] = ar, ti[k] = ai;
    }
    for (int64_t k = 0; k < n; k++)
      r[k * stride] = tr[k], i[k * stride] = ti[k];
  }
  free(c), free(s), free(tr), free(ti);
}

void dg_ref_dft2d(const double *re_in, const double *im_in, int64_t h, int64_t w, int sign, double *re, double *im) {
  memcpy(re, re_in, (size_t)(h * w) * sizeof *re);
  if (im_in) memcpy(im, im_in, (size_t)(h * w) * sizeof *im);
  else memset(im, 0, (size_t)(h * w) * sizeof *im);
  dft1d(re, im, w, h, 1, w, sign); // rows
  dft1d(re, im, h, w, w, 1, sign); // columns
}

static int64_t signed_freq(int64_t k, int64_t n) { return k <= n / 2 ? k : k - n; }

void dg_ref_fda(const float *content, const float *style, int64_t planes, int64_t h, int64_t w, int b, float strength,
                float *out) {
  size_t n = (size_t)(h * w);
  double *x = malloc(n * sizeof *x), *cr = malloc(n * sizeof *cr), *ci = malloc(n * sizeof *ci);
  double *sr = malloc(n * sizeof *sr), *si = malloc(n * sizeof *si);
  for (int64_t p = 0; p < planes; p++) {
    for (size_t i = 0; i < n; i++)
      x[i] = content[(size_t)p * n + i];
    dg_ref_dft2d(x, NULL, h, w, -1, cr, ci);
    for (size_t i = 0; i < n; i++)
      x[i] = style[(size_t)p * n + i];
    dg_ref_dft2d(x, NULL, h, w, -1, sr, si);
    for (int64_t y = 0; y < h; y++)
      for (int64_t k = 0; k < w; k++) {
        if (llabs(signed_freq(y, h)) > b || llabs(signed_freq(k, w)) > b) continue;
        size_t i = (size_t)(y * w + k);
        double ca = hypot(cr[i], ci[i]), amp = (1.0 - strength) * ca + strength * hypot(sr[i], si[i]);
        double ph = atan2(ci[i], cr[i]);
        cr[i] = amp * cos(ph), ci[i] = amp * sin(ph);
      }
    dg_ref_dft2d(cr, ci, h, w, 1, x, sr);
    for (size_t i = 0; i < n; i++)
      out[(size_t)p * n + i] = (float)(x[i] / (double)n);
  }
  free(x), free(cr), free(ci), free(sr), free(si);
}
