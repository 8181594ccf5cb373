// world-bench: throughput of the procedural world on one core: scene generation + rendering, and PNG
// encoding of the image and label map, at 256x128, in thread CPU time. Usage: world-bench [N] [LEVEL].
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dg_png.h"
#include "dg_world.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);  // CPU time: "per core", and fair on a busy machine
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 400, level = argc > 2 ? atoi(argv[2]) : 1, w = 256, h = 128;
  if (n < 1 || level < 1 || level > 9) {
    fprintf(stderr, "usage: world-bench [N >= 1] [deflate level 1..9]\n");
    return 2;
  }
  uint8_t *rgb = malloc((size_t)w * h * 3), *lab = malloc((size_t)w * h);
  dg_world_scene *s = malloc(sizeof *s);
  char dir[] = "/tmp/world-bench-XXXXXX", img[64], labp[64];
  if (!mkdtemp(dir)) return 1;
  snprintf(img, sizeof img, "%s/i.png", dir);
  snprintf(labp, sizeof labp, "%s/l.png", dir);
  dg_png_write_opts o = {.level = level};
  double t_render = 0, t_png = 0;
  long bytes = 0;
  for (int i = 0; i < n; i++) {
    double t0 = now();
    dg_world_generate((uint64_t)i, w, h, dg_world_style_random((uint64_t)i), s);
    dg_world_render(s, rgb, lab, NULL);
    double t1 = now();
    if (dg_png_write_rgb8(img, w, h, rgb, &o) != DG_OK ||
        dg_png_write_label(labp, w, h, lab, dg_world_palette(), &o) != DG_OK) {
      fprintf(stderr, "world-bench: %s\n", dg_last_error());
      return 1;
    }
    double t2 = now();
    t_render += t1 - t0;
    t_png += t2 - t1;
    FILE *f = fopen(img, "rb");
    fseek(f, 0, SEEK_END);
    bytes += ftell(f);
    fclose(f);
  }
  remove(img);
  remove(labp);
  rmdir(dir);
  printf("world-bench: %d images %dx%d on one core\n", n, w, h);
  printf("  generate + render: %.2f ms/image\n", 1e3 * t_render / n);
  printf("  PNG image + label (deflate level %d): %.2f ms/image, image PNG %.1f KiB average\n", level, 1e3 * t_png / n,
         bytes / 1024.0 / n);
  printf("  total: %.1f images/s per core\n", n / (t_render + t_png));
  free(rgb);
  free(lab);
  free(s);
  return 0;
}
