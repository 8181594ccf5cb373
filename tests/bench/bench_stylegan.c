// `build/tests/bench/dirigent-bench-stylegan G.safetensors [--runs N] [--dtype f16|f32]`: seconds per image of
// the StyleGAN2 generator on the engine (mapping, then synthesis with the noise_const buffers; batch 1). The
// first run (kernel builds) is not counted. `python3 -m dgtrain.train_stylegan ... --export` or a random
// default-size generator (see docs/architecture.md) gives the weights. Run by hand; not a test.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_bench_util.h"
#include "dg_stylegan2.h"
#include "dg_test.h"

int main(int argc, char **argv) {
  const char *path = NULL;
  int runs = 5;
  dg_dtype dt = DG_F32;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-') path = a;
    else if (v && !strcmp(a, "--runs") && (runs = atoi(v)) > 0) i++;
    else if (v && !strcmp(a, "--dtype") && (!strcmp(v, "f16") || !strcmp(v, "f32"))) dt = strcmp(v, "f16") ? DG_F32 : DG_F16, i++;
    else {
      fprintf(stderr, "usage: dirigent-bench-stylegan G.safetensors [--runs N] [--dtype f16|f32]\n");
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: dirigent-bench-stylegan G.safetensors [--runs N] [--dtype f16|f32]\n");
    return 2;
  }
  dg_test_init("bench_stylegan");
  const dg_device_info *di = dg_device_get_info(T.device);
  dg_weights *w;
  dg_model_config cfg = {0};
  dg_stylegan2 *m = calloc(1, sizeof *m);
  if (!dg_bench_ok(dg_weights_open(path, &w), path) || !dg_bench_ok(dg_model_config_load_optional(path, w, &cfg), path))
    return 1;
  dg_nn_src src = {w, T.arena, dt};
  if (!dg_bench_ok(dg_stylegan2_load(&src, &cfg, m), "load")) return 1;
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  float *z = malloc((size_t)m->z_dim * sizeof *z);
  double first = 0, total = 0;
  for (int i = 0; i <= runs; i++) {
    for (int j = 0; j < m->z_dim; j++)
      z[j] = dg_test_normal();
    dg_arena_mark mk = dg_arena_get_mark(T.arena);
    dg_tensor wv, ws, img;
    double s0 = dg_bench_now();
    if (!dg_bench_ok(dg_stylegan2_mapping(&nn, m, z, 1, 0.7f, &wv), "mapping") ||
        !dg_bench_ok(dg_stylegan2_broadcast(&nn, m, &wv, &ws), "broadcast") ||
        !dg_bench_ok(dg_stylegan2_synthesis(&nn, m, &ws, NULL, DG_SG_NOISE_CONST, &img), "synthesis") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    double s = dg_bench_now() - s0;
    if (i == 0) first = s;
    else total += s;
    dg_arena_release(T.arena, mk);
  }
  printf("device: %s (%s), memory %s\n", di->name, di->driver, di->memory_path);
  printf("stylegan2 %s: %dx%d, %d ws, %s: first image %.3f s, %.3f s/image over %d runs\n", path, m->width, m->height,
         m->num_ws, dg_dtype_name(dt), first, total / runs, runs);
  free(z);
  free(m);
  dg_model_config_free(&cfg);
  dg_weights_close(w);
  return dg_test_finish();
}
