#include "dg_ref_nn.h"

#include <math.h>
#include <stdlib.h>

void dg_ref_conv2d_pad_tl(const float *x, int64_t n, int64_t cin, int64_t h, int64_t w, const float *wt, int64_t cout,
                   int64_t k, const float *b, int stride, int pad_t, int pad_l, int64_t oh, int64_t ow, float *out) {
  for (int64_t s = 0; s < n; s++)
    for (int64_t co = 0; co < cout; co++)
      for (int64_t oy = 0; oy < oh; oy++)
        for (int64_t ox = 0; ox < ow; ox++) {
          double acc = b ? b[co] : 0;
          for (int64_t ci = 0; ci < cin; ci++)
            for (int64_t ky = 0; ky < k; ky++)
              for (int64_t kx = 0; kx < k; kx++) {
                int64_t iy = oy * stride - pad_t + ky, ix = ox * stride - pad_l + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += (double)x[((s * cin + ci) * h + iy) * w + ix] * wt[((co * cin + ci) * k + ky) * k + kx];
              }
          out[((s * cout + co) * oh + oy) * ow + ox] = (float)acc;
        }
}

void dg_ref_transpose(const float *x, int64_t a, int64_t b, int64_t c, float *out) {
  for (int64_t i = 0; i < a; i++)
    for (int64_t j = 0; j < b; j++)
      for (int64_t l = 0; l < c; l++)
        out[(i * c + l) * b + j] = x[(i * b + j) * c + l];
}

void dg_ref_upsample2x(const float *x, int64_t nc, int64_t h, int64_t w, float *out) {
  for (int64_t i = 0; i < nc; i++)
    for (int64_t y = 0; y < 2 * h; y++)
      for (int64_t z = 0; z < 2 * w; z++)
        out[(i * 2 * h + y) * 2 * w + z] = x[(i * h + y / 2) * w + z / 2];
}

void dg_ref_geglu(const float *x, int64_t rows, int64_t f, float *out) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < f; j++) {
      double a = x[r * 2 * f + j], g = x[r * 2 * f + f + j];
      out[r * f + j] = (float)(a * 0.5 * g * (1 + erf(g / sqrt(2.0))));
    }
}
