#include "dg_ref.h"

void dg_ref_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *out) {
  int64_t stride[8], n = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    stride[i] = n;
    n *= shape[i];
  }
  for (int64_t o = 0; o < n; o++) {
    int64_t rem = o, xi = 0;
    for (int i = ndim - 1; i >= 0; i--) {
      int64_t size = shape[perm[i]];
      xi += (rem % size) * stride[perm[i]];
      rem /= size;
    }
    out[o] = x[xi];
  }
}

void dg_ref_concat(const float *const *inputs, const int64_t *sizes, int n, int64_t outer, int64_t inner, float *out) {
  int64_t total = 0;
  for (int i = 0; i < n; i++)
    total += sizes[i];
  for (int64_t o = 0; o < outer; o++) {
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
      for (int64_t e = 0; e < sizes[i] * inner; e++)
        out[(o * total) * inner + at * inner + e] = inputs[i][o * sizes[i] * inner + e];
      at += sizes[i];
    }
  }
}
