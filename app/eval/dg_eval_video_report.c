// The VSTAR evaluation's report: bootstrap summaries over the timelines (dg_eval_bootstrap), a table and JSON.
#include <glib.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dg_eval_metrics.h"
#include "dg_eval_video.h"
#include "dg_eval_video_metrics.h"
#include "dg_json_glib.h"

#define RESAMPLES 2000
#define LEVEL 0.95

typedef struct metric {
  const char *key, *label;
  size_t offset; // in dg_eval_video_clip
} metric;

static const metric metrics[] = {
    {"stage_acc", "stage accuracy", offsetof(dg_eval_video_clip, stage_acc)},
    {"transition_err", "transition error (frames)", offsetof(dg_eval_video_clip, transition_err)},
    {"transition_width", "transition width (frames)", offsetof(dg_eval_video_clip, transition_width)},
    {"clip_cos", "adjacent CLIP cosine", offsetof(dg_eval_video_clip, clip_cos)},
    {"l1", "adjacent L1 (0..255)", offsetof(dg_eval_video_clip, l1)},
    {"layout_miou", "layout mIoU, consecutive", offsetof(dg_eval_video_clip, layout_miou)},
    {"band_mass", "attention mass |i-j|<=2", offsetof(dg_eval_video_clip, band_mass)},
    {"seconds", "seconds per video", offsetof(dg_eval_video_clip, seconds)},
};
#define N_METRICS (int)(sizeof metrics / sizeof metrics[0])

static double value(const dg_eval_video_clip *c, const metric *m) {
  return *(const double *)((const char *)c + m->offset);
}

static const dg_eval_video_clip *clip_of(const dg_eval_video_report *r, int i, int v) {
  return v < 0 ? (r->has_real[i] ? &r->real[i] : NULL) : &r->clips[(size_t)i * DG_EVAL_VIDEO_VARIANTS + v];
}

typedef struct summary {
  double mean, lo, hi;
  int n; // timelines with a value
} summary;

// Variant v (-1: the real clips) over the done timelines; with `minus` >= 0 the paired difference v - minus.
static summary summarise(const dg_eval_video_report *r, const metric *m, int v, int minus) {
  summary out = {NAN, NAN, NAN, 0};
  double *x = malloc((size_t)(r->n ? r->n : 1) * sizeof *x);
  if (!x) return out;
  for (int i = 0; i < r->n; i++) {
    const dg_eval_video_clip *a = clip_of(r, i, v), *b = minus >= 0 ? clip_of(r, i, minus) : NULL;
    x[i] = a ? value(a, m) - (b ? value(b, m) : 0) : NAN;
    out.n += !isnan(x[i]);
  }
  if (out.n) dg_eval_bootstrap(x, r->n, RESAMPLES, 0, LEVEL, &out.mean, &out.lo, &out.hi);
  free(x);
  return out;
}

static bool asked(const dg_eval_video_report *r, int v) {
  for (int j = 0; j < r->settings.n_variants; j++)
    if ((int)r->settings.variants[j] == v) return true;
  return false;
}

static bool any_real(const dg_eval_video_report *r) {
  for (int i = 0; i < r->n; i++)
    if (r->has_real[i]) return true;
  return false;
}

void dg_eval_video_report_print(const dg_eval_video_report *r, FILE *f) {
  const dg_eval_video_settings *s = &r->settings;
  fprintf(f, "VSTAR evaluation: %d timelines of %s, %d frames, %d steps, CFG %g, seed %llu + i, %.0f s\n", r->n,
          s->data, s->frames, s->steps, s->cfg, (unsigned long long)s->seed, r->seconds);
  fprintf(f, "mean [95%% bootstrap interval over timelines]; vs base: the paired difference\n");
  for (int k = 0; k < N_METRICS; k++) {
    fprintf(f, "%s\n", metrics[k].label);
    for (int v = any_real(r) ? -1 : 0; v < DG_EVAL_VIDEO_VARIANTS; v++) {
      if (v >= 0 && !asked(r, v)) continue;
      summary a = summarise(r, &metrics[k], v, -1);
      fprintf(f, "  %-6s", v < 0 ? "real" : dg_eval_video_variant_names[v]);
      if (!a.n) {
        fprintf(f, "  -\n");
        continue;
      }
      fprintf(f, "  %8.3f [%.3f, %.3f] (n %d)", a.mean, a.lo, a.hi, a.n);
      if (v > 0 && asked(r, DG_EVAL_VIDEO_BASE)) {
        summary d = summarise(r, &metrics[k], v, DG_EVAL_VIDEO_BASE);
        if (d.n) fprintf(f, "  vs base %+.3f [%+.3f, %+.3f]", d.mean, d.lo, d.hi);
      }
      fprintf(f, "\n");
    }
  }
}

static void add_summary(JsonBuilder *b, const char *key, summary a) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  dg_json_add_number(b, "mean", a.mean);
  dg_json_add_number(b, "lo", a.lo);
  dg_json_add_number(b, "hi", a.hi);
  dg_json_add_int(b, "n", a.n);
  json_builder_end_object(b);
}

static void add_group(JsonBuilder *b, const dg_eval_video_report *r, int v) {
  json_builder_set_member_name(b, v < 0 ? "real" : dg_eval_video_variant_names[v]);
  json_builder_begin_object(b);
  for (int k = 0; k < N_METRICS; k++)
    add_summary(b, metrics[k].key, summarise(r, &metrics[k], v, -1));
  if (v > 0 && asked(r, DG_EVAL_VIDEO_BASE)) {
    json_builder_set_member_name(b, "vs_base");
    json_builder_begin_object(b);
    for (int k = 0; k < N_METRICS; k++)
      add_summary(b, metrics[k].key, summarise(r, &metrics[k], v, DG_EVAL_VIDEO_BASE));
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

static void add_clip(JsonBuilder *b, const char *key, const dg_eval_video_clip *c, int frames) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  for (int k = 0; k < N_METRICS; k++)
    dg_json_add_number(b, metrics[k].key, value(c, &metrics[k]));
  json_builder_set_member_name(b, "judged_stages");
  json_builder_begin_array(b);
  for (int f = 0; f < frames; f++)
    json_builder_add_int_value(b, c->judged[f]);
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void add_timeline(JsonBuilder *b, const dg_eval_video_report *r, int i) {
  const dg_eval_video_timeline *t = &r->timelines[i];
  int F = r->settings.frames, start[DG_EVAL_VIDEO_MAX_STAGES], end[DG_EVAL_VIDEO_MAX_STAGES];
  dg_eval_video_scale_stages(t->start, t->end, t->n_stages, t->frames, F, start, end);
  json_builder_begin_object(b);
  dg_json_add_string(b, "id", t->id);
  dg_json_add_string(b, "caption", t->caption);
  dg_json_add_string(b, "transition", t->transition);
  dg_json_add_int(b, "seed", (int64_t)(r->settings.seed + (uint64_t)i));
  json_builder_set_member_name(b, "stages");
  json_builder_begin_array(b);
  for (int k = 0; k < t->n_stages; k++) {
    json_builder_begin_object(b);
    dg_json_add_string(b, "text", t->stage_text[k]);
    dg_json_add_int(b, "start", start[k]);
    dg_json_add_int(b, "end", end[k]);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (r->has_real[i]) add_clip(b, "real", &r->real[i], F);
  for (int v = 0; v < DG_EVAL_VIDEO_VARIANTS; v++)
    if (asked(r, v)) add_clip(b, dg_eval_video_variant_names[v], clip_of(r, i, v), F);
  json_builder_end_object(b);
}

dg_status dg_eval_video_report_write_json(const dg_eval_video_report *r, const char *path) {
  const dg_eval_video_settings *s = &r->settings;
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  dg_json_add_string(b, "task", "video");
  json_builder_set_member_name(b, "settings");
  json_builder_begin_object(b);
  dg_json_add_string(b, "data", s->data);
  dg_json_add_string(b, "model", s->model);
  dg_json_add_int(b, "count", s->count);
  dg_json_add_int(b, "frames", s->frames);
  dg_json_add_int(b, "steps", s->steps);
  dg_json_add_int(b, "until", s->until);
  dg_json_add_number(b, "cfg", s->cfg);
  dg_json_add_int(b, "seed", (int64_t)s->seed);
  json_builder_set_member_name(b, "variants");
  json_builder_begin_array(b);
  for (int j = 0; j < s->n_variants; j++)
    json_builder_add_string_value(b, dg_eval_video_variant_names[s->variants[j]]);
  json_builder_end_array(b);
  json_builder_end_object(b);
  dg_json_add_int(b, "timelines_done", r->n);
  dg_json_add_number(b, "seconds", r->seconds);
  json_builder_set_member_name(b, "summary");
  json_builder_begin_object(b);
  if (any_real(r)) add_group(b, r, -1);
  for (int v = 0; v < DG_EVAL_VIDEO_VARIANTS; v++)
    if (asked(r, v)) add_group(b, r, v);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "timelines");
  json_builder_begin_array(b);
  for (int i = 0; i < r->n; i++)
    add_timeline(b, r, i);
  json_builder_end_array(b);
  json_builder_end_object(b);
  dg_status st = dg_json_glib_save(b, path);
  g_object_unref(b);
  return st;
}

// ---- reading a report back (--resume) -------------------------------------------------------------

static bool read_clip(JsonObject *t, const char *key, int frames, dg_eval_video_clip *c) {
  JsonNode *n = json_object_get_member(t, key);
  if (!n || !JSON_NODE_HOLDS_OBJECT(n)) return false;
  JsonObject *o = json_node_get_object(n);
  for (int k = 0; k < N_METRICS; k++)
    if (!dg_json_member_number(o, metrics[k].key, (double *)((char *)c + metrics[k].offset))) return false;
  JsonArray *judged = dg_json_member_array(o, "judged_stages");
  if (!judged || (int)json_array_get_length(judged) != frames) return false;
  for (int f = 0; f < frames; f++) {
    JsonNode *e = json_array_get_element(judged, f);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64) return false;
    int64_t v = json_node_get_int(e);
    if (v < -1 || v >= DG_EVAL_VIDEO_MAX_STAGES) return false;
    c->judged[f] = (signed char)v;
  }
  return true;
}

// The report's settings against this run's: NULL, or what differs.
static const char *settings_differ(JsonObject *o, const dg_eval_video_settings *s) {
  double frames, steps, until, cfg, seed;
  const char *data = dg_json_member_string(o, "data"), *model = dg_json_member_string(o, "model");
  if (!data || strcmp(data, s->data)) return "the dataset (data)";
  if (!model || strcmp(model, s->model)) return "the model folder (model)";
  if (!dg_json_member_number(o, "frames", &frames) || frames != s->frames) return "the frame count (frames)";
  if (!dg_json_member_number(o, "steps", &steps) || steps != s->steps) return "the steps (steps)";
  if (!dg_json_member_number(o, "until", &until) || until != s->until) return "TAR's last step (until)";
  if (!dg_json_member_number(o, "cfg", &cfg) || fabs(cfg - s->cfg) > 1e-9) return "the guidance (cfg)";
  if (!dg_json_member_number(o, "seed", &seed) || seed != (double)s->seed) return "the seed (seed)";
  JsonArray *v = dg_json_member_array(o, "variants");
  bool same = v && (int)json_array_get_length(v) == s->n_variants;
  for (int j = 0; same && j < s->n_variants; j++) {
    const char *name = dg_json_node_string(json_array_get_element(v, j));
    same = name && !strcmp(name, dg_eval_video_variant_names[s->variants[j]]);
  }
  return same ? NULL : "the variants (variants, in order)";
}

static dg_status read_timelines(dg_eval_video_report *r, JsonObject *root, const char *path) {
  double done, seconds;
  JsonNode *sn = json_object_get_member(root, "settings");
  const char *task = dg_json_member_string(root, "task"), *why = NULL;
  if (!task || strcmp(task, "video") || !sn || !JSON_NODE_HOLDS_OBJECT(sn))
    return dg_fail(DG_ERR_FORMAT, "%s: not a report of `eval video` (task, settings)", path);
  if ((why = settings_differ(json_node_get_object(sn), &r->settings)))
    return dg_fail(DG_ERR_ARG, "%s: %s differs from this run's: resume with the same options (or another --report)",
                   path, why);
  JsonArray *tl = dg_json_member_array(root, "timelines");
  if (!tl || !dg_json_member_number(root, "timelines_done", &done) || done != (double)json_array_get_length(tl) ||
      !dg_json_member_number(root, "seconds", &seconds))
    return dg_fail(DG_ERR_FORMAT, "%s: timelines_done, seconds or timelines missing or inconsistent", path);
  if (done > r->settings.count)
    return dg_fail(DG_ERR_ARG, "%s holds %d timelines, more than --count %d", path, (int)done, r->settings.count);
  for (int i = 0; i < (int)done; i++) {
    JsonNode *tn = json_array_get_element(tl, (guint)i);
    JsonObject *t = JSON_NODE_HOLDS_OBJECT(tn) ? json_node_get_object(tn) : NULL;
    const char *id = t ? dg_json_member_string(t, "id") : NULL;
    if (!id || strcmp(id, r->timelines[i].id))
      return dg_fail(DG_ERR_ARG, "%s: timeline %d is '%s', the dataset's is '%s'", path, i, id ? id : "(none)",
                     r->timelines[i].id);
    r->has_real[i] = json_object_has_member(t, "real");
    if (r->has_real[i] && !read_clip(t, "real", r->settings.frames, &r->real[i]))
      return dg_fail(DG_ERR_FORMAT, "%s: timeline %s: the real clip's measures are incomplete", path, id);
    for (int j = 0; j < r->settings.n_variants; j++) {
      int v = r->settings.variants[j];
      if (!read_clip(t, dg_eval_video_variant_names[v], r->settings.frames,
                     &r->clips[(size_t)i * DG_EVAL_VIDEO_VARIANTS + v]))
        return dg_fail(DG_ERR_FORMAT, "%s: timeline %s: the %s measures are incomplete", path, id,
                       dg_eval_video_variant_names[v]);
    }
  }
  r->n = (int)done;
  r->seconds = seconds;
  return DG_OK;
}

dg_status dg_eval_video_report_read_json(dg_eval_video_report *r, const char *path) {
  JsonParser *parser = json_parser_new();
  dg_status s;
  JsonNode *root = dg_json_glib_parse_file(parser, path, DG_JSON_MAX_SCENE, &s);
  if (s == DG_OK && !JSON_NODE_HOLDS_OBJECT(root)) s = dg_fail(DG_ERR_FORMAT, "%s: not a JSON object", path);
  if (s == DG_OK) s = read_timelines(r, json_node_get_object(root), path);
  if (s != DG_OK) r->n = 0, r->seconds = 0;
  g_object_unref(parser);
  return s;
}
