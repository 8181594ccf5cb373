// Matmul and linear throughput (GFLOP/s) on SD-UNet-like shapes, against PyTorch.
#include <stdio.h>

#include "bench_ops.h"
#include "dg_matmul.h"

typedef struct mm_ctx {
  dg_tensor a, b, bias, c;
  bool linear;
} mm_ctx;

static int run_mm(dg_bench *b, void *p) {
  mm_ctx *c = p;
  if (c->linear) return dg_linear(b->stream, &c->a, &c->b, &c->bias, &c->c) != DG_OK;
  return dg_matmul(b->stream, &c->a, false, &c->b, false, &c->c) != DG_OK;
}

static void bench_one(dg_bench *b, const char *name, int64_t M, int64_t K, int64_t N, bool linear) {
  mm_ctx c = {.linear = linear};
  int64_t sa[2] = {M, K}, sb[2] = {K, N}, sw[2] = {N, K}, sbias[1] = {N}, sc[2] = {M, N};
  if (dg_tensor_alloc(b->arena, DG_F32, 2, sa, &c.a) || dg_tensor_alloc(b->arena, DG_F32, 2, linear ? sw : sb, &c.b) ||
      dg_tensor_alloc(b->arena, DG_F32, 1, sbias, &c.bias) || dg_tensor_alloc(b->arena, DG_F32, 2, sc, &c.c)) {
    printf("%s: %s\n", name, dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.a, 0.5f);
  dg_tensor_fill_f32(&c.b, 0.25f);
  dg_tensor_fill_f32(&c.bias, 1.0f);
  double s = dg_bench_time(b, run_mm, &c, 1.0);
  char spec[96];
  snprintf(spec, sizeof spec, "%s %lld %lld %lld", linear ? "linear" : "matmul", (long long)M, (long long)K,
           (long long)N);
  dg_bench_report(b, name, 2.0 * (double)M * (double)N * (double)K, true, s, dg_bench_torch(b, spec));
}

void bench_matmul(dg_bench *b) {
  bench_one(b, "matmul f32 4096x320 @ 320x320", 4096, 320, 320, false);
  bench_one(b, "matmul f32 1024x1024 @ 1024x1024", 1024, 1024, 1024, false);
  bench_one(b, "linear f32 4096x320 -> 1280 (+bias)", 4096, 320, 1280, true);
}
