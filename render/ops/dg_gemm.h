// Internal: the strided batched GEMM behind matmul, linear and 1x1 convolution, split into
// dispatches whose bindings respect the binding limit. Not part of the public API.
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

// C[z](m, n) = sum_k A[z](m, k) B[z](k, n) (+ bias) (+ C when accumulate) (+ R), for z < batch, where
// X[z](i, j) is element off + z*sz + i*si + j*sj of tensor X (C's column stride is 1). A batch
// stride of 0 broadcasts that operand. R (the residual, may be NULL or C itself) is read with C's
// offsets and strides, in the same dispatch.
typedef struct dg_gemm_desc {
  const char *label;
  int64_t batch, M, N, K;
  const dg_tensor *a, *b, *c, *bias; // bias may be NULL
  const dg_tensor *residual;         // may be NULL
  int64_t a_off, a_sz, a_sm, a_sk;
  int64_t b_off, b_sz, b_sk, b_sn;
  int64_t c_off, c_sz, c_sm;
  int64_t bias_off;
  int bias_mode; // 1: per column n, 2: per row m
  bool accumulate;
  // GEGLU epilogue when > 0: C(m, n) = (AB(m, n) + bias n) * gelu(AB(m, n + gate_n) + bias n + gate_n) for
  // n < N, B having N + gate_n columns or more (no accumulate, no residual; B contiguous along k or read
  // by scalars). The gate's pre-activation never goes to memory.
  int64_t gate_n;
  // One dispatch over the whole batch where the bindings allow: no uniform-B bands, which take one
  // dispatch per batch item (stacked projections, dg_linear_stacked).
  bool whole_batch;
} dg_gemm_desc;

dg_status dg_gemm(dg_stream *s, const dg_gemm_desc *g);

// Dispatches dg_gemm made in this process, and how many of them took matmul.comp's shared-row path (COOP)
// and read B through the uniform binding. test_matmul checks that a CPU device with 8-lane subgroups takes
// both: falling back to the plain per-lane path silently costs several times the time on lavapipe.
typedef struct dg_gemm_counts {
  uint64_t dispatches, coop, uniform_b;
  uint64_t address; // shared-row dispatches reading A (and B unless uniform) through addresses (matmul_bda.comp)
  uint64_t geglu;   // dispatches with the GEGLU epilogue
} dg_gemm_counts;
dg_gemm_counts dg_gemm_get_counts(void);
