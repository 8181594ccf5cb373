// `build/tests/bench/dirigent-bench-vae VAE.safetensors [--size WxH] [--steps N] [--dtype f16|f32]`: seconds
// per VAE decode of a random latent for an image of WxH (default 256x128), alternately without and with
// the fused epilogues (dg_nn_set_fusion) in one process: dispatches per decode, the range of seconds,
// and the largest difference between the two images. The first decode of each (kernel builds) is not
// counted. Run by hand; not a test.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_bench_util.h"
#include "dg_test.h"
#include "dg_vae.h"

int main(int argc, char **argv) {
  const char *path = NULL;
  int width = 256, height = 128, steps = 5;
  dg_dtype dt = DG_F32;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-') path = a;
    else if (v && !strcmp(a, "--size") && sscanf(v, "%dx%d", &width, &height) == 2) i++;
    else if (v && !strcmp(a, "--steps") && (steps = atoi(v)) > 0) i++;
    else if (v && !strcmp(a, "--dtype") && (!strcmp(v, "f16") || !strcmp(v, "f32"))) dt = strcmp(v, "f16") ? DG_F32 : DG_F16, i++;
    else {
      fprintf(stderr, "usage: dirigent-bench-vae VAE.safetensors [--size WxH] [--steps N] [--dtype f16|f32]\n");
      return 2;
    }
  }
  if (!path || width % 8 || height % 8 || width < 8 || height < 8) {
    fprintf(stderr, "dirigent-bench-vae: needs a VAE file and a size in multiples of 8 pixels\n");
    return 2;
  }
  dg_test_init("bench_vae");
  dg_weights *w;
  dg_vae *v = calloc(1, sizeof *v);
  dg_nn_src src = {NULL, T.arena, dt};
  if (!dg_bench_ok(dg_weights_open(path, &w), path)) return 1;
  src.w = w;
  if (!dg_bench_ok(dg_vae_load(&src, v), "vae load")) return 1;
  int64_t f = 1 << (v->cfg.num_levels - 1);
  int64_t zs[4] = {1, v->cfg.embed_dim, height / f, width / f};
  dg_tensor z = dg_test_tensor(dt, 4, zs, -1, 1, NULL), img;
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  uint64_t disp[2] = {0, 0};
  double lo[2] = {1e30, 1e30}, hi[2] = {0, 0};
  float *last[2] = {NULL, NULL};
  int64_t n = 0;
  for (int i = 0; i < 2 * (steps + 1); i++) {
    int mode = i % 2;
    dg_nn_set_fusion(mode);
    dg_arena_mark m = dg_arena_get_mark(T.arena);
    uint64_t d0 = dg_stream_dispatch_count(T.stream);
    double s0 = dg_bench_now();
    if (!dg_bench_ok(dg_vae_decode(&nn, v, &z, &img), "vae decode") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    double s = dg_bench_now() - s0;
    disp[mode] = dg_stream_dispatch_count(T.stream) - d0;
    if (i >= 2 && s < lo[mode]) lo[mode] = s;
    if (i >= 2 && s > hi[mode]) hi[mode] = s;
    if (i >= 2 * steps) {
      n = dg_tensor_numel(&img);
      last[mode] = malloc((size_t)n * sizeof(float));
      if (!last[mode] || !dg_bench_ok(dg_tensor_read_f32(&img, last[mode]), "read image")) return 1;
    }
    dg_arena_release(T.arena, m);
  }
  double worst = 0;
  for (int64_t k = 0; k < n; k++) worst = fmax(worst, fabs(last[0][k] - last[1][k]));
  dg_check(worst < (dt == DG_F16 ? 0.05 : 1e-3), "fused and unfused decodes agree (largest difference %.2g)", worst);
  printf("vae %s: decode %dx%d px, %s: unfused %llu dispatches, %.3f-%.3f s; fused %llu dispatches, %.3f-%.3f s "
         "(%d decodes each, alternating); largest difference %.2g\n",
         path, width, height, dg_dtype_name(dt), (unsigned long long)disp[0], lo[0], hi[0], (unsigned long long)disp[1],
         lo[1], hi[1], steps, worst);
  free(last[0]);
  free(last[1]);
  free(v);
  return dg_test_finish();
}
