// Norm throughput (GB/s, counting one read and one write of the tensor), against PyTorch. PyTorch's
// CPU norms have no f16 kernels, so the f16 rows are compared with its f32 time.
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

static void one(dg_bench *b, const char *name, dg_dtype dt, int ndim, const int64_t *shape, int64_t channels,
                int groups, const char *spec) {
  norm_ctx c = {.groups = groups};
  int64_t cs[1] = {channels};
  if (dg_tensor_alloc(b->arena, dt, ndim, shape, &c.x) || dg_tensor_alloc(b->arena, dt, ndim, shape, &c.o) ||
      dg_tensor_alloc(b->arena, dt, 1, cs, &c.g) || dg_tensor_alloc(b->arena, dt, 1, cs, &c.b)) {
    printf("%s: %s\n", name, dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.x, 0.5f);
  dg_tensor_fill_f32(&c.g, 1.0f);
  dg_tensor_fill_f32(&c.b, 0.0f);
  double s = dg_bench_time(b, run_norm, &c, 1.0);
  double bytes = 2.0 * (double)dg_dtype_size(dt) * (double)dg_tensor_numel(&c.x);
  dg_bench_report(b, name, bytes, false, s, dg_bench_torch(b, spec));
}

void bench_norm(dg_bench *b) {
  int64_t gn[4] = {1, 320, 64, 64}, ln[2] = {4096, 320}, ln2[2] = {1024, 640};
  one(b, "group norm 320x64x64, 32 groups f32", DG_F32, 4, gn, 320, 32, "group_norm 1 320 64 64 32");
  one(b, "layer norm 4096x320 f32", DG_F32, 2, ln, 320, 0, "layer_norm 4096 320");
  one(b, "layer norm 1024x640 f32", DG_F32, 2, ln2, 640, 0, "layer_norm 1024 640");
  one(b, "group norm 320x64x64, 32 groups f16", DG_F16, 4, gn, 320, 32, "group_norm 1 320 64 64 32");
  one(b, "layer norm 4096x320 f16", DG_F16, 2, ln, 320, 0, "layer_norm 4096 320");
}
