#include "dg_eval_video.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_eval_metrics.h"
#include "dg_eval_video_metrics.h"
#include "dg_file.h"
#include "dg_json_glib.h"
#include "dg_png.h"
#include "dg_world.h"

const char *const dg_eval_video_variant_names[DG_EVAL_VIDEO_VARIANTS] = {"base", "vsp", "tar", "vstar"};

dg_status dg_eval_video_variant_parse(const char *name, dg_eval_video_variant *out) {
  for (int v = 0; v < DG_EVAL_VIDEO_VARIANTS; v++)
    if (name && !strcmp(name, dg_eval_video_variant_names[v])) return *out = (dg_eval_video_variant)v, DG_OK;
  return dg_fail(DG_ERR_ARG, "--variant '%s': base, vsp, tar or vstar", name ? name : "");
}

// ---- the dataset ----------------------------------------------------------------------------------

static bool member_int(JsonObject *o, const char *key, int64_t lo, int64_t hi, int *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) return false;
  int64_t v = json_node_get_int(n);
  return v >= lo && v <= hi ? (*out = (int)v, true) : false;
}

// One index line into t; the reason when a field is missing or out of range.
static const char *read_timeline(JsonObject *o, const char *dir, dg_eval_video_timeline *t) {
  const char *id = dg_json_member_string(o, "id"), *caption = dg_json_member_string(o, "caption");
  const char *transition = dg_json_member_string(o, "transition");
  JsonArray *images = dg_json_member_array(o, "frame_images"), *stages = dg_json_member_array(o, "stages");
  if (!id || !caption || !images || !stages)
    return "id, caption, frame_images or stages missing (not a video dataset?)";
  if (!member_int(o, "width", 1, 16384, &t->width) || !member_int(o, "height", 1, 16384, &t->height) ||
      !member_int(o, "frames", 2, DG_VIDEO_MAX_FRAMES, &t->frames))
    return "width, height or frames missing or out of range";
  if ((int)json_array_get_length(images) != t->frames) return "frame_images does not hold `frames` paths";
  int n = (int)json_array_get_length(stages);
  if (n < 1 || n > DG_EVAL_VIDEO_MAX_STAGES) return "stages: 1 to 8 wanted";
  t->id = g_strdup(id), t->caption = g_strdup(caption), t->transition = g_strdup(transition ? transition : "");
  t->frame_images = g_new0(char *, t->frames);
  for (int f = 0; f < t->frames; f++) {
    const char *p = json_node_get_string(json_array_get_element(images, f));
    if (!p) return "frame_images holds a non-string";
    t->frame_images[f] = g_build_filename(dir, p, NULL);
  }
  for (int k = 0; k < n; k++) {
    JsonNode *sn = json_array_get_element(stages, k);
    JsonObject *so = JSON_NODE_HOLDS_OBJECT(sn) ? json_node_get_object(sn) : NULL;
    const char *text = so ? dg_json_member_string(so, "text") : NULL;
    if (!text || !member_int(so, "start", 0, t->frames - 1, &t->start[k]) ||
        !member_int(so, "end", t->start[k], t->frames - 1, &t->end[k]) || (k && t->start[k] <= t->end[k - 1]))
      return "a stage without text, or start/end out of order";
    t->stage_text[t->n_stages++] = g_strdup(text);
  }
  return NULL;
}

dg_status dg_eval_video_timelines_load(const char *dir, int max, dg_eval_video_timeline **out, int *n) {
  *out = NULL, *n = 0;
  char *path = g_build_filename(dir, "index.jsonl", NULL);
  FILE *f;
  dg_status s = dg_file_fopen(path, &f);
  if (s != DG_OK) {
    g_free(path);
    return dg_fail(s, "%s (write one with `dirigent-cli world dataset --video`)", dg_last_error());
  }
  dg_eval_video_timeline *t = g_new0(dg_eval_video_timeline, max);
  JsonParser *parser = json_parser_new();
  char *line = NULL;
  size_t cap = 0;
  for (int lineno = 1; s == DG_OK && *n < max && getline(&line, &cap, f) >= 0; lineno++) {
    if (!g_strstrip(line)[0]) continue;
    char *where = g_strdup_printf("%s:%d", path, lineno);
    JsonNode *root = dg_json_glib_parse(parser, line, strlen(line), where, DG_JSON_MAX_SMALL, &s);
    const char *why = root && !JSON_NODE_HOLDS_OBJECT(root) ? "not a JSON object" : NULL;
    if (s == DG_OK && !why) why = read_timeline(json_node_get_object(root), dir, &t[*n]);
    (*n)++;
    if (s == DG_OK && why) s = dg_fail(DG_ERR_FORMAT, "%s: %s", where, why);
    g_free(where);
  }
  if (s == DG_OK && *n < max) s = dg_fail(DG_ERR_ARG, "%s has %d timelines, fewer than --count %d", path, *n, max);
  free(line);
  fclose(f);
  g_object_unref(parser);
  g_free(path);
  if (s != DG_OK) dg_eval_video_timelines_free(t, *n), t = NULL, *n = 0;
  *out = t;
  return s;
}

void dg_eval_video_timelines_free(dg_eval_video_timeline *t, int n) {
  for (int i = 0; t && i < n; i++) {
    g_free(t[i].id), g_free(t[i].caption), g_free(t[i].transition);
    for (int f = 0; t[i].frame_images && f < t[i].frames; f++)
      g_free(t[i].frame_images[f]);
    g_free(t[i].frame_images);
    for (int k = 0; k < t[i].n_stages; k++)
      g_free(t[i].stage_text[k]);
  }
  g_free(t);
}

// ---- the report's storage -------------------------------------------------------------------------

dg_status dg_eval_video_report_init(dg_eval_video_report *r, const dg_eval_video_settings *s,
                                    const dg_eval_video_timeline *timelines) {
  *r = (dg_eval_video_report){.settings = *s, .timelines = timelines};
  r->clips = calloc((size_t)s->count * DG_EVAL_VIDEO_VARIANTS, sizeof *r->clips);
  r->real = calloc((size_t)s->count, sizeof *r->real);
  r->has_real = calloc((size_t)s->count, sizeof *r->has_real);
  if (!r->clips || !r->real || !r->has_real) {
    dg_eval_video_report_free(r);
    return dg_fail(DG_ERR_OOM, "out of host memory for the report");
  }
  return DG_OK;
}

void dg_eval_video_report_free(dg_eval_video_report *r) {
  free(r->clips), free(r->real), free(r->has_real);
  r->clips = r->real = NULL, r->has_real = NULL;
}

// ---- measuring one clip ---------------------------------------------------------------------------

typedef struct measure_ctx {
  dg_eval_models *ev;
  const dg_eval_video_timeline *t;
  int frames, n_stages, start[DG_EVAL_VIDEO_MAX_STAGES], end[DG_EVAL_VIDEO_MAX_STAGES]; // scaled to frames
  int truth[DG_VIDEO_MAX_FRAMES];
  float *text_emb;  // [n_stages * dim]
  float *emb;       // [frames * dim]
  float *sim;       // [frames * n_stages]
  uint8_t *classes; // [frames * w * h]
} measure_ctx;

static dg_status measure(measure_ctx *c, const uint8_t *rgb, const float *probs, dg_eval_video_clip *out) {
  int w = c->t->width, h = c->t->height, dim = dg_eval_models_embed_dim(c->ev), m = c->n_stages;
  size_t frame_bytes = (size_t)w * h * 3;
  dg_status s = DG_OK;
  for (int f = 0; s == DG_OK && f < c->frames; f++) {
    const uint8_t *px = rgb + f * frame_bytes;
    s = dg_eval_embed_image(c->ev, px, w, h, NULL, c->emb + (size_t)f * dim);
    if (s == DG_OK) s = dg_eval_segment(c->ev, px, w, h, c->classes + (size_t)f * w * h);
    for (int k = 0; s == DG_OK && k < m; k++)
      c->sim[f * m + k] = dg_eval_similarity(c->emb + (size_t)f * dim, c->text_emb + (size_t)k * dim, dim);
  }
  if (s != DG_OK) return s;
  out->stage_acc = dg_eval_video_stage_accuracy(c->sim, c->frames, m, c->truth);
  out->transition_err = dg_eval_video_transition_error(c->sim, m, c->start, c->end);
  out->transition_width = dg_eval_video_transition_width(c->sim, m, c->start, c->end);
  out->clip_cos = dg_eval_video_adjacent_cosine(c->emb, c->frames, dim);
  out->l1 = dg_eval_video_adjacent_l1(rgb, c->frames, frame_bytes);
  out->layout_miou =
      dg_eval_video_layout_stability(c->classes, c->frames, (int64_t)w * h, dg_eval_models_classes(c->ev));
  out->band_mass = probs ? dg_eval_video_band_mass(probs, c->frames, 2) : NAN;
  for (int f = 0; f < c->frames; f++) {
    int best = 0;
    for (int k = 1; k < m; k++)
      if (c->sim[f * m + k] > c->sim[f * m + best]) best = k;
    out->judged[f] = (signed char)best;
  }
  return DG_OK;
}

// ---- generating -----------------------------------------------------------------------------------

typedef struct step_ctx {
  dg_eval_video_progress_fn fn;
  void *user;
  int timeline;
  dg_eval_video_variant v;
} step_ctx;

static void on_step(void *user, int step, int total, int frame, const uint8_t *rgb, int w, int h) {
  (void)frame, (void)rgb, (void)w, (void)h;
  step_ctx *c = user;
  c->fn(c->user, c->timeline, c->v, step + 1, total);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The frames as a grid of 8 columns.
static dg_status write_grid(const char *dir, const char *id, const char *variant, const uint8_t *rgb, int frames, int w,
                            int h) {
  int cols = frames < 8 ? frames : 8, rows = (frames + cols - 1) / cols;
  uint8_t *grid = calloc((size_t)cols * w * rows * h, 3);
  if (!grid) return dg_fail(DG_ERR_OOM, "out of host memory for the frame grid");
  for (int f = 0; f < frames; f++)
    for (int y = 0; y < h; y++)
      memcpy(grid + (((size_t)(f / cols * h + y) * cols * w) + (size_t)(f % cols) * w) * 3,
             rgb + ((size_t)f * h + y) * w * 3, (size_t)w * 3);
  char *name = g_strdup_printf("%s_%s.png", id, variant), *path = g_build_filename(dir, name, NULL);
  dg_status s = dg_png_write_rgb8(path, cols * w, rows * h, grid, NULL);
  g_free(name), g_free(path), free(grid);
  return s;
}

static dg_status generate(dg_model_set *gen, const dg_eval_video_report *r, const measure_ctx *c,
                          dg_eval_video_variant v, uint64_t seed, step_ctx *sc, uint8_t *rgb, float *probs) {
  const dg_eval_video_settings *st = &r->settings;
  const dg_eval_video_timeline *t = c->t;
  bool stages = v == DG_EVAL_VIDEO_VSP || v == DG_EVAL_VIDEO_VSTAR,
       tar_on = v == DG_EVAL_VIDEO_TAR || v == DG_EVAL_VIDEO_VSTAR;
  dg_video_stage list[DG_EVAL_VIDEO_MAX_STAGES];
  int n = stages ? c->n_stages : 1;
  for (int k = 0; k < n; k++)
    list[k] = stages ? (dg_video_stage){c->start[k], t->stage_text[k]} : (dg_video_stage){0, t->caption};
  // TAR as `video generate` defaults it (dg_video_tar_default), or none.
  dg_tar tar;
  dg_status s = tar_on ? dg_video_tar_default(gen, t->width, c->frames, st->until, &tar)
                       : dg_tar_init(&tar, 0, NULL, NULL, 1.0f, st->until);
  dg_video_params p = {.stages = list,
                       .n_stages = n,
                       .frames = c->frames,
                       .fps = 8,
                       .width = t->width,
                       .height = t->height,
                       .steps = st->steps,
                       .cfg = (float)st->cfg,
                       .eta = 1.0f,
                       .seed = seed,
                       .vsp = DG_VSP_LINEAR,
                       .tar = &tar,
                       .capture_layer = 0,
                       .capture_attn = 0,
                       .capture_step = 0,
                       .capture = probs,
                       .on_step = sc->fn ? on_step : NULL,
                       .user = sc};
  if (s == DG_OK) s = dg_video_generate(gen, &p, rgb);
  return s;
}

static dg_status read_real(const dg_eval_video_timeline *t, uint8_t *rgb) {
  size_t frame_bytes = (size_t)t->width * t->height * 3;
  dg_status s = DG_OK;
  for (int f = 0; s == DG_OK && f < t->frames; f++) {
    dg_png_limits lim = {t->width, t->height, 0};
    int w, h;
    uint8_t *px = NULL;
    s = dg_png_read_rgb8_limited(t->frame_images[f], &lim, &w, &h, &px);
    if (s == DG_OK) memcpy(rgb + f * frame_bytes, px, frame_bytes);
    free(px);
  }
  return s;
}

static dg_status run_timeline(dg_model_set *gen, dg_eval_models *ev, dg_eval_video_report *r, int i, step_ctx *sc) {
  const dg_eval_video_settings *st = &r->settings;
  const dg_eval_video_timeline *t = &r->timelines[i];
  int F = st->frames, dim = dg_eval_models_embed_dim(ev);
  measure_ctx c = {.ev = ev, .t = t, .frames = F, .n_stages = t->n_stages};
  dg_eval_video_scale_stages(t->start, t->end, t->n_stages, t->frames, F, c.start, c.end);
  dg_eval_video_truth(c.start, c.end, t->n_stages, F, c.truth);
  size_t frame_bytes = (size_t)t->width * t->height * 3;
  c.text_emb = malloc((size_t)t->n_stages * dim * sizeof(float));
  c.emb = malloc((size_t)F * dim * sizeof(float));
  c.sim = malloc((size_t)F * t->n_stages * sizeof(float));
  c.classes = malloc((size_t)F * t->width * t->height);
  uint8_t *rgb = malloc((size_t)F * frame_bytes);
  float *probs = malloc((size_t)F * F * sizeof(float));
  dg_status s = c.text_emb && c.emb && c.sim && c.classes && rgb && probs
                    ? DG_OK
                    : dg_fail(DG_ERR_OOM, "out of host memory for %d frames of %dx%d", F, t->width, t->height);
  for (int k = 0; s == DG_OK && k < t->n_stages; k++)
    s = dg_eval_embed_text(ev, t->stage_text[k], c.text_emb + (size_t)k * dim);
  if (s == DG_OK && t->frames == F) {
    r->has_real[i] = true;
    s = read_real(t, rgb);
    if (s == DG_OK) s = measure(&c, rgb, NULL, &r->real[i]);
    r->real[i].seconds = NAN; // not generated
  }
  for (int j = 0; s == DG_OK && j < st->n_variants; j++) {
    dg_eval_video_variant v = st->variants[j];
    dg_eval_video_clip *clip = &r->clips[(size_t)i * DG_EVAL_VIDEO_VARIANTS + v];
    sc->timeline = i, sc->v = v;
    double t0 = now();
    s = generate(gen, r, &c, v, st->seed + (uint64_t)i, sc, rgb, probs);
    clip->seconds = now() - t0;
    if (s == DG_OK) s = measure(&c, rgb, probs, clip);
    if (s == DG_OK && st->frames_out)
      s = write_grid(st->frames_out, t->id, dg_eval_video_variant_names[v], rgb, F, t->width, t->height);
  }
  free(c.text_emb), free(c.emb), free(c.sim), free(c.classes), free(rgb), free(probs);
  return s;
}

dg_status dg_eval_video_run(dg_model_set *gen, dg_eval_models *ev, dg_eval_video_report *r,
                            dg_eval_video_progress_fn progress, dg_eval_video_done_fn done, void *user) {
  if (dg_eval_models_classes(ev) > 255) return dg_fail(DG_ERR_FORMAT, "the segmenter has over 255 classes");
  step_ctx sc = {.fn = progress, .user = user};
  double t0 = now() - r->seconds; // a resumed report's time counts on
  dg_status s = DG_OK;
  for (int i = r->n; s == DG_OK && i < r->settings.count; i++) {
    s = run_timeline(gen, ev, r, i, &sc);
    r->seconds = now() - t0;
    if (s == DG_OK) r->n = i + 1;
    if (s == DG_OK && done) s = done(user, r);
  }
  return s;
}
