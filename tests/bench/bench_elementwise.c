// Elementwise throughput (GB/s moved), against PyTorch.
#include <stdio.h>

#include "bench_ops.h"
#include "dg_elementwise.h"

typedef struct add_ctx {
  dg_tensor a, b, c;
} add_ctx;

static int run_add(dg_bench *b, void *p) {
  add_ctx *c = p;
  return dg_binary(b->stream, DG_ADD, &c->a, &c->b, &c->c) != DG_OK;
}

void bench_elementwise(dg_bench *b) {
  int64_t n = 16 << 20; // 3 x 64 MiB, as in the environment notes
  int64_t shape[1] = {n};
  add_ctx c;
  if (dg_tensor_alloc(b->arena, DG_F32, 1, shape, &c.a) || dg_tensor_alloc(b->arena, DG_F32, 1, shape, &c.b) ||
      dg_tensor_alloc(b->arena, DG_F32, 1, shape, &c.c)) {
    printf("elementwise: %s\n", dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.a, 1.0f);
  dg_tensor_fill_f32(&c.b, 2.0f);
  double s = dg_bench_time(b, run_add, &c, 1.0);
  char spec[64];
  snprintf(spec, sizeof spec, "add %lld", (long long)n);
  dg_bench_report(b, "add f32 16M", 12.0 * (double)n, false, s, dg_bench_torch(b, spec));
}
