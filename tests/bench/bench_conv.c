// Convolution throughput (GFLOP/s) on SD-UNet-like shapes, against PyTorch.
#include <stdio.h>

#include "bench_ops.h"
#include "dg_conv.h"

typedef struct conv_ctx {
  dg_tensor x, w, bias, y;
  dg_conv2d_params p;
} conv_ctx;

static int run_conv(dg_bench *b, void *p) {
  conv_ctx *c = p;
  return dg_conv2d(b->stream, &c->x, &c->w, &c->bias, &c->p, &c->y) != DG_OK;
}

static void bench_one(dg_bench *b, const char *name, int64_t cin, int64_t cout, int64_t hw, int64_t k) {
  int pad = (int)(k / 2);
  conv_ctx c = {.p = {1, 1, pad, pad, 1}};
  int64_t sx[4] = {1, cin, hw, hw}, sw[4] = {cout, cin, k, k}, sb[1] = {cout}, sy[4] = {1, cout, hw, hw};
  if (dg_tensor_alloc(b->arena, DG_F32, 4, sx, &c.x) || dg_tensor_alloc(b->arena, DG_F32, 4, sw, &c.w) ||
      dg_tensor_alloc(b->arena, DG_F32, 1, sb, &c.bias) || dg_tensor_alloc(b->arena, DG_F32, 4, sy, &c.y)) {
    printf("%s: %s\n", name, dg_last_error());
    return;
  }
  dg_tensor_fill_f32(&c.x, 0.5f);
  dg_tensor_fill_f32(&c.w, 0.25f);
  dg_tensor_fill_f32(&c.bias, 1.0f);
  double s = dg_bench_time(b, run_conv, &c, 1.0);
  char spec[96];
  snprintf(spec, sizeof spec, "conv2d %lld %lld %lld %lld", (long long)cin, (long long)cout, (long long)hw,
           (long long)k);
  dg_bench_report(b, name, 2.0 * (double)(cin * cout * k * k) * (double)(hw * hw), true, s, dg_bench_torch(b, spec));
}

void bench_conv(dg_bench *b) {
  bench_one(b, "conv2d f32 3x3 320->320 @ 64x64", 320, 320, 64, 3);
  bench_one(b, "conv2d f32 1x1 320->320 @ 64x64", 320, 320, 64, 1);
  bench_one(b, "conv2d f32 3x3 4->320 @ 64x64", 4, 320, 64, 3);
}
