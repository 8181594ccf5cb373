#include "dg_ref.h"

void dg_ref_resample(int mode, const float *x, int64_t planes, int64_t h, int64_t w, int k, float *out) {
  int64_t oh = mode == 0 ? 2 * h : mode == 1 ? h / k : (h + k - 1) / k;
  int64_t ow = mode == 0 ? 2 * w : mode == 1 ? w / k : (w + k - 1) / k;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t y = 0; y < oh; y++)
      for (int64_t xx = 0; xx < ow; xx++) {
        const float *xp = x + p * h * w;
        double r;
        if (mode == 0) {
          r = xp[(y / 2) * w + xx / 2];
        } else if (mode == 1) {
          r = 0;
          for (int dy = 0; dy < k; dy++)
            for (int dx = 0; dx < k; dx++)
              r += xp[(y * k + dy) * w + xx * k + dx];
          r /= (double)k * k;
        } else {
          r = xp[y * k * w + xx * k];
        }
        out[(p * oh + y) * ow + xx] = (float)r;
      }
}
