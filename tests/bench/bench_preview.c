// dirigent-bench-preview: what the editor's live preview costs. Generates the same image N times with
// the per-step preview and N times without, through the editor's own path (app/dg_runner
// behind a dg_job whose mailbox is polled at 60 Hz, as the editor's frame clock does), alternating the
// order so that drift in the machine's load hits both sides alike, and prints both times and the ratio.
// The model is loaded and the kernels built by a warm-up run that is not counted.
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_job.h"
#include "dg_model_choice.h"
#include "dg_runner.h"
#include "dg_world.h"

typedef struct options {
  const char *model, *prompt;
  int runs, steps, width, height;
  bool layout;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-bench-preview [--model DIR|FILE] [--runs N] [--steps N] [--size WxH] [--prompt TEXT]\n"
          "                              [--no-layout]\n"
          "Generation time with and without the per-step preview callback, through the editor's job path.\n"
          "  --model       model folder or checkpoint (default: DIRIGENT_MODEL, else the embedded assets/models,\n"
          "                else the tiny test model %s)\n"
          "  --runs N      timed runs each way (default 5)\n"
          "  --steps N     sampling steps (default 20)\n"
          "  --size WxH    image size (default 256x128)\n"
          "  --no-layout   text only (default: a random world layout drives the layout ControlNet)\n",
          DG_BENCH_TINY_MODEL);
}

static bool parse(int argc, char **argv, options *o) {
  *o = (options){.prompt = "a red car on a street at night", .runs = 5, .steps = 20, .width = 256, .height = 128,
                 .layout = true};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = strcmp(a, "--no-layout") && strcmp(a, "--help");
    if (takes && !v) {
      fprintf(stderr, "dirigent-bench-preview: %s needs a value\n", a);
      return false;
    }
    if (!strcmp(a, "--help")) usage(stdout), exit(0);
    else if (!strcmp(a, "--no-layout")) o->layout = false;
    else if (!strcmp(a, "--model")) o->model = v;
    else if (!strcmp(a, "--prompt")) o->prompt = v;
    else if (!strcmp(a, "--runs")) o->runs = atoi(v);
    else if (!strcmp(a, "--steps")) o->steps = atoi(v);
    else if (!strcmp(a, "--size")) {
      if (sscanf(v, "%dx%d", &o->width, &o->height) != 2) o->width = 0;
    } else {
      fprintf(stderr, "dirigent-bench-preview: unknown option %s\n", a);
      return false;
    }
    i += takes;
  }
  if (o->runs < 1 || o->steps < 1 || o->width < 16 || o->height < 16) {
    fprintf(stderr, "dirigent-bench-preview: runs and steps must be >= 1, sizes >= 16\n");
    return false;
  }
  return true;
}

typedef struct run {
  double seconds;
  int previews; // mailbox reads that carried a preview image
  uint8_t *rgba;
} run;

// One generation through a job, polled like the editor polls it; false (message printed) on failure.
static bool generate(dg_runner *runner, const dg_document *doc, bool previews, run *out) {
  dg_runner_set_previews(runner, previews);
  dg_status st;
  gint64 t0 = g_get_monotonic_time();
  dg_job *job = dg_job_start(doc, dg_runner_run, runner, 0, &st);
  if (!job) {
    fprintf(stderr, "dirigent-bench-preview: %s\n", dg_last_error());
    return false;
  }
  out->previews = 0;
  for (;;) {
    dg_job_update u;
    if (dg_job_poll(job, &u)) {
      out->previews += u.preview != NULL;
      dg_job_update_clear(&u);
    }
    if (dg_job_state_get(job) != DG_JOB_RUNNING) break;
    g_usleep(16667);
  }
  dg_job_state state = dg_job_wait(job);
  out->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
  dg_result r = {0};
  bool ok = state == DG_JOB_DONE && dg_job_take_result(job, &r);
  if (!ok) fprintf(stderr, "dirigent-bench-preview: generation failed: %s\n", dg_job_error(job));
  out->rgba = r.rgba;
  r.rgba = NULL;
  dg_result_clear(&r);
  dg_job_free(job);
  return ok;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void summary(const char *what, const double *t, int n, double *median, double *min) {
  double sorted[n], sum = 0;
  memcpy(sorted, t, sizeof sorted);
  qsort(sorted, (size_t)n, sizeof *sorted, by_value);
  for (int i = 0; i < n; i++)
    sum += t[i];
  *median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  *min = sorted[0];
  printf("%-17s median %8.3f s   mean %8.3f s   min %8.3f s   max %8.3f s\n", what, *median, sum / n, sorted[0],
         sorted[n - 1]);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); // progress lines as they come, also into a pipe
  options o;
  if (!parse(argc, argv, &o)) {
    usage(stderr);
    return 2;
  }
  char *model = o.model ? g_strdup(o.model) : dg_model_default_path();
  if (!model) model = g_strdup(DG_BENCH_TINY_MODEL);
  char kind[512];
  if (dg_model_choice_check(model, kind, sizeof kind) != DG_OK) {
    fprintf(stderr, "dirigent-bench-preview: %s\n", dg_last_error());
    return 1;
  }
  char *tok = dg_assets_path("tokenizer"), *pal = dg_assets_path("palettes/world.json");
  dg_runner *runner = dg_runner_new(tok, pal);
  dg_document *doc = dg_document_new(o.height, o.width);
  if (!runner || !doc) {
    fprintf(stderr, "dirigent-bench-preview: %s\n", dg_last_error());
    return 1;
  }
  dg_document_set_text(doc, DG_FIELD_PROMPT, o.prompt, false);
  dg_document_set_text(doc, DG_FIELD_MODEL, model, false);
  dg_document_set_steps(doc, o.steps);
  dg_document_set_seed_random(doc, false);
  dg_document_set_seed(doc, 1234);
  uint8_t *layout = malloc((size_t)o.width * o.height);
  if (o.layout && dg_world_random_labels(7, o.width, o.height, layout) == DG_OK)
    dg_document_set_layout(doc, layout, o.height, o.width);
  free(layout);
  printf("model: %s (%s)\n%dx%d, %d steps, %s, %d runs each way, mailbox polled at 60 Hz\n", model, kind, o.width,
         o.height, o.steps, o.layout ? "random world layout" : "no layout", o.runs);

  run warm;
  if (!generate(runner, doc, true, &warm)) return 1;
  printf("warm-up (loads the model, builds kernels): %.3f s\n", warm.seconds);
  double with[o.runs], without[o.runs];
  int previews = 0;
  bool identical = true;
  for (int i = 0; i < o.runs; i++)
    for (int k = 0; k < 2; k++) {
      bool on = (i + k) % 2 == 0; // with, without; then without, with; ...
      run r;
      if (!generate(runner, doc, on, &r)) return 1;
      (on ? with : without)[i] = r.seconds;
      if (on) previews += r.previews;
      else if (r.previews) fprintf(stderr, "dirigent-bench-preview: a preview arrived with previews off\n");
      identical &= !memcmp(r.rgba, warm.rgba, (size_t)o.width * o.height * 4);
      free(r.rgba);
      printf("run %d %-8s %8.3f s\n", i + 1, on ? "preview" : "none", r.seconds);
    }
  double mw, mo, nw, no;
  summary("with preview", with, o.runs, &mw, &nw);
  summary("without preview", without, o.runs, &mo, &no);
  printf("previews shown per run: %.1f of %d steps\n", (double)previews / o.runs, o.steps);
  printf("images identical with and without preview: %s\n", identical ? "yes" : "NO");
  printf("ratio with / without: medians %.3f (%+.1f%%), minimums %.3f (%+.1f%%; least disturbed by other load)\n",
         mw / mo, 100 * (mw / mo - 1), nw / no, 100 * (nw / no - 1));
  free(warm.rgba);
  dg_document_free(doc);
  dg_runner_free(runner);
  g_free(tok), g_free(pal), g_free(model);
  return identical ? 0 : 1;
}
