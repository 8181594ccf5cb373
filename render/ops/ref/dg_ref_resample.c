#include <math.h>

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

void dg_ref_max_pool(const float *x, int64_t planes, int64_t h, int64_t w, int k, int stride, int pad, float *out) {
  int64_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t y = 0; y < oh; y++)
      for (int64_t xx = 0; xx < ow; xx++) {
        float r = -INFINITY;
        for (int64_t dy = 0; dy < k; dy++)
          for (int64_t dx = 0; dx < k; dx++) {
            int64_t sy = y * stride - pad + dy, sx = xx * stride - pad + dx;
            if (sy >= 0 && sy < h && sx >= 0 && sx < w && x[(p * h + sy) * w + sx] > r) r = x[(p * h + sy) * w + sx];
          }
        out[(p * oh + y) * ow + xx] = r;
      }
}

void dg_ref_adaptive_avg_pool(const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                              float *out) {
  for (int64_t p = 0; p < planes; p++)
    for (int64_t y = 0; y < oh; y++)
      for (int64_t xx = 0; xx < ow; xx++) {
        int64_t y0 = (int64_t)floor((double)(y * h) / (double)oh), y1 = (int64_t)ceil((double)((y + 1) * h) / (double)oh);
        int64_t x0 = (int64_t)floor((double)(xx * w) / (double)ow), x1 = (int64_t)ceil((double)((xx + 1) * w) / (double)ow);
        double r = 0;
        for (int64_t sy = y0; sy < y1; sy++)
          for (int64_t sx = x0; sx < x1; sx++) r += x[(p * h + sy) * w + sx];
        out[(p * oh + y) * ow + xx] = (float)(r / (double)((y1 - y0) * (x1 - x0)));
      }
}

// torch's area_pixel_compute_source_index, then the lower neighbour, the upper one (clamped) and its weight.
static void source(int64_t d, int64_t in, int64_t outn, bool align_corners, int64_t *i0, int64_t *i1, double *l1) {
  double src;
  if (align_corners) src = outn > 1 ? (double)(in - 1) / (double)(outn - 1) * (double)d : 0.0;
  else {
    src = (double)in / (double)outn * ((double)d + 0.5) - 0.5;
    if (src < 0) src = 0;
  }
  *i0 = (int64_t)src;
  if (*i0 > in - 1) *i0 = in - 1;
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l1 = src - (double)*i0;
}

void dg_ref_resize_bilinear(const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            bool align_corners, float *out) {
  for (int64_t p = 0; p < planes; p++)
    for (int64_t y = 0; y < oh; y++)
      for (int64_t xx = 0; xx < ow; xx++) {
        int64_t y0, y1, x0, x1;
        double ly, lx;
        source(y, h, oh, align_corners, &y0, &y1, &ly);
        source(xx, w, ow, align_corners, &x0, &x1, &lx);
        const float *xp = x + p * h * w;
        double top = (1 - lx) * xp[y0 * w + x0] + lx * xp[y0 * w + x1];
        double bot = (1 - lx) * xp[y1 * w + x0] + lx * xp[y1 * w + x1];
        out[(p * oh + y) * ow + xx] = (float)((1 - ly) * top + ly * bot);
      }
}
