// Shared helpers of the world module: a seeded random stream and integer hashes.
#pragma once
#include <pthread.h>
#include <stdint.h>

typedef struct wrng {
  uint64_t s;
} wrng;

static inline uint64_t wrng_mix(uint64_t z) { // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// A stream for `seed`, decorrelated per purpose by `salt`.
static inline wrng wrng_make(uint64_t seed, uint64_t salt) {
  return (wrng){wrng_mix(seed * 0x9E3779B97F4A7C15ull ^ salt)};
}
static inline uint64_t wrng_next(wrng *r) { return wrng_mix(r->s += 0x9E3779B97F4A7C15ull); }
static inline float wrng_uniform(wrng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)((wrng_next(r) >> 40) * (1.0 / 16777216.0));
}
static inline int wrng_int(wrng *r, int lo, int hi) { return lo + (int)(wrng_next(r) % (uint64_t)(hi - lo + 1)); }

static inline uint32_t whash(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
static inline uint32_t whash2(uint32_t a, uint32_t b) { return whash(a * 0x9E3779B1u ^ whash(b)); }
static inline uint32_t whash3(uint32_t a, uint32_t b, uint32_t c) { return whash2(whash2(a, b), c); }
// Uniform in [0, 1).
static inline float whash_unit(uint32_t h) { return (float)(h >> 8) * (1.0f / 16777216.0f); }
