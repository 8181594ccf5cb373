// Benchmark harness: times GPU work on the engine, compares it with the same computation in
// PyTorch on the same CPU (tests/bench/torch_ref.py, when python3-torch is installed), and prints
// throughput, the fraction of the machine's fp32 peak and the ratio to PyTorch.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_device.h"
#include "dg_stream.h"

typedef struct dg_bench {
  dg_device *device;
  dg_arena *arena;
  dg_stream *stream;
  double peak_gflops; // machine fp32 peak (DG_PEAK_GFLOPS, default 190 for this 2-core AVX2 box)
  bool torch;         // compare with PyTorch
} dg_bench;

// run(ctx) records one iteration of the work on b->stream; it is timed over enough repetitions
// (after a warm-up) to take about `seconds`. Returns seconds per iteration, or < 0 on error.
double dg_bench_time(dg_bench *b, int (*run)(dg_bench *b, void *ctx), void *ctx, double seconds);
// Seconds per iteration of the same computation in PyTorch: torch_ref.py is called with `spec`
// (e.g. "matmul 4096 320 320"). < 0 if PyTorch is unavailable.
double dg_bench_torch(dg_bench *b, const char *spec);
// Prints one result row. work: FLOPs (is_flops) or bytes moved per iteration.
void dg_bench_report(dg_bench *b, const char *name, double work, bool is_flops, double seconds, double torch_seconds);
