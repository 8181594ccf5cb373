#include "dg_ref.h"

void dg_ref_conv2d(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t H, int64_t W,
                   int64_t Cout, int64_t KH, int64_t KW, int sh, int sw, int ph, int pw, int groups, float *y) {
  dg_ref_conv2d_pads(x, w, bias, N, Cin, H, W, Cout, KH, KW, sh, sw, (int[4]){ph, pw, ph, pw}, groups, y);
}

void dg_ref_conv2d_pads(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t H,
                        int64_t W, int64_t Cout, int64_t KH, int64_t KW, int sh, int sw, const int pad[4], int groups,
                        float *y) {
  int ph = pad[0], pw = pad[1];
  int64_t Ho = (H + ph + pad[2] - KH) / sh + 1, Wo = (W + pw + pad[3] - KW) / sw + 1;
  int64_t cig = Cin / groups, cog = Cout / groups;
  for (int64_t n = 0; n < N; n++)
    for (int64_t co = 0; co < Cout; co++) {
      int64_t g = co / cog;
      for (int64_t oy = 0; oy < Ho; oy++)
        for (int64_t ox = 0; ox < Wo; ox++) {
          double s = bias ? bias[co] : 0;
          for (int64_t ci = 0; ci < cig; ci++)
            for (int64_t ky = 0; ky < KH; ky++) {
              int64_t iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= H) continue;
              for (int64_t kx = 0; kx < KW; kx++) {
                int64_t ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= W) continue;
                s += (double)w[((co * cig + ci) * KH + ky) * KW + kx] * x[((n * Cin + g * cig + ci) * H + iy) * W + ix];
              }
            }
          y[((n * Cout + co) * Ho + oy) * Wo + ox] = (float)s;
        }
    }
}

void dg_ref_conv_temporal(const float *x, const float *w, const float *bias, int64_t N, int64_t Cin, int64_t F,
                          int64_t HW, int64_t Cout, int64_t k, int pad, float *y) {
  int64_t Fo = F + 2 * pad - k + 1;
  for (int64_t n = 0; n < N; n++)
    for (int64_t co = 0; co < Cout; co++)
      for (int64_t f = 0; f < Fo; f++)
        for (int64_t p = 0; p < HW; p++) {
          double s = bias ? bias[co] : 0;
          for (int64_t ci = 0; ci < Cin; ci++)
            for (int64_t t = 0; t < k; t++) {
              int64_t fi = f + t - pad;
              if (fi < 0 || fi >= F) continue;
              s += (double)w[(co * Cin + ci) * k + t] * x[((n * Cin + ci) * F + fi) * HW + p];
            }
          y[((n * Cout + co) * Fo + f) * HW + p] = (float)s;
        }
}
