#include "dg_rng.h"

#include <math.h>

void dg_philox4x32_10(const uint32_t ctr[4], uint32_t k0, uint32_t k1, uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  for (int r = 0; r < 10; r++) {
    if (r) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1,
             n3 = (uint32_t)p0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

void dg_rng_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]) {
  uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
  dg_philox4x32_10(ctr, (uint32_t)seed, (uint32_t)(seed >> 32), out);
}

void dg_randn(uint64_t seed, uint64_t stream, size_t n, float *out) {
  const double inv = 1.0 / 4294967296.0, two_pi = 6.283185307179586;
  for (size_t b = 0; b * 4 < n; b++) {
    uint32_t u[4];
    dg_rng_block(seed, stream, b, u);
    for (int pair = 0; pair < 2; pair++) {
      double a = ((double)u[2 * pair] + 0.5) * inv, c = ((double)u[2 * pair + 1] + 0.5) * inv;
      double r = sqrt(-2.0 * log(a)), th = two_pi * c;
      size_t i = b * 4 + 2 * (size_t)pair;
      if (i < n) out[i] = (float)(r * cos(th));
      if (i + 1 < n) out[i + 1] = (float)(r * sin(th));
    }
  }
}
