#include <math.h>

#include "dg_ref.h"

void dg_ref_embedding_lookup(const uint32_t *ids, int64_t n_ids, const float *table, int64_t vocab, int64_t dim,
                             float *out) {
  for (int64_t r = 0; r < n_ids; r++)
    for (int64_t c = 0; c < dim; c++)
      out[r * dim + c] = ids[r] < vocab ? table[ids[r] * dim + c] : 0.0f;
}

void dg_ref_timestep_embedding(const float *t, int64_t n, int dim, float max_period, bool cos_first, float *out) {
  int half = dim / 2;
  for (int64_t r = 0; r < n; r++)
    for (int c = 0; c < dim; c++) {
      double v = 0;
      if (c < 2 * half) {
        double arg = (double)t[r] * exp(-log((double)max_period) * (c % half) / half);
        v = (c < half) == cos_first ? cos(arg) : sin(arg);
      }
      out[r * dim + c] = (float)v;
    }
}
