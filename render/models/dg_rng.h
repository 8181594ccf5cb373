// Dirigent's host RNG for sampling noise (docs/rng.md): Philox4x32-10 keyed by the seed, counter
// (block, stream), and Box-Muller in double precision. Bit-exact with tools/train/dgtrain/rng.py.
#pragma once
#include <stddef.h>
#include <stdint.h>

// The four words of Philox4x32-10 for counter ctr and key (k0, k1).
void dg_philox4x32_10(const uint32_t ctr[4], uint32_t k0, uint32_t k1, uint32_t out[4]);
// Words of block `block` of (seed, stream).
void dg_rng_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]);
// n standard normal values (element i from block i / 4), as randn(seed, [n], stream).
void dg_randn(uint64_t seed, uint64_t stream, size_t n, float *out);
