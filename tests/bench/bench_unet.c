// `build/tests/bench/dirigent-bench-unet UNET.safetensors [--size WxH] [--batch N] [--steps N] [--dtype f16|f32]
// [--fusion compare|on|off]`:
// seconds per UNet forward (one denoising step; batch 2 is a CFG step) on the engine, for the GPU check
// (tools/gpu-check.sh) with Stable Diffusion 1.5's dimensions (dgtrain.bench_unet_sd15 writes such a UNet
// with random weights) and for the default model. The first forward (kernel builds) is not counted. Prints
// the device, its memory path, seconds per step, it/s and the arena's peak. `--fusion compare` runs the
// steps alternately without and with the fused epilogues (dg_nn_set_fusion) in one process and prints
// both: dispatches per forward and the range of seconds per forward. Run by hand; not a test.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_bench_util.h"
#include "dg_model_config.h"
#include "dg_test.h"
#include "dg_unet.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int mode_of(const char *fusion) { return strcmp(fusion, "off") != 0; }

int main(int argc, char **argv) {
  const char *path = NULL;
  int width = 512, height = 512, batch = 2, steps = 10;
  dg_dtype dt = DG_F16;
  const char *fusion = "on";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-') path = a;
    else if (!v) {
      fprintf(stderr, "dirigent-bench-unet: %s needs a value\n", a);
      return 2;
    } else if (!strcmp(a, "--size") && sscanf(v, "%dx%d", &width, &height) == 2) i++;
    else if (!strcmp(a, "--batch") && (batch = atoi(v)) > 0) i++;
    else if (!strcmp(a, "--steps") && (steps = atoi(v)) > 0) i++;
    else if (!strcmp(a, "--fusion") && (!strcmp(v, "compare") || !strcmp(v, "on") || !strcmp(v, "off"))) fusion = v, i++;
    else if (!strcmp(a, "--dtype") && (!strcmp(v, "f16") || !strcmp(v, "f32"))) dt = strcmp(v, "f16") ? DG_F32 : DG_F16, i++;
    else {
      fprintf(stderr, "usage: dirigent-bench-unet UNET.safetensors [--size WxH] [--batch N] [--steps N] [--dtype f16|f32] [--fusion compare|on|off]\n");
      return 2;
    }
  }
  if (!path || width % 8 || height % 8 || width < 8 || height < 8) {
    fprintf(stderr, "dirigent-bench-unet: needs a UNet file and a size in multiples of 8 pixels\n");
    return 2;
  }
  dg_test_init("bench_unet");
  const dg_device_info *di = dg_device_get_info(T.device);
  dg_weights *w;
  dg_model_info info;
  dg_model_config cfg = {0};
  dg_unet_heads heads;
  dg_unet *u = calloc(1, sizeof *u);
  if (!dg_bench_ok(dg_weights_open(path, &w), path) || !dg_bench_ok(dg_weights_detect(w, &info), path) ||
      !dg_bench_ok(dg_model_config_load_optional(path, w, &cfg), path) ||
      !dg_bench_ok(dg_unet_heads_read(&cfg, &info.unet, &heads), path))
    return 1;
  double t0 = dg_bench_now();
  dg_nn_src src = {w, T.arena, dt};
  if (!dg_bench_ok(dg_unet_load(&src, heads, u), "unet load")) return 1;
  double load_s = dg_bench_now() - t0;
  int64_t zs[4] = {batch, 4, height / 8, width / 8}, cs[3] = {batch, 77, info.unet.context_dim};
  dg_tensor z = dg_test_tensor(dt, 4, zs, -1, 1, NULL), ctx = dg_test_tensor(dt, 3, cs, -1, 1, NULL), eps;
  float *t = malloc((size_t)batch * sizeof *t);
  for (int i = 0; i < batch; i++) t[i] = 500;
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  uint64_t peak = 0;
  double first = 0, total = 0;
  bool compare = !strcmp(fusion, "compare");
  // compare: per mode (0 unfused, 1 fused) dispatches per forward, min and max seconds, the last eps
  uint64_t disp[2] = {0, 0};
  double lo[2] = {1e30, 1e30}, hi[2] = {0, 0};
  float *last[2] = {NULL, NULL};
  if (compare) steps *= 2;
  double *times[2] = {calloc((size_t)steps + 1, sizeof(double)), calloc((size_t)steps + 1, sizeof(double))};
  int nt[2] = {0, 0};
  for (int i = 0; i <= steps; i++) {
    int mode = compare ? i % 2 : mode_of(fusion);
    dg_nn_set_fusion(mode);
    dg_arena_mark m = dg_arena_get_mark(T.arena);
    uint64_t d0 = dg_stream_dispatch_count(T.stream);
    double s0 = dg_bench_now();
    if (!dg_bench_ok(dg_unet_forward(&nn, u, &z, t, &ctx, NULL, &eps), "unet forward") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    double s = dg_bench_now() - s0;
    disp[mode] = dg_stream_dispatch_count(T.stream) - d0;
    if (i > 0 && s < lo[mode]) lo[mode] = s;
    if (i > 0 && s > hi[mode]) hi[mode] = s;
    if (i > 0) times[mode][nt[mode]++] = s;
    if (compare && i >= steps - 1) { // the two modes must agree
      last[mode] = malloc((size_t)dg_tensor_numel(&eps) * sizeof(float));
      if (!last[mode] || !dg_bench_ok(dg_tensor_read_f32(&eps, last[mode]), "read eps")) return 1;
    }
    if (i == steps) { // random weights, but the numbers must still be numbers
      int64_t n = dg_tensor_numel(&eps), bad = 0;
      float *h = malloc((size_t)n * sizeof *h);
      if (!h || !dg_bench_ok(dg_tensor_read_f32(&eps, h), "read eps")) return 1;
      for (int64_t k = 0; k < n; k++) bad += !isfinite(h[k]);
      free(h);
      dg_check(bad == 0, "eps finite (%lld of %lld not)", (long long)bad, (long long)n);
    }
    if (i == 0) first = s;
    else total += s;
    uint64_t used = dg_arena_bytes_in_use(T.arena);
    if (used > peak) peak = used;
    dg_arena_release(T.arena, m);
  }
  double per = total / steps;
  if (compare) {
    double worst = 0;
    for (int64_t k = 0; k < dg_tensor_numel(&eps); k++) worst = fmax(worst, fabs(last[0][k] - last[1][k]));
    printf("unfused: %llu dispatches per forward, %.3f-%.3f s (median %.3f); fused: %llu dispatches, %.3f-%.3f s "
           "(median %.3f) (%d steps each, alternating); largest difference of eps %.2g\n",
           (unsigned long long)disp[0], lo[0], hi[0], median(times[0], nt[0]), (unsigned long long)disp[1], lo[1], hi[1],
           median(times[1], nt[1]), steps / 2, worst);
    free(last[0]);
    free(last[1]);
  } else {
    printf("fusion %s: %llu dispatches per forward\n", fusion, (unsigned long long)disp[mode_of(fusion)]);
  }
  printf("device: %s (%s), memory %s\n", di->name, di->driver, di->memory_path);
  printf("unet %s: %dx%d px (latent %lldx%lld), batch %d, %s: load %.2f s, first step %.3f s, "
         "%.4f s/step, %.2f it/s over %d steps, arena peak %.0f MiB\n",
         path, width, height, (long long)zs[3], (long long)zs[2], batch, dg_dtype_name(dt), load_s, first, per,
         1.0 / per, steps, (double)peak / 1048576.0);
  free(times[0]);
  free(times[1]);
  free(t);
  free(u);
  return dg_test_finish();
}
