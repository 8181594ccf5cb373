// `dirigent-cli eval marks`: the evaluation of attention guidance (issue #18): plain sampling vs
// Attend-and-Excite vs Divide & Bind on prompt sets from the world's vocabulary (dg_eval_marks), judged by
// the evaluation segmenter and the contrastive text-image model of the model folder (dg_eval_models), with
// 95% bootstrap intervals over prompts and paired differences against plain sampling (docs/eval.md).
// With --out the report is rewritten after each prompt, and --resume goes on after the prompts it holds:
// the table (3 sets x 100+ prompts x 4 seeds x 3 modes) takes longer than one session.
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dg_assets.h"
#include "dg_cli.h"
#include "dg_eval_marks.h"
#include "dg_eval_metrics.h"
#include "dg_eval_models.h"
#include "dg_generate.h"
#include "dg_json_glib.h"
#include "dg_png.h"
#include "dg_settings.h"
#include "dg_world_index.h"

#define BOOT_RESAMPLES 1000
#define BOOT_SEED 18ull // issue #18
#define BOOT_LEVEL 0.95
#define GRID_ROWS 4 // prompts of each set in the sample grid
#define GRID_GAP 4  // pixels between its images

typedef struct options {
  const char *split, *data, *out, *images, *grid;
  bool sets[DG_EVAL_MARKS_SET_COUNT];
  dg_guidance_kind modes[3];
  int n_modes, count, seeds;
  bool resume;
  dg_cli_sampling s;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: dirigent-cli eval marks [options]\n\n"
          "  Attention guidance on prompt sets from the world's vocabulary (%d prompts each): each prompt x\n"
          "  seed x mode is generated, then judged by the evaluation segmenter (marked objects present, all\n"
          "  present, car colours bound to cars of their own) and CLIP (the prompt, the least similar object).\n"
          "  --set NAME          multi, colour, scene or all (default all)\n"
          "  --count N           the first N prompts of each set (default all %d)\n"
          "  --seeds K           seeds per prompt (default 4): prompt i, seed j uses S + K i + j\n"
          "  --modes LIST        comma-separated guidance modes (default none,attend-excite,divide-bind)\n"
          "  --data DIR          world dataset root: SPLIT/index.jsonl gives the car-colour centroids and\n"
          "                      the image size (default data/world)\n"
          "  --split NAME        dataset split (default test)\n"
          "  --model DIR         model folder with the generator and eval_segmenter + clip\n"
          "                      (default: the embedded assets/models)\n"
          "  --steps N           sampling steps (default 25)\n"
          "  --cfg X             classifier-free guidance scale (default 7.5)\n"
          "  --seed S            first seed (default 0)\n"
          "  --sampler ddim|plms (default ddim)\n"
          "  --out REPORT.json   also write the report as JSON (rewritten after each prompt)\n"
          "  --resume            go on after the prompts --out already holds (same options; --count may\n"
          "                      grow; a report not there yet starts afresh)\n"
          "  --images DIR        also write the images as SET-PROMPT-sSEED-MODE.png\n"
          "  --grid FILE.png     also write a sample grid: the first seed of the first %d prompts of\n"
          "                      each set, a row per prompt, a column per mode (with --resume, the\n"
          "                      resumed prompts' cells come from --images)\n"
          "  --f16               f16 weights and activations\n"
          "  --quiet             no progress line\n",
          DG_EVAL_MARKS_SET_SIZE, DG_EVAL_MARKS_SET_SIZE, GRID_ROWS);
}

static int parse_modes(const char *v, options *o) {
  o->n_modes = 0;
  gchar **parts = g_strsplit(v, ",", -1);
  int rc = -1;
  for (int i = 0; parts[i] && rc < 0; i++) {
    char *name = g_strstrip(parts[i]);
    dg_guidance_kind k;
    if (dg_guidance_parse(name, &k) != DG_OK || !*name) {
      fprintf(stderr, "eval marks: --modes '%s': expected none, attend-excite or divide-bind\n", name);
      rc = 2;
      break;
    }
    bool seen = false; // a repeated mode is run once
    for (int j = 0; j < o->n_modes; j++)
      seen |= o->modes[j] == k;
    if (!seen && o->n_modes < 3) o->modes[o->n_modes++] = k;
  }
  g_strfreev(parts);
  if (rc < 0 && !o->n_modes) {
    fprintf(stderr, "eval marks: --modes names no mode\n");
    rc = 2;
  }
  return rc;
}

static int parse(int argc, char **argv, options *o) {
  *o = (options){.split = "test",
                 .data = "data/world",
                 .seeds = 4,
                 .s = DG_CLI_SAMPLING_DEFAULTS,
                 .modes = {DG_GUIDANCE_NONE, DG_GUIDANCE_ATTEND_EXCITE, DG_GUIDANCE_DIVIDE_BIND},
                 .n_modes = 3,
                 .count = DG_EVAL_MARKS_SET_SIZE};
  for (int k = 0; k < DG_EVAL_MARKS_SET_COUNT; k++)
    o->sets[k] = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "marks")) continue;
    if (dg_cli_sampling_flag(a, &o->s)) continue;
    if (!strcmp(a, "--resume")) {
      o->resume = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "eval marks: %s needs a value (or is unknown)\n", a);
      return 2;
    }
    const char *v = argv[++i];
    int took = dg_cli_sampling_option("eval marks", a, v, &o->s);
    long n;
    if (took < 0) return 2;
    if (took) continue;
    if (!strcmp(a, "--split"))
      o->split = v;
    else if (!strcmp(a, "--data"))
      o->data = v;
    else if (!strcmp(a, "--out"))
      o->out = v;
    else if (!strcmp(a, "--images"))
      o->images = v;
    else if (!strcmp(a, "--grid"))
      o->grid = v;
    else if (!strcmp(a, "--count") && dg_cli_parse_long(v, 1, DG_EVAL_MARKS_SET_SIZE, &n))
      o->count = (int)n;
    else if (!strcmp(a, "--seeds") && dg_cli_parse_long(v, 1, 1000, &n))
      o->seeds = (int)n;
    else if (!strcmp(a, "--modes")) {
      int rc = parse_modes(v, o);
      if (rc >= 0) return rc;
    } else if (!strcmp(a, "--set")) {
      dg_eval_marks_set set;
      bool all = !strcmp(v, "all");
      if (!all && dg_eval_marks_set_parse(v, &set) != DG_OK) {
        fprintf(stderr, "eval marks: --set '%s': expected multi, colour, scene or all\n", v);
        return 2;
      }
      for (int k = 0; k < DG_EVAL_MARKS_SET_COUNT; k++)
        o->sets[k] = all || k == (int)set;
    } else {
      fprintf(stderr, "eval marks: bad option or value: %s %s (--count is 1 to %d)\n", a, v, DG_EVAL_MARKS_SET_SIZE);
      return 2;
    }
  }
  if (o->resume && !o->out) {
    fprintf(stderr, "eval marks: --resume needs --out REPORT.json, the report to go on from\n");
    return 2;
  }
  if (o->resume && o->grid && !o->images) {
    fprintf(stderr, "eval marks: --resume with --grid needs --images DIR (the resumed prompts' images are read there)\n");
    return 2;
  }
  return -1; // go on
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// ---- Measures ----

enum { M_PRESENT, M_ALL, M_BIND, M_FOUND, M_CLIP, M_CLIP_MIN, M_SECONDS, M_UPDATES, M_GUIDANCE_SECONDS, M_COUNT };
static const char *const m_keys[M_COUNT] = {"object_present", "all_present",      "colour_bound",
                                            "colour_found",   "clip_prompt",      "clip_min_object",
                                            "seconds",        "guidance_updates", "guidance_seconds"};
static const char *const m_labels[M_COUNT] = {
    "marked objects present", "all objects present",      "car colours bound",
    "car colours found",      "CLIP prompt similarity",   "CLIP min over objects",
    "seconds / image",        "guidance updates / image", "guidance seconds / image"};
static const bool m_percent[M_COUNT] = {true, true, true, true, false, false, false, false, false};

typedef struct image_result {
  uint64_t seed;
  double seconds;
  dg_guidance_stats stats;
  dg_eval_marks_judgement j;
  float clip, clip_min;
  double m[M_COUNT];
} image_result;

typedef struct summary {
  double mean, lo, hi;       // over prompts (each the mean over its seeds)
  double d_mean, d_lo, d_hi; // paired difference against plain sampling (NaN without it)
  int prompts;
} summary;

typedef struct set_run {
  dg_eval_marks_set set;
  int n;    // prompts asked for
  int done; // of them, those measured (the first `done`)
  dg_eval_marks_prompt *prompts;
  image_result *res; // [n][seeds][modes]
  summary sum[3][M_COUNT];
  int grid_row0; // its first row in the sample grid
} set_run;

typedef struct ctx {
  const options *o;
  dg_model_set *gen;
  dg_eval_models *ev;
  dg_eval_colours colours;
  int width, height, done, total;
  int resumed; // of done, the images read from the report being resumed
  double t0;
  bool tty;
  uint8_t *grid; // --grid: grid_w x grid_h RGB
  int grid_w, grid_h;
} ctx;

static image_result *at(const ctx *c, const set_run *r, int i, int j, int k) {
  return &r->res[((size_t)i * c->o->seeds + j) * c->o->n_modes + k];
}

static void progress(const ctx *c, const set_run *r, int i, int j, int k, int step, int total) {
  double el = now() - c->t0, done = c->done + (total ? (double)step / total : 0),
         left = done > c->resumed ? el / (done - c->resumed) * (c->total - done) : 0;
  fprintf(stderr, "\r\033[Keval marks %s %d/%d seed %d %s  step %d/%d  image %d/%d  %.0f s, %.0f s left",
          dg_eval_marks_set_names[r->set], i + 1, r->n, j + 1, dg_guidance_name(c->o->modes[k]), step, total,
          c->done + 1, c->total, el, left);
}

typedef struct step_user {
  const ctx *c;
  const set_run *r;
  int i, j, k;
} step_user;

static void on_step(void *user, int step, int total, const uint8_t *rgb, int w, int h) {
  (void)rgb, (void)w, (void)h;
  step_user *u = user;
  progress(u->c, u->r, u->i, u->j, u->k, step + 1, total);
}

// --images: DIR/SET-PROMPT-sSEED-MODE.png
static char *image_path(const ctx *c, const set_run *r, int i, int k, uint64_t seed) {
  char *name = g_strdup_printf("%s-%03d-s%llu-%s.png", dg_eval_marks_set_names[r->set], i, (unsigned long long)seed,
                               dg_guidance_name(c->o->modes[k]));
  char *path = g_build_filename(c->o->images, name, NULL);
  g_free(name);
  return path;
}

// The sample grid (first seed): prompt i's row, mode k's column.
static void grid_put(const ctx *c, const set_run *r, int i, int k, const uint8_t *rgb) {
  int w = c->width, h = c->height;
  if (!c->grid || i >= GRID_ROWS) return;
  for (int y = 0; y < h; y++)
    memcpy(c->grid + 3 * ((size_t)((r->grid_row0 + i) * (h + GRID_GAP) + y) * c->grid_w + (size_t)k * (w + GRID_GAP)),
           rgb + 3 * (size_t)y * w, 3 * (size_t)w);
}

// The grid's cells of prompts a resumed report holds, from the images the earlier run wrote to --images.
static dg_status grid_from_images(const ctx *c, const set_run *r) {
  for (int i = 0; i < r->done && i < GRID_ROWS; i++)
    for (int k = 0; k < c->o->n_modes; k++) {
      char *path = image_path(c, r, i, k, at(c, r, i, 0, k)->seed);
      int w = 0, h = 0;
      uint8_t *rgb = NULL;
      dg_status s = dg_png_read_rgb8(path, &w, &h, &rgb);
      if (s == DG_OK && (w != c->width || h != c->height))
        s = dg_fail(DG_ERR_FORMAT, "%s is %dx%d, the run's images %dx%d", path, w, h, c->width, c->height);
      if (s == DG_OK) grid_put(c, r, i, k, rgb);
      free(rgb);
      g_free(path);
      DG_TRY(s);
    }
  return DG_OK;
}

// The per-image measures from its judgement, CLIP similarities and timings.
static void fill_measures(const dg_eval_marks_prompt *p, image_result *res) {
  int present = 0;
  for (int q = 0; q < p->n_objects; q++)
    present += res->j.present[q];
  res->m[M_PRESENT] = p->n_objects ? (double)present / p->n_objects : NAN;
  res->m[M_ALL] = res->j.all_present;
  res->m[M_BIND] = res->j.binding < 0 ? NAN : res->j.binding;
  res->m[M_FOUND] = res->j.found < 0 ? NAN : res->j.found;
  res->m[M_CLIP] = res->clip;
  res->m[M_CLIP_MIN] = res->clip_min;
  res->m[M_SECONDS] = res->seconds;
  res->m[M_UPDATES] = res->stats.updates;
  res->m[M_GUIDANCE_SECONDS] = res->stats.seconds;
}

static dg_status run_prompt(ctx *c, set_run *r, int i, uint8_t *rgb, uint8_t *cls, float *emb_prompt, float *emb_obj,
                            float *emb) {
  const options *o = c->o;
  const dg_eval_marks_prompt *p = &r->prompts[i];
  int d = dg_eval_models_embed_dim(c->ev), w = c->width, h = c->height;
  dg_marks marks;
  DG_TRY(dg_generate_marks(c->gen, p->prompt, p->marks, &marks));
  DG_TRY(dg_eval_embed_text(c->ev, p->prompt, emb_prompt));
  for (int q = 0; q < p->n_objects; q++) {
    char text[64];
    dg_eval_marks_object_text(&p->objects[q], text, sizeof text);
    DG_TRY(dg_eval_embed_text(c->ev, text, emb_obj + (size_t)q * d));
  }
  for (int j = 0; j < o->seeds; j++)
    for (int k = 0; k < o->n_modes; k++) {
      image_result *res = at(c, r, i, j, k);
      step_user su = {c, r, i, j, k};
      res->seed = o->s.seed + (uint64_t)i * (uint64_t)o->seeds + (uint64_t)j;
      if (c->tty) progress(c, r, i, j, k, 0, o->s.steps);
      dg_generate_params gp = {.prompt = p->prompt,
                               .negative = "",
                               .width = w,
                               .height = h,
                               .steps = o->s.steps,
                               .cfg = (float)o->s.cfg,
                               .seed = res->seed,
                               .sampler = !strcmp(o->s.sampler, "plms") ? DG_SAMPLER_PLMS : DG_SAMPLER_DDIM,
                               .on_step = c->tty ? on_step : NULL,
                               .user = &su,
                               .guidance = o->modes[k],
                               .marks = &marks,
                               .guidance_stats = &res->stats};
      double t = now();
      DG_TRY(dg_generate(c->gen, &gp, rgb));
      res->seconds = now() - t;
      if (o->images) {
        char *path = image_path(c, r, i, k, res->seed);
        dg_status s = dg_png_write_rgb8(path, w, h, rgb, NULL);
        g_free(path);
        DG_TRY(s);
      }
      if (j == 0) grid_put(c, r, i, k, rgb);
      DG_TRY(dg_eval_segment(c->ev, rgb, w, h, cls));
      DG_TRY(dg_eval_marks_judge(p, &c->colours, rgb, cls, w, h, &res->j));
      DG_TRY(dg_eval_embed_image(c->ev, rgb, w, h, NULL, emb));
      res->clip = dg_eval_similarity(emb_prompt, emb, d);
      res->clip_min = INFINITY;
      for (int q = 0; q < p->n_objects; q++)
        res->clip_min = fminf(res->clip_min, dg_eval_similarity(emb_obj + (size_t)q * d, emb, d));
      fill_measures(p, res);
      c->done++;
    }
  return DG_OK;
}

// The mean over a prompt's seeds (NaN values left out; NaN when all are).
static double prompt_mean(const ctx *c, const set_run *r, int i, int k, int m) {
  double s = 0;
  int n = 0;
  for (int j = 0; j < c->o->seeds; j++) {
    double v = at(c, r, i, j, k)->m[m];
    if (!isnan(v)) s += v, n++;
  }
  return n ? s / n : NAN;
}

static dg_status summarise(const ctx *c, set_run *r) {
  const options *o = c->o;
  int none = -1;
  for (int k = 0; k < o->n_modes; k++)
    if (o->modes[k] == DG_GUIDANCE_NONE) none = k;
  int n = r->done;
  double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *dx = malloc((size_t)(n ? n : 1) * sizeof *dx);
  if (!x || !dx) {
    free(x), free(dx);
    return dg_fail(DG_ERR_OOM, "out of host memory");
  }
  dg_status s = DG_OK;
  for (int k = 0; s == DG_OK && k < o->n_modes; k++)
    for (int m = 0; s == DG_OK && m < M_COUNT; m++) {
      summary *u = &r->sum[k][m];
      u->prompts = 0;
      for (int i = 0; i < n; i++) {
        x[i] = prompt_mean(c, r, i, k, m);
        dx[i] = none >= 0 ? x[i] - prompt_mean(c, r, i, none, m) : NAN;
        u->prompts += !isnan(x[i]);
      }
      s = dg_eval_bootstrap(x, n, BOOT_RESAMPLES, BOOT_SEED, BOOT_LEVEL, &u->mean, &u->lo, &u->hi);
      if (s == DG_OK)
        s = dg_eval_bootstrap(dx, n, BOOT_RESAMPLES, BOOT_SEED, BOOT_LEVEL, &u->d_mean, &u->d_lo, &u->d_hi);
      if (k == none) u->d_mean = u->d_lo = u->d_hi = NAN;
    }
  free(x), free(dx);
  return s;
}

// ---- Output ----

static void cell(char *buf, size_t size, double v, double lo, double hi, bool percent, bool sign) {
  double f = percent ? 100 : 1;
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (percent)
    snprintf(buf, size, sign ? "%+.1f [%+.1f, %+.1f]" : "%.1f%% [%.1f, %.1f]", f * v, f * lo, f * hi);
  else
    snprintf(buf, size, sign ? "%+.4f [%+.4f, %+.4f]" : "%.4f [%.4f, %.4f]", v, lo, hi);
}

static void print_set(const ctx *c, const set_run *r, FILE *f) {
  const options *o = c->o;
  fprintf(f, "\nset %s: %d prompts x %d seeds, 95%% bootstrap intervals over prompts (%d resamples)\n",
          dg_eval_marks_set_names[r->set], r->done, o->seeds, BOOT_RESAMPLES);
  if (r->done < r->n) fprintf(f, "(%d of the %d prompts asked for: the run stopped early)\n", r->done, r->n);
  fprintf(f, "%-26s", "");
  for (int k = 0; k < o->n_modes; k++)
    fprintf(f, "%-30s", dg_guidance_name(o->modes[k]));
  fputc('\n', f);
  for (int m = 0; m < M_COUNT; m++) {
    if ((m == M_BIND || m == M_FOUND) && isnan(r->sum[0][m].mean)) continue; // no car colour in the set
    char label[64], buf[64];
    snprintf(label, sizeof label, "%s", m_labels[m]);
    if (m == M_BIND || m == M_FOUND) snprintf(label, sizeof label, "%s (%d pr.)", m_labels[m], r->sum[0][m].prompts);
    fprintf(f, "%-26s", label);
    for (int k = 0; k < o->n_modes; k++) {
      const summary *u = &r->sum[k][m];
      cell(buf, sizeof buf, u->mean, u->lo, u->hi, m_percent[m], false);
      fprintf(f, "%-30s", buf);
    }
    fputc('\n', f);
    bool diffs = false;
    for (int k = 0; k < o->n_modes; k++)
      diffs |= !isnan(r->sum[k][m].d_mean);
    if (!diffs || m >= M_SECONDS) continue;
    fprintf(f, "%-26s", m_percent[m] ? "  vs none (points)" : "  vs none");
    for (int k = 0; k < o->n_modes; k++) {
      const summary *u = &r->sum[k][m];
      cell(buf, sizeof buf, u->d_mean, u->d_lo, u->d_hi, m_percent[m], true);
      fprintf(f, "%-30s", isnan(u->d_mean) ? "" : buf);
    }
    fputc('\n', f);
  }
  fprintf(f, "%-26s", "steps / image");
  for (int k = 0; k < o->n_modes; k++)
    fprintf(f, "%-30d", o->s.steps);
  fputc('\n', f);
}

static void add_seed(JsonBuilder *b, const char *key, uint64_t seed) {
  char s[24];
  snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
  dg_json_add_string(b, key, s);
}

static void add_interval(JsonBuilder *b, const char *key, double mean, double lo, double hi) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  dg_json_add_number(b, "mean", mean);
  dg_json_add_number(b, "lo", lo);
  dg_json_add_number(b, "hi", hi);
  json_builder_end_object(b);
}

static void add_set(JsonBuilder *b, const ctx *c, const set_run *r) {
  const options *o = c->o;
  json_builder_set_member_name(b, dg_eval_marks_set_names[r->set]);
  json_builder_begin_object(b);
  dg_json_add_int(b, "prompts", r->done);
  dg_json_add_int(b, "images", (int64_t)r->done * o->seeds * o->n_modes);
  json_builder_set_member_name(b, "modes");
  json_builder_begin_object(b);
  for (int k = 0; k < o->n_modes; k++) {
    json_builder_set_member_name(b, dg_guidance_name(o->modes[k]));
    json_builder_begin_object(b);
    dg_json_add_int(b, "steps", o->s.steps);
    for (int m = 0; m < M_COUNT; m++) {
      const summary *u = &r->sum[k][m];
      json_builder_set_member_name(b, m_keys[m]);
      json_builder_begin_object(b);
      dg_json_add_number(b, "mean", u->mean);
      dg_json_add_number(b, "lo", u->lo);
      dg_json_add_number(b, "hi", u->hi);
      dg_json_add_int(b, "prompts", u->prompts);
      if (o->modes[k] != DG_GUIDANCE_NONE) add_interval(b, "vs_none", u->d_mean, u->d_lo, u->d_hi);
      json_builder_end_object(b);
    }
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  json_builder_set_member_name(b, "per_prompt");
  json_builder_begin_array(b);
  for (int i = 0; i < r->done; i++) {
    const dg_eval_marks_prompt *p = &r->prompts[i];
    json_builder_begin_object(b);
    dg_json_add_string(b, "prompt", p->prompt);
    dg_json_add_string(b, "marks", p->marks);
    json_builder_set_member_name(b, "objects");
    json_builder_begin_array(b);
    for (int q = 0; q < p->n_objects; q++) {
      json_builder_begin_object(b);
      dg_json_add_string(b, "noun", p->objects[q].noun);
      dg_json_add_string(b, "class", dg_world_classes[p->objects[q].cls].name);
      dg_json_add_string(b, "colour", p->objects[q].attr == DG_ATTR_NONE ? NULL : dg_world_attr_names[p->objects[q].attr]);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "images");
    json_builder_begin_array(b);
    for (int j = 0; j < o->seeds; j++)
      for (int k = 0; k < o->n_modes; k++) {
        const image_result *res = at(c, r, i, j, k);
        json_builder_begin_object(b);
        add_seed(b, "seed", res->seed);
        dg_json_add_string(b, "mode", dg_guidance_name(o->modes[k]));
        dg_json_add_number(b, "seconds", res->seconds);
        dg_json_add_int(b, "guidance_updates", res->stats.updates);
        dg_json_add_int(b, "refinement_updates", res->stats.refinement_updates);
        dg_json_add_number(b, "guidance_seconds", res->stats.seconds);
        json_builder_set_member_name(b, "present");
        json_builder_begin_array(b);
        for (int q = 0; q < p->n_objects; q++)
          json_builder_add_boolean_value(b, res->j.present[q]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "pixels");
        json_builder_begin_array(b);
        for (int q = 0; q < p->n_objects; q++)
          json_builder_add_int_value(b, res->j.pixels[q]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "all_present");
        json_builder_add_boolean_value(b, res->j.all_present);
        json_builder_set_member_name(b, "colour_bound");
        if (res->j.binding < 0)
          json_builder_add_null_value(b);
        else
          json_builder_add_boolean_value(b, res->j.binding == 1);
        json_builder_set_member_name(b, "colour_found");
        if (res->j.found < 0)
          json_builder_add_null_value(b);
        else
          json_builder_add_boolean_value(b, res->j.found == 1);
        dg_json_add_number(b, "clip_prompt", res->clip);
        dg_json_add_number(b, "clip_min_object", res->clip_min);
        json_builder_end_object(b);
      }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static dg_status write_json(const ctx *c, const set_run *runs, int n_runs, const char *model, double seconds,
                            const char *path) {
  const options *o = c->o;
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  dg_json_add_string(b, "task", "marks");
  dg_json_add_string(b, "data", o->data);
  dg_json_add_string(b, "split", o->split);
  dg_json_add_string(b, "model", model);
  dg_json_add_string(b, "sampler", !strcmp(o->s.sampler, "plms") ? "PLMS" : "DDIM");
  dg_json_add_int(b, "steps", o->s.steps);
  dg_json_add_number(b, "cfg", o->s.cfg);
  add_seed(b, "seed", o->s.seed);
  dg_json_add_int(b, "seeds", o->seeds);
  dg_json_add_int(b, "count", o->count);
  dg_json_add_int(b, "width", c->width);
  dg_json_add_int(b, "height", c->height);
  json_builder_set_member_name(b, "modes");
  json_builder_begin_array(b);
  for (int k = 0; k < o->n_modes; k++)
    json_builder_add_string_value(b, dg_guidance_name(o->modes[k]));
  json_builder_end_array(b);
  dg_json_add_number(b, "present_share", DG_EVAL_MARKS_PRESENT_SHARE);
  dg_json_add_int(b, "present_pixels", dg_eval_marks_present_pixels(c->width, c->height));
  json_builder_set_member_name(b, "bootstrap");
  json_builder_begin_object(b);
  dg_json_add_int(b, "resamples", BOOT_RESAMPLES);
  dg_json_add_int(b, "seed", (int64_t)BOOT_SEED);
  dg_json_add_number(b, "level", BOOT_LEVEL);
  json_builder_end_object(b);
  dg_json_add_number(b, "seconds", seconds);
  json_builder_set_member_name(b, "sets");
  json_builder_begin_object(b);
  for (int s = 0; s < n_runs; s++)
    add_set(b, c, &runs[s]);
  json_builder_end_object(b);
  json_builder_end_object(b);
  dg_status st = dg_json_glib_save(b, path);
  g_object_unref(b);
  return st;
}

// ---- Reading a report back (--resume) ----

// An image's results from the report's per_prompt entry (false when a member is missing or out of range).
static bool read_image(JsonObject *im, const dg_eval_marks_prompt *p, image_result *res) {
  double upd, ref;
  JsonArray *present = dg_json_member_array(im, "present"), *pixels = dg_json_member_array(im, "pixels");
  if (!dg_json_member_number(im, "seconds", &res->seconds) || !dg_json_member_number(im, "guidance_updates", &upd) ||
      !dg_json_member_number(im, "refinement_updates", &ref) ||
      !dg_json_member_number(im, "guidance_seconds", &res->stats.seconds) || !present || !pixels ||
      (int)json_array_get_length(present) != p->n_objects || (int)json_array_get_length(pixels) != p->n_objects)
    return false;
  double clip, clip_min;
  if (!dg_json_member_number(im, "clip_prompt", &clip) || !dg_json_member_number(im, "clip_min_object", &clip_min))
    return false;
  res->stats.updates = (int)upd, res->stats.refinement_updates = (int)ref;
  res->clip = (float)clip, res->clip_min = (float)clip_min;
  res->j.n_objects = p->n_objects;
  for (int q = 0; q < p->n_objects; q++) {
    JsonNode *a = json_array_get_element(present, (guint)q), *b = json_array_get_element(pixels, (guint)q);
    if (!JSON_NODE_HOLDS_VALUE(a) || json_node_get_value_type(a) != G_TYPE_BOOLEAN || !JSON_NODE_HOLDS_VALUE(b) ||
        json_node_get_value_type(b) != G_TYPE_INT64)
      return false;
    res->j.present[q] = json_node_get_boolean(a);
    res->j.pixels[q] = json_node_get_int(b);
  }
  const char *tri[3] = {"all_present", "colour_bound", "colour_found"};
  int v[3];
  for (int t = 0; t < 3; t++) {
    JsonNode *n = json_object_get_member(im, tri[t]);
    if (n && JSON_NODE_HOLDS_NULL(n) && t > 0)
      v[t] = -1; // none judged
    else if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN)
      v[t] = json_node_get_boolean(n);
    else
      return false;
  }
  res->j.all_present = v[0], res->j.binding = v[1], res->j.found = v[2];
  fill_measures(p, res);
  return true;
}

// The report's settings against this run's: NULL, or what differs.
static const char *settings_differ(JsonObject *r, const ctx *c, const char *model) {
  const options *o = c->o;
  double v;
  char seed[24];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->s.seed);
  const char *data = dg_json_member_string(r, "data"), *split = dg_json_member_string(r, "split"),
             *m = dg_json_member_string(r, "model"), *sampler = dg_json_member_string(r, "sampler"),
             *sd = dg_json_member_string(r, "seed");
  if (!data || strcmp(data, o->data) || !split || strcmp(split, o->split)) return "the dataset (data, split)";
  if (!m || strcmp(m, model)) return "the model folder (model)";
  if (!sampler || strcmp(sampler, !strcmp(o->s.sampler, "plms") ? "PLMS" : "DDIM")) return "the sampler (sampler)";
  if (!dg_json_member_number(r, "steps", &v) || v != o->s.steps) return "the steps (steps)";
  if (!dg_json_member_number(r, "cfg", &v) || fabs(v - o->s.cfg) > 1e-9) return "the guidance (cfg)";
  if (!sd || strcmp(sd, seed)) return "the first seed (seed)";
  if (!dg_json_member_number(r, "seeds", &v) || v != o->seeds) return "the seeds per prompt (seeds)";
  if (!dg_json_member_number(r, "width", &v) || v != c->width || !dg_json_member_number(r, "height", &v) ||
      v != c->height)
    return "the image size (width, height)";
  JsonArray *modes = dg_json_member_array(r, "modes");
  bool same = modes && (int)json_array_get_length(modes) == o->n_modes;
  for (int k = 0; same && k < o->n_modes; k++) {
    const char *name = dg_json_node_string(json_array_get_element(modes, (guint)k));
    same = name && !strcmp(name, dg_guidance_name(o->modes[k]));
  }
  return same ? NULL : "the modes (modes, in order)";
}

// The prompts a set's entry of the report holds, into r (r->done).
static dg_status read_set(const ctx *c, set_run *r, JsonObject *set, const char *path) {
  const char *name = dg_eval_marks_set_names[r->set];
  JsonArray *pp = dg_json_member_array(set, "per_prompt");
  if (!pp) return dg_fail(DG_ERR_FORMAT, "%s: set %s has no per_prompt", path, name);
  int n = (int)json_array_get_length(pp), per = c->o->seeds * c->o->n_modes;
  if (n > r->n)
    return dg_fail(DG_ERR_ARG, "%s holds %d prompts of set %s, more than --count %d", path, n, name, r->n);
  for (int i = 0; i < n; i++) {
    const dg_eval_marks_prompt *p = &r->prompts[i];
    JsonNode *pn = json_array_get_element(pp, (guint)i);
    JsonObject *po = JSON_NODE_HOLDS_OBJECT(pn) ? json_node_get_object(pn) : NULL;
    const char *text = po ? dg_json_member_string(po, "prompt") : NULL;
    if (!text || strcmp(text, p->prompt))
      return dg_fail(DG_ERR_ARG, "%s: set %s prompt %d is '%s', this build's is '%s'", path, name, i,
                     text ? text : "(none)", p->prompt);
    JsonArray *images = dg_json_member_array(po, "images");
    if (!images || (int)json_array_get_length(images) != per)
      return dg_fail(DG_ERR_FORMAT, "%s: set %s prompt %d: %d images expected", path, name, i, per);
    for (int j = 0; j < c->o->seeds; j++)
      for (int k = 0; k < c->o->n_modes; k++) {
        image_result *res = at(c, r, i, j, k);
        JsonNode *in = json_array_get_element(images, (guint)(j * c->o->n_modes + k));
        JsonObject *im = JSON_NODE_HOLDS_OBJECT(in) ? json_node_get_object(in) : NULL;
        const char *seed = im ? dg_json_member_string(im, "seed") : NULL, *mode = im ? dg_json_member_string(im, "mode") : NULL;
        res->seed = c->o->s.seed + (uint64_t)i * (uint64_t)c->o->seeds + (uint64_t)j;
        char want[24];
        snprintf(want, sizeof want, "%llu", (unsigned long long)res->seed);
        if (!seed || strcmp(seed, want) || !mode || strcmp(mode, dg_guidance_name(c->o->modes[k])) ||
            !read_image(im, p, res))
          return dg_fail(DG_ERR_FORMAT, "%s: set %s prompt %d, seed %s, %s: incomplete or not this run's image", path,
                         name, i, want, dg_guidance_name(c->o->modes[k]));
      }
  }
  r->done = n;
  return DG_OK;
}

// Fills runs[] with the prompts the report at `path` holds; *seconds: the time they took.
static dg_status read_report(ctx *c, set_run *runs, int n_runs, const char *model, const char *path,
                             double *seconds) {
  JsonParser *parser = json_parser_new();
  dg_status s;
  JsonNode *root = dg_json_glib_parse_file(parser, path, DG_JSON_MAX_SCENE, &s);
  JsonObject *r = s == DG_OK && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *task = r ? dg_json_member_string(r, "task") : NULL, *why;
  JsonNode *sets = r ? json_object_get_member(r, "sets") : NULL;
  if (s == DG_OK && (!task || strcmp(task, "marks") || !sets || !JSON_NODE_HOLDS_OBJECT(sets) ||
                     !dg_json_member_number(r, "seconds", seconds)))
    s = dg_fail(DG_ERR_FORMAT, "%s: not a report of `eval marks` (task, sets, seconds)", path);
  if (s == DG_OK && (why = settings_differ(r, c, model)))
    s = dg_fail(DG_ERR_ARG, "%s: %s differs from this run's: resume with the same options (or another --out)", path,
                why);
  if (s == DG_OK) { // every set it holds must be one this run asks for, or rewriting it would drop that set
    GList *names = json_object_get_members(json_node_get_object(sets));
    for (GList *l = names; l && s == DG_OK; l = l->next) {
      int k = 0;
      while (k < n_runs && strcmp(l->data, dg_eval_marks_set_names[runs[k].set]))
        k++;
      JsonNode *sn = json_object_get_member(json_node_get_object(sets), l->data);
      if (k == n_runs)
        s = dg_fail(DG_ERR_ARG, "%s holds set %s, which this run does not ask for (--set)", path, (char *)l->data);
      else if (!JSON_NODE_HOLDS_OBJECT(sn))
        s = dg_fail(DG_ERR_FORMAT, "%s: set %s is not an object", path, (char *)l->data);
      else
        s = read_set(c, &runs[k], json_node_get_object(sn), path);
    }
    g_list_free(names);
  }
  if (s != DG_OK)
    for (int k = 0; k < n_runs; k++)
      runs[k].done = 0;
  g_object_unref(parser);
  return s;
}

int dg_cli_eval_marks(int argc, char **argv) {
  options o;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  char *model = o.s.model ? g_strdup(o.s.model) : dg_assets_path("models");
  char *tokenizer = dg_assets_path("tokenizer"), *split_dir = g_build_filename(o.data, o.split, NULL);
  dg_world_index ix = {0};
  dg_device *dev = NULL;
  ctx c = {.o = &o};
  set_run runs[DG_EVAL_MARKS_SET_COUNT] = {0};
  int n_runs = 0;
  uint8_t *rgb = NULL, *cls = NULL;
  float *emb_prompt = NULL, *emb_obj = NULL, *emb = NULL;
  dg_status s = dg_world_index_load(split_dir, 0, &ix); // all of it: the colour centroids use every sample
  if (s == DG_OK && !ix.n) s = dg_fail(DG_ERR_ARG, "%s/index.jsonl has no sample", split_dir);
  char *text = g_build_filename(model, "text_encoder.safetensors", NULL);
  if (s == DG_OK && !g_file_test(text, G_FILE_TEST_IS_REGULAR))
    s = dg_fail(DG_ERR_IO, "no %s: not a Dirigent model folder (train one with tools/train/train_defaults.sh)", text);
  g_free(text);
  if (s == DG_OK && o.out) s = dg_settings_check_output("--out", o.out);
  if (s == DG_OK && o.images) s = dg_settings_check_output_dir("--images", o.images);
  if (s == DG_OK && o.grid) s = dg_settings_check_output("--grid", o.grid);
  if (s == DG_OK) c.width = ix.entries[0].width, c.height = ix.entries[0].height;
  if (s == DG_OK) s = dg_device_open(NULL, &dev);
  dg_model_options mo = {.default_tokenizer_dir = tokenizer, .dtype = o.s.f16 ? DG_F16 : DG_F32, .image_only = true};
  if (s == DG_OK) s = dg_settings_check_size(model, &mo, dev, c.width, c.height);
  if (s == DG_OK) s = dg_model_set_open(dev, model, &mo, &c.gen);
  if (s == DG_OK) s = dg_eval_models_open(dev, model, tokenizer, mo.dtype, &c.ev);
  if (s == DG_OK && dg_eval_models_classes(c.ev) != DG_WORLD_NUM_CLASSES)
    s = dg_fail(DG_ERR_FORMAT, "%s/eval_segmenter.safetensors has %d classes, the world %d", model,
                dg_eval_models_classes(c.ev), DG_WORLD_NUM_CLASSES);
  if (s == DG_OK) s = dg_eval_colours_from_dataset(&ix, &c.colours);
  if (s == DG_OK) {
    int d = dg_eval_models_embed_dim(c.ev);
    size_t n = (size_t)c.width * c.height;
    rgb = malloc(3 * n), cls = malloc(n);
    emb_prompt = malloc((size_t)d * sizeof(float)), emb = malloc((size_t)d * sizeof(float));
    emb_obj = malloc((size_t)d * DG_EVAL_MARKS_MAX_OBJECTS * sizeof(float));
    if (!rgb || !cls || !emb_prompt || !emb || !emb_obj) s = dg_fail(DG_ERR_OOM, "out of host memory");
  }
  for (int set = 0; s == DG_OK && set < DG_EVAL_MARKS_SET_COUNT; set++) {
    if (!o.sets[set]) continue;
    set_run *r = &runs[n_runs++];
    r->set = (dg_eval_marks_set)set;
    r->prompts = g_new0(dg_eval_marks_prompt, DG_EVAL_MARKS_SET_SIZE);
    r->n = dg_eval_marks_prompts(r->set, r->prompts);
    if (r->n > o.count) r->n = o.count;
    r->res = g_new0(image_result, (size_t)r->n * o.seeds * o.n_modes);
    c.total += r->n * o.seeds * o.n_modes;
    r->grid_row0 =
        n_runs > 1 ? runs[n_runs - 2].grid_row0 + (runs[n_runs - 2].n < GRID_ROWS ? runs[n_runs - 2].n : GRID_ROWS) : 0;
  }
  if (s == DG_OK && o.grid && n_runs) {
    const set_run *last = &runs[n_runs - 1];
    int rows = last->grid_row0 + (last->n < GRID_ROWS ? last->n : GRID_ROWS);
    c.grid_w = o.n_modes * (c.width + GRID_GAP) - GRID_GAP, c.grid_h = rows * (c.height + GRID_GAP) - GRID_GAP;
    c.grid = malloc((size_t)c.grid_w * c.grid_h * 3);
    if (c.grid)
      memset(c.grid, 255, (size_t)c.grid_w * c.grid_h * 3);
    else
      s = dg_fail(DG_ERR_OOM, "out of host memory");
  }
  double before = 0; // seconds the resumed report's prompts took
  if (s == DG_OK && o.resume && g_file_test(o.out, G_FILE_TEST_EXISTS)) {
    s = read_report(&c, runs, n_runs, model, o.out, &before);
    for (int k = 0; s == DG_OK && k < n_runs; k++) {
      c.done += runs[k].done * o.seeds * o.n_modes;
      if (c.grid) s = grid_from_images(&c, &runs[k]);
    }
    if (s == DG_OK && !o.s.quiet) fprintf(stderr, "eval marks: %d of %d images in %s, going on\n", c.done, c.total, o.out);
  }
  c.tty = !o.s.quiet && isatty(2);
  c.t0 = now();
  c.resumed = c.done;
  for (int k = 0; s == DG_OK && k < n_runs; k++)
    for (int i = runs[k].done; s == DG_OK && i < runs[k].n; i++) {
      s = run_prompt(&c, &runs[k], i, rgb, cls, emb_prompt, emb_obj, emb);
      if (s == DG_OK) runs[k].done = i + 1;
      if (s == DG_OK && o.out) { // the report so far, so a stopped run keeps what it measured
        for (int q = 0; s == DG_OK && q < n_runs; q++)
          s = summarise(&c, &runs[q]);
        if (s == DG_OK) s = write_json(&c, runs, n_runs, model, before + now() - c.t0, o.out);
      }
    }
  if (c.tty) fprintf(stderr, "\r\033[K");
  double seconds = before + now() - c.t0;
  for (int k = 0; s == DG_OK && k < n_runs; k++)
    s = summarise(&c, &runs[k]);
  if (s == DG_OK) {
    printf("eval marks: %s %d steps, CFG %g, %d seeds from %llu, %dx%d, model %s (%.1f s)\n",
           !strcmp(o.s.sampler, "plms") ? "PLMS" : "DDIM", o.s.steps, o.s.cfg, o.seeds, (unsigned long long)o.s.seed,
           c.width, c.height, model, seconds);
    printf("present: >= %lld pixels of the object's class (%.1f%% of the image; a repeated noun: that many in each of "
           "as many regions); colours judged on cars\n",
           (long long)dg_eval_marks_present_pixels(c.width, c.height), 100 * DG_EVAL_MARKS_PRESENT_SHARE);
    for (int k = 0; k < n_runs; k++)
      print_set(&c, &runs[k], stdout);
    if (o.out) s = write_json(&c, runs, n_runs, model, seconds, o.out);
    if (s == DG_OK && o.out) printf("wrote %s\n", o.out);
    if (s == DG_OK && c.grid) s = dg_png_write_rgb8(o.grid, c.grid_w, c.grid_h, c.grid, NULL);
    if (s == DG_OK && c.grid)
      printf("wrote %s (rows: the first %d prompts of each set, first seed; columns: the modes)\n", o.grid, GRID_ROWS);
  }
  if (s != DG_OK) fprintf(stderr, "dirigent-cli eval marks: %s\n", dg_last_error());
  for (int k = 0; k < n_runs; k++)
    g_free(runs[k].prompts), g_free(runs[k].res);
  free(rgb), free(cls), free(emb_prompt), free(emb_obj), free(emb), free(c.grid);
  dg_eval_models_close(c.ev);
  dg_model_set_close(c.gen);
  dg_device_close(dev);
  dg_world_index_free(&ix);
  g_free(model);
  g_free(tokenizer);
  g_free(split_dir);
  return s == DG_OK ? 0 : 1;
}
