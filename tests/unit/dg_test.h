// A small test harness for GPU op tests: one device per test program (with the validation layer
// when DIRIGENT_VALIDATION=1), a fresh random seed per run (printed; DG_TEST_SEED replays it),
// random tensors, poisoned outputs and relative-error checks. Counted checks: dg_check.h.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dg_arena.h"
#include "dg_check.h"
#include "dg_device.h"
#include "dg_stream.h"
#include "dg_tensor.h"

typedef struct dg_test {
  const char *name;
  dg_device *device;
  dg_arena *arena;
  dg_stream *stream;
  uint64_t seed, rng;
} dg_test;

extern dg_test T;

// Opens the device (exits 77 = skipped if none), arena and stream; prints the seed.
void dg_test_init(const char *name);
// Reports the summary, fails on validation messages, frees everything; returns the exit status.
int dg_test_finish(void);

uint64_t dg_test_next(void);
float dg_test_uniform(float lo, float hi);
float dg_test_normal(void);
int dg_test_int(int lo, int hi); // inclusive

// Allocates a tensor filled with uniform values in [lo, hi]; if host is non-NULL it receives the
// values exactly as stored (rounded through f16 for f16 tensors). Caller frees *host.
dg_tensor dg_test_tensor(dg_dtype dtype, int ndim, const int64_t *shape, float lo, float hi, float **host);
// Allocates a tensor filled with NaN, so that unwritten elements fail the comparison.
dg_tensor dg_test_poisoned(dg_dtype dtype, int ndim, const int64_t *shape);
// Reads a tensor (after finishing the stream) into a new host array.
float *dg_test_read(const dg_tensor *t);

// max|got - want| / max|want| (NaN in got gives infinity).
double dg_test_rel_err(const float *got, const float *want, int64_t n);
// Records a check; prints name and error on failure. Returns ok.
bool dg_test_close(const char *what, const float *got, const float *want, int64_t n, double tol);
// Finishes the stream and records a failure if any op returned an error.
bool dg_test_ok(dg_status s, const char *what);

double dg_test_tolerance(dg_dtype dtype); // f32 1e-4, f16 1e-2
