// dirigent-bench-stylize: the stylize task's FDA (issue #20's floor: under 0.3 s for a 256x128 image on
// this CPU) and the radial power spectrum, through dg_stylize as the CLI and the editor call it (host
// conversion, FFTs on VkFFT, the amplitude swap, readback). The first call, which builds the FFT plan
// (VkFFT's shader generation and glslang compile), is timed apart; then the median and the range of N runs.
// With --encoder and --generator also the MNE method (issue #20's floor: under 3 s for 256x128), its first
// call loading the models and compiling the shaders.
// Usage: dirigent-bench-stylize [--runs N] [--size WxH] [--style-size WxH] [--encoder E --generator G]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_bench_util.h"
#include "dg_stylize.h"

static dg_media image(int w, int h, int seed) {
  dg_media m;
  if (dg_media_alloc(&m, 1, w, h, 3) != DG_OK) exit(1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        m.data[3 * (y * w + x) + c] = (uint8_t)(128 + 100 * sin(0.05 * (seed + 1) * (x + c * y)) + (x * y % 17));
  return m;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// Times `runs` calls after a first one; kind 0 FDA or MNE (p's method), 1 spectrum.
static int bench(dg_stylize *st, const char *what, int kind, const dg_media *c, const dg_media *s, int runs,
                 const dg_stylize_params *pp) {
  dg_stylize_params p = *pp;
  double *t = calloc((size_t)runs + 1, sizeof *t);
  for (int i = 0; i <= runs; i++) {
    dg_media out = {0};
    dg_spectrum sp = {0};
    double t0 = dg_bench_now();
    dg_status r = kind == 0 ? dg_stylize_run(st, c, s, &p, &out) : dg_stylize_spectrum(st, c, false, &sp);
    t[i] = dg_bench_now() - t0;
    dg_media_clear(&out);
    dg_spectrum_clear(&sp);
    if (r != DG_OK) {
      fprintf(stderr, "dirigent-bench-stylize: %s\n", dg_last_error());
      free(t);
      return 1;
    }
  }
  qsort(t + 1, (size_t)runs, sizeof *t, cmp);
  printf("%-34s first call %7.3f s (%s); median of %d %7.4f s (min %.4f, max %.4f)\n", what, t[0],
         p.method == DG_STYLIZE_MNE && kind == 0 ? "models loaded" : "FFT plan built", runs,
         t[1 + runs / 2], t[1], t[runs]);
  free(t);
  return 0;
}

int main(int argc, char **argv) {
  int runs = 9, w = 256, h = 128, sw = 0, sh = 0;
  dg_stylize_params p = {.method = DG_STYLIZE_FDA, .strength = DG_STYLIZE_DEFAULT_STRENGTH,
                         .beta = DG_STYLIZE_DEFAULT_BETA};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) sscanf(argv[i + 1], "%dx%d", &w, &h);
    else if (!strcmp(argv[i], "--style-size")) sscanf(argv[i + 1], "%dx%d", &sw, &sh);
    else if (!strcmp(argv[i], "--encoder")) p.encoder = argv[i + 1];
    else if (!strcmp(argv[i], "--generator")) p.generator = argv[i + 1];
    else {
      fprintf(stderr, "usage: dirigent-bench-stylize [--runs N] [--size WxH] [--style-size WxH] "
                      "[--encoder E --generator G]\n");
      return 2;
    }
  }
  if (runs < 1 || w < 2 || h < 2) return 2;
  if (!sw || !sh) sw = w, sh = h;
  dg_device *dev;
  dg_stylize *st;
  if (dg_device_open(NULL, &dev) || dg_stylize_create(dev, &st)) {
    fprintf(stderr, "dirigent-bench-stylize: %s\n", dg_last_error());
    return 1;
  }
  printf("device: %s (%s)\n", dg_device_get_info(dev)->name, dg_device_get_info(dev)->driver);
  dg_media c = image(w, h, 0), s = image(sw, sh, 1);
  char what[96];
  snprintf(what, sizeof what, "fda %dx%d, style %dx%d", w, h, sw, sh);
  int rc = bench(st, what, 0, &c, &s, runs, &p);
  snprintf(what, sizeof what, "power spectrum %dx%d", w, h);
  if (!rc) rc = bench(st, what, 1, &c, &s, runs, &p);
  if (!rc && p.encoder && p.generator) {
    p.method = DG_STYLIZE_MNE;
    snprintf(what, sizeof what, "mne %dx%d, style %dx%d", w, h, sw, sh);
    rc = bench(st, what, 0, &c, &s, runs, &p);
  }
  dg_media_clear(&c);
  dg_media_clear(&s);
  dg_stylize_destroy(st);
  dg_device_close(dev);
  return rc;
}
