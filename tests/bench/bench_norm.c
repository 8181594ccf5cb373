// Norm throughput (GB/s, counting one read and one write of the tensor), against PyTorch.
#include <stdio.h>

#include "bench_ops.h"
#include "dg_norm.h"

typedef struct norm_ctx {
  dg_tensor x, g, b, o;
  int groups; // 0: layer norm
} norm_ctx;

static int run_norm(dg_bench *b, void *p) {
  norm_ctx *c = p;
  dg_status s = c->groups ? dg_group_norm(b->stream, &c->x, c->groups, &c->g, &c->b, 1e-5f, false, &c->o)
                          : dg_layer_norm(b->stream, &c->x, &c->g, &c->b, 1e-5f, &c->o);
  return s != DG_OK;
}

static void one(dg_bench *b, const char *name, int ndim, const int64_t *shape, int64_t channels, int groups,
                const char *spec) {
  norm_ctx c = {.groups = groups};
  int64_t cs[1] = {channels};
  if (dg_tensor_alloc(b->arena, DG_F32, ndim, shape, &c.x) || dg_tensor_alloc(b->arena, DG_F32, ndim, shape, &c.o) ||
      dg_tensor_alloc(b->arena, DG_F32, 1, cs, &c.g) || dg_tensor_alloc(b->arena, DG_F32, 1, cs, &c.b)) {
    printf("%s: %s\n", name, dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.x, 0.5f);
  dg_tensor_fill_f32(&c.g, 1.0f);
  dg_tensor_fill_f32(&c.b, 0.0f);
  double s = dg_bench_time(b, run_norm, &c, 1.0);
  dg_bench_report(b, name, 8.0 * (double)dg_tensor_numel(&c.x), false, s, dg_bench_torch(b, spec));
}

void bench_norm(dg_bench *b) {
  int64_t gn[4] = {1, 320, 64, 64}, ln[2] = {4096, 320};
  one(b, "group norm 320x64x64, 32 groups f32", 4, gn, 320, 32, "group_norm 1 320 64 64 32");
  one(b, "layer norm 4096x320 f32", 2, ln, 320, 0, "layer_norm 4096 320");
}
