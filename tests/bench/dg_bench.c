#include "dg_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

// DG_BENCH_CPU=1 measures process CPU time instead of wall time: with LP_NUM_THREADS=1 this gives
// per-core throughput that stays comparable while other jobs load the machine.
static double now(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = getenv("DG_BENCH_CPU") && atoi(getenv("DG_BENCH_CPU")) > 0;
  struct timespec ts;
  clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double dg_bench_time(dg_bench *b, int (*run)(dg_bench *b, void *ctx), void *ctx, double seconds) {
  if (run(b, ctx) || dg_stream_finish(b->stream) != DG_OK) return -1; // warm-up (pipeline creation)
  int iters = 1;
  for (;;) {
    double t0 = now();
    for (int i = 0; i < iters; i++)
      if (run(b, ctx)) return -1;
    if (dg_stream_finish(b->stream) != DG_OK) return -1;
    double dt = now() - t0;
    if (dt >= seconds || iters >= 1 << 20) return dt / iters;
    int next = dt > 0 ? (int)(iters * seconds / dt * 1.1) + 1 : iters * 10;
    iters = next > iters * 10 ? iters * 10 : next;
  }
}

double dg_bench_torch(dg_bench *b, const char *spec) {
  if (!b->torch) return -1;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 /usr/bin/python3 %s/torch_ref.py %s 2>/dev/null",
           DG_BENCH_DIR, spec);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  double s = -1;
  if (fscanf(p, "%lf", &s) != 1) s = -1;
  pclose(p);
  return s;
}

void dg_bench_report(dg_bench *b, const char *name, double work, bool is_flops, double seconds, double torch_seconds) {
  if (seconds <= 0) {
    printf("%-44s failed\n", name);
    return;
  }
  double rate = work / seconds * 1e-9;
  printf("%-44s %9.3f ms  %8.2f %s", name, seconds * 1e3, rate, is_flops ? "GFLOP/s" : "GB/s   ");
  if (is_flops) printf("  %5.1f%% of peak", 100.0 * rate / b->peak_gflops);
  else printf("  %14s", "");
  if (torch_seconds > 0) printf("  torch %9.3f ms  ratio %.2fx", torch_seconds * 1e3, torch_seconds / seconds);
  printf("\n");
  fflush(stdout);
}
