// dirigent-bench: per-op throughput on this device against PyTorch on the same CPU.
// Usage: dirigent-bench [--no-torch] [FAMILY...]   (families: elementwise ...)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_ops.h"

typedef struct family {
  const char *name;
  void (*run)(dg_bench *b);
} family;

static const family families[] = {
    {"elementwise", bench_elementwise},
    {"attention", bench_attention},
    {"norm", bench_norm},
    {"matmul", bench_matmul},
    {"conv", bench_conv},
};

int main(int argc, char **argv) {
  dg_bench b = {.torch = true, .peak_gflops = getenv("DG_PEAK_GFLOPS") ? atof(getenv("DG_PEAK_GFLOPS")) : 190.0};
  int first = 1;
  if (argc > 1 && !strcmp(argv[1], "--no-torch")) {
    b.torch = false;
    first = 2;
  }
  if (dg_device_open(NULL, &b.device) || dg_arena_create(b.device, 0, &b.arena) ||
      dg_stream_create(b.device, 0, &b.stream)) {
    fprintf(stderr, "dirigent-bench: %s\n", dg_last_error());
    return 1;
  }
  const dg_device_info *info = dg_device_get_info(b.device);
  printf("device: %s (%s); peak assumed %.0f GFLOP/s; PyTorch comparison %s\n", info->name, info->driver,
         b.peak_gflops, b.torch ? "on" : "off");
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    bool wanted = argc <= first;
    for (int k = first; k < argc; k++) wanted |= !strcmp(argv[k], families[i].name);
    if (!wanted) continue;
    families[i].run(&b);
    dg_arena_release(b.arena, (dg_arena_mark){0, 0});
  }
  dg_stream_destroy(b.stream);
  dg_arena_destroy(b.arena);
  dg_device_close(b.device);
  return 0;
}
