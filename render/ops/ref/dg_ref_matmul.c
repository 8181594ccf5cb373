#include "dg_ref.h"

void dg_ref_matmul(const float *a, bool ta, int64_t za, const float *b, bool tb, int64_t zb, int64_t M, int64_t N,
                   int64_t K, float *out) {
  int64_t batch = za > zb ? za : zb;
  for (int64_t z = 0; z < batch; z++) {
    const float *A = a + (za == 1 ? 0 : z) * M * K, *B = b + (zb == 1 ? 0 : z) * K * N;
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++)
          s += (double)(ta ? A[k * M + m] : A[m * K + k]) * (tb ? B[n * K + k] : B[k * N + n]);
        out[(z * M + m) * N + n] = (float)s;
      }
  }
}

void dg_ref_linear(const float *x, const float *w, const float *bias, int64_t rows, int64_t in, int64_t out, float *y) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t o = 0; o < out; o++) {
      double s = bias ? bias[o] : 0;
      for (int64_t i = 0; i < in; i++)
        s += (double)x[r * in + i] * w[o * in + i];
      y[r * out + o] = (float)s;
    }
}
