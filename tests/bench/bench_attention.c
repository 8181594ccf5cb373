// Attention throughput (GFLOP/s, counting 4 * Lq * Lk * d per batch-head), against PyTorch.
#include <stdio.h>

#include "bench_ops.h"
#include "dg_attention.h"

typedef struct attn_ctx {
  dg_tensor q, k, v, o;
  dg_attention_args args;
} attn_ctx;

static int run_attention(dg_bench *b, void *p) {
  attn_ctx *c = p;
  return dg_attention(b->stream, &c->q, &c->k, &c->v, &c->args, &c->o) != DG_OK;
}

static void one(dg_bench *b, const char *name, int64_t n, int64_t lq, int64_t lk, int64_t d, int heads) {
  attn_ctx c = {.args = {.heads = heads}};
  int64_t qs[3] = {n, lq, heads * d}, ks[3] = {n, lk, heads * d};
  if (dg_tensor_alloc(b->arena, DG_F32, 3, qs, &c.q) || dg_tensor_alloc(b->arena, DG_F32, 3, ks, &c.k) ||
      dg_tensor_alloc(b->arena, DG_F32, 3, ks, &c.v) || dg_tensor_alloc(b->arena, DG_F32, 3, qs, &c.o)) {
    printf("%s: %s\n", name, dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.q, 0.1f);
  dg_tensor_fill_f32(&c.k, 0.2f);
  dg_tensor_fill_f32(&c.v, 0.3f);
  double s = dg_bench_time(b, run_attention, &c, 1.0);
  char spec[96];
  snprintf(spec, sizeof spec, "attention %lld %lld %lld %lld %d", (long long)n, (long long)lq, (long long)lk,
           (long long)d, heads);
  dg_bench_report(b, name, 4.0 * (double)(n * heads) * (double)(lq * lk * d), true, s, dg_bench_torch(b, spec));
}

void bench_attention(dg_bench *b) {
  one(b, "attention 4096q x 77k d40 8 heads f32", 1, 4096, 77, 40, 8);
  one(b, "attention 1024 x 1024 d80 8 heads f32", 1, 1024, 1024, 80, 8);
}
