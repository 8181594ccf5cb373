// Convolution throughput (GFLOP/s) on SD-UNet-like shapes, against PyTorch; and the 3x3 conv's error at
// SD 1.5's widths against a double-precision reference (which path ran is printed: Winograd unless
// DIRIGENT_CONV_NO_WINOGRAD=1 or the device is not a CPU).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

static float uniform(uint64_t *state) { // xorshift64*, in [-1, 1)
  *state ^= *state >> 12, *state ^= *state << 25, *state ^= *state >> 27;
  return (float)((*state * 2685821657736338717ULL) >> 40) / (float)(1 << 23) - 1.0f;
}

// y = conv3x3(x, w) for x [n, c, hw, hw] ~ U(-1, 1) and w ~ U(-1, 1) / sqrt(9c) (unit-variance outputs), c -> c
// channels; the error of 512 sampled outputs against the sum in double, relative to the outputs' RMS.
static void error_one(dg_bench *b, int64_t n, int64_t c, int64_t hw) {
  conv_ctx k = {.p = {1, 1, 1, 1, 1}};
  int64_t sx[4] = {n, c, hw, hw}, sw[4] = {c, c, 3, 3}, nx = n * c * hw * hw, nw = c * c * 9;
  float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *y = malloc(nx * sizeof *y);
  uint64_t st = 0x9E3779B97F4A7C15ULL;
  for (int64_t i = 0; i < nx; i++) x[i] = uniform(&st);
  for (int64_t i = 0; i < nw; i++) w[i] = uniform(&st) / sqrtf(9.0f * (float)c);
  dg_conv_counts c0 = dg_conv_get_counts();
  if (!x || !w || !y || dg_tensor_alloc(b->arena, DG_F32, 4, sx, &k.x) || dg_tensor_alloc(b->arena, DG_F32, 4, sw, &k.w) ||
      dg_tensor_alloc(b->arena, DG_F32, 4, sx, &k.y) || dg_tensor_write_f32(&k.x, x) || dg_tensor_write_f32(&k.w, w) ||
      dg_conv2d(b->stream, &k.x, &k.w, NULL, &k.p, &k.y) || dg_stream_finish(b->stream) || dg_tensor_read_f32(&k.y, y)) {
    printf("conv2d error %lld channels: %s\n", (long long)c, dg_last_error());
    free(x), free(w), free(y);
    return;
  }
  bool winograd = dg_conv_get_counts().winograd > c0.winograd;
  double err2 = 0, ref2 = 0, max_err = 0;
  for (int s = 0; s < 512; s++) {
    int64_t i = (int64_t)((st = st * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % nx;
    int64_t px = i % hw, py = i / hw % hw, co = i / (hw * hw) % c, im = i / (hw * hw * c);
    double ref = 0;
    for (int64_t ci = 0; ci < c; ci++)
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int64_t yy = py + dy, xx = px + dx;
          if (yy < 0 || yy >= hw || xx < 0 || xx >= hw) continue;
          ref += (double)x[((im * c + ci) * hw + yy) * hw + xx] * w[(co * c + ci) * 9 + (dy + 1) * 3 + dx + 1];
        }
    double e = fabs(y[i] - ref);
    err2 += e * e, ref2 += ref * ref, max_err = e > max_err ? e : max_err;
  }
  printf("conv2d f32 3x3 %4lld->%-4lld @ %lldx%lld x%lld  %-8s rms error %.2e, max %.2e (outputs' rms %.2f)\n",
         (long long)c, (long long)c, (long long)hw, (long long)hw, (long long)n, winograd ? "winograd" : "direct",
         sqrt(err2 / ref2), max_err / sqrt(ref2 / 512), sqrt(ref2 / 512));
  fflush(stdout);
  free(x), free(w), free(y);
}

void bench_conv(dg_bench *b) {
  for (int64_t c = 320; c <= 1280; c *= 2) {
    dg_arena_mark m = dg_arena_get_mark(b->arena);
    error_one(b, 8, c, 16);
    dg_arena_release(b->arena, m);
  }
  bench_one(b, "conv2d f32 3x3 320->320 @ 64x64", 320, 320, 64, 3);
  bench_one(b, "conv2d f32 1x1 320->320 @ 64x64", 320, 320, 64, 1);
  bench_one(b, "conv2d f32 3x3 4->320 @ 64x64", 4, 320, 64, 3);
}
