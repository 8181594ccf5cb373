#include <math.h>
#include <stdlib.h>

#include "dg_ref.h"

void dg_ref_upfirdn2d(const float *x, int64_t planes, int64_t h, int64_t w, const float *f, int fh, int fw, int up,
                      int down, const int pad[4], float gain, float *out) {
  int64_t hu = h * up, wu = w * up, ph = hu + pad[2] + pad[3], pw = wu + pad[0] + pad[1];
  int64_t oh = (ph - fh) / down + 1, ow = (pw - fw) / down + 1;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++) {
        double r = 0;
        for (int a = 0; a < fh; a++)
          for (int b = 0; b < fw; b++) {
            int64_t u = oy * down + a - pad[2], v = ox * down + b - pad[0]; // zero-inserted coordinates
            if (u < 0 || v < 0 || u >= hu || v >= wu || u % up || v % up) continue;
            r += (double)f[(fh - 1 - a) * fw + (fw - 1 - b)] * x[(p * h + u / up) * w + v / up];
          }
        out[(p * oh + oy) * ow + ox] = (float)(r * gain);
      }
}

void dg_ref_modconv(const float *x, const float *w, const float *styles, int64_t N, int64_t I, int64_t H, int64_t W,
                    int64_t O, int K, bool demod, const float *noise, int noise_mode, float strength,
                    const float *bias, bool lrelu, float gain, float clamp, float *out) {
  int64_t kk = (int64_t)K * K;
  float *wm = malloc((size_t)(O * I * kk) * sizeof *wm);
  for (int64_t n = 0; n < N; n++) {
    for (int64_t o = 0; o < O; o++) { // this sample's modulated, demodulated weights
      double ss = 0;
      for (int64_t i = 0; i < I; i++)
        for (int64_t k = 0; k < kk; k++) {
          double v = (double)w[(o * I + i) * kk + k] * styles[n * I + i];
          wm[(o * I + i) * kk + k] = (float)v;
          ss += v * v;
        }
      double dc = demod ? 1.0 / sqrt(ss + 1e-8) : 1.0;
      for (int64_t j = 0; j < I * kk; j++)
        wm[o * I * kk + j] = (float)(wm[o * I * kk + j] * dc);
    }
    dg_ref_conv2d(x + n * I * H * W, wm, NULL, 1, I, H, W, O, K, K, 1, 1, K / 2, K / 2, 1, out + n * O * H * W);
    for (int64_t o = 0; o < O; o++)
      for (int64_t p = 0; p < H * W; p++) {
        float *v = out + (n * O + o) * H * W + p;
        double r = *v;
        int64_t at = noise_mode == 3 ? (n * O + o) * H * W : noise_mode == 2 ? n * H * W : 0;
        if (noise) r += (double)strength * noise[at + p];
        r += bias[o];
        if (lrelu) r = (r < 0 ? 0.2 * r : r) * sqrt(2.0);
        r *= gain;
        if (clamp >= 0) r = r < -clamp ? -clamp : r > clamp ? clamp : r;
        *v = (float)r;
      }
  }
  free(wm);
}
