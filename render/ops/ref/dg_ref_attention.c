#include <math.h>
#include <stdlib.h>

#include "dg_ref.h"

void dg_ref_attention(const float *q, const float *k, const float *v, int64_t n, int64_t lq, int64_t lk, int heads,
                      int64_t d, float scale, const float *bias, bool bias_per_batch, bool causal, const int *chosen,
                      int n_chosen, float *probs, float *out) {
  int64_t row = heads * d;
  double *sc = malloc((size_t)lk * sizeof *sc);
  for (int64_t b = 0; b < n * heads; b++) {
    int64_t item = b / heads, h = b % heads;
    for (int64_t i = 0; i < lq; i++) {
      const float *qr = q + (item * lq + i) * row + h * d;
      double m = -INFINITY;
      for (int64_t j = 0; j < lk; j++) {
        const float *kr = k + (item * lk + j) * row + h * d;
        double s = 0;
        for (int64_t c = 0; c < d; c++)
          s += (double)qr[c] * kr[c];
        s *= scale;
        if (bias) s += bias[((bias_per_batch ? b : 0) * lq + i) * lk + j];
        if (causal && j > i + (lk - lq)) s = -INFINITY;
        sc[j] = s;
        m = fmax(m, s);
      }
      double sum = 0;
      for (int64_t j = 0; j < lk; j++)
        sum += sc[j] = exp(sc[j] - m);
      float *orow = out + (item * lq + i) * row + h * d;
      for (int64_t c = 0; c < d; c++) {
        double acc = 0;
        for (int64_t j = 0; j < lk; j++)
          acc += sc[j] * v[(item * lk + j) * row + h * d + c];
        orow[c] = (float)(acc / sum);
      }
      for (int c = 0; c < n_chosen; c++)
        probs[(b * lq + i) * n_chosen + c] = (float)(sc[chosen[c]] / sum);
    }
  }
  free(sc);
}
