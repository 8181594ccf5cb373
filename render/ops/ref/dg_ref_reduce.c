#include <math.h>

#include "dg_ref.h"

void dg_ref_reduce(dg_reduce_op op, const float *x, int64_t outer, int64_t a, int64_t inner, float *out) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double r = op == DG_REDUCE_MAX ? -INFINITY : 0;
      for (int64_t k = 0; k < a; k++) {
        double v = x[(o * a + k) * inner + i];
        r = op == DG_REDUCE_MAX ? fmax(r, v) : r + v;
      }
      out[o * inner + i] = (float)(op == DG_REDUCE_MEAN ? r / (double)a : r);
    }
}
