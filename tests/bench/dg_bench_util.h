// What the single-purpose benchmarks (dirigent-bench-unet, -vae, -stylegan, ...) share: a wall clock and
// a status check that prints the engine's error.
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "dg_status.h"

static inline double dg_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// true when st is DG_OK; else prints "what: the error" to stderr.
static inline bool dg_bench_ok(dg_status st, const char *what) {
  if (st == DG_OK) return true;
  fprintf(stderr, "%s: %s\n", what, dg_last_error());
  return false;
}
