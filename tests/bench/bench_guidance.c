// dirigent-bench-guidance: what attention guidance costs. Generates one prompt with its marks plain,
// with Attend-and-Excite and with Divide & Bind, alternating the modes over the runs so that drift in the
// machine's load hits all alike, and prints each mode's median seconds, its ratio to plain and the
// guidance's updates. Default: the embedded model, DDIM 25 steps (guidance before the first 12
// evaluations, the methods' 25 of 50), CFG 7.5, 256x128. A warm-up run builds the kernels, not counted.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_generate.h"
#include "dg_png.h"

typedef struct options {
  const char *model, *prompt, *marks, *images;
  int runs, steps;
  uint64_t seed;
} options;

static void usage(FILE *f) {
  fprintf(f, "usage: dirigent-bench-guidance [--model DIR|FILE] [--runs N] [--steps N] [--seed S] [--prompt TEXT]\n"
             "                               [--marks TEXT] [--images DIR]\n"
             "  --marks TEXT  the marked words (default \"red:car, blue:car#2\" for the default prompt\n"
             "                \"a red car and a blue car on a street\")\n"
             "  --images DIR  write each mode's last image as DIR/MODE.png\n");
}

static bool parse(int argc, char **argv, options *o) {
  *o = (options){.prompt = "a red car and a blue car on a street", .marks = "red:car, blue:car#2", .runs = 3,
                 .steps = 25, .seed = 7};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help")) usage(stdout), exit(0);
    if (!v) return fprintf(stderr, "dirigent-bench-guidance: %s needs a value\n", a), false;
    if (!strcmp(a, "--model")) o->model = v;
    else if (!strcmp(a, "--prompt")) o->prompt = v;
    else if (!strcmp(a, "--marks")) o->marks = v;
    else if (!strcmp(a, "--images")) o->images = v;
    else if (!strcmp(a, "--runs")) o->runs = atoi(v);
    else if (!strcmp(a, "--steps")) o->steps = atoi(v);
    else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
    else return fprintf(stderr, "dirigent-bench-guidance: unknown option %s\n", a), false;
    i++;
  }
  return o->runs >= 1 && o->steps >= 1;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  options o;
  if (!parse(argc, argv, &o)) return usage(stderr), 2;
  char *model = o.model ? g_strdup(o.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer");
  dg_device *dev = NULL;
  dg_model_set *m = NULL;
  dg_model_options mo = {.default_tokenizer_dir = tokenizer, .dtype = DG_F32};
  dg_device_options dopt = {0};
  dg_marks marks;
  dg_status s = dg_device_open(&dopt, &dev);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &m);
  if (s == DG_OK) s = dg_generate_marks(m, o.prompt, o.marks, &marks);
  if (s != DG_OK) return fprintf(stderr, "dirigent-bench-guidance: %s\n", dg_last_error()), 1;
  int w = 256, h = 128;
  uint8_t *rgb = malloc((size_t)w * h * 3);
  enum { MODES = 3 };
  double t[MODES][64];
  dg_guidance_stats stats[MODES] = {0};
  int runs = o.runs > 64 ? 64 : o.runs;
  printf("model %s, \"%s\", marks \"%s\", DDIM %d steps, CFG 7.5, %dx%d, seed %llu, %d runs each\n", model, o.prompt,
         o.marks, o.steps, w, h, (unsigned long long)o.seed, runs);
  for (int r = -1; r < runs && s == DG_OK; r++)
    for (int k = 0; k < MODES && s == DG_OK; k++) {
      int mode = r < 0 ? 2 : (k + (r < 0 ? 0 : r)) % MODES; // rotate the order
      dg_generate_params p = {.prompt = o.prompt, .negative = "", .width = w, .height = h, .steps = o.steps,
                              .cfg = 7.5f, .seed = o.seed, .sampler = DG_SAMPLER_DDIM, .guidance = mode,
                              .marks = &marks, .guidance_stats = &stats[mode]};
      gint64 t0 = g_get_monotonic_time();
      s = dg_generate(m, &p, rgb);
      if (r >= 0) t[mode][r] = (double)(g_get_monotonic_time() - t0) / 1e6;
      if (s == DG_OK && o.images && r == runs - 1) {
        char *path = g_strdup_printf("%s/%s.png", o.images, dg_guidance_name(mode));
        s = dg_png_write_rgb8(path, w, h, rgb, NULL);
        g_free(path);
      }
      if (r < 0) break; // one warm-up run
    }
  if (s != DG_OK) return fprintf(stderr, "dirigent-bench-guidance: %s\n", dg_last_error()), 1;
  double plain = 0;
  for (int k = 0; k < MODES; k++) {
    qsort(t[k], (size_t)runs, sizeof **t, by_value);
    double med = runs % 2 ? t[k][runs / 2] : 0.5 * (t[k][runs / 2 - 1] + t[k][runs / 2]);
    if (k == 0) plain = med;
    printf("%-14s median %7.3f s  min %7.3f s  x%.2f of plain", dg_guidance_name(k), med, t[k][0], med / plain);
    if (k) printf("  (%d updates, %d of them refinement, %.3f s in the guidance, last indicator %.4f)", stats[k].updates,
                  stats[k].refinement_updates, stats[k].seconds, stats[k].last_indicator);
    printf("\n");
  }
  free(rgb);
  dg_model_set_close(m);
  dg_device_close(dev);
  g_free(model), g_free(tokenizer);
  return 0;
}
