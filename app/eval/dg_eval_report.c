#include "dg_eval_report.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_json_glib.h"

dg_status dg_eval_report_init(dg_eval_report *r, const dg_eval_settings *settings, int feature_dim) {
  memset(r, 0, sizeof *r);
  r->settings = *settings;
  DG_TRY(dg_eval_moments_init(&r->feat_generated, feature_dim));
  return dg_eval_moments_init(&r->feat_real, feature_dim);
}

void dg_eval_report_free(dg_eval_report *r) {
  for (int i = 0; i < r->n; i++)
    g_free(r->items[i].id), g_free(r->items[i].prompt);
  g_free(r->items);
  dg_eval_moments_free(&r->feat_generated);
  dg_eval_moments_free(&r->feat_real);
  memset(r, 0, sizeof *r);
}

dg_eval_item *dg_eval_report_add(dg_eval_report *r, const char *id, const char *prompt, uint64_t seed) {
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->items = g_renew(dg_eval_item, r->items, r->cap);
  }
  dg_eval_item *it = &r->items[r->n++];
  *it = (dg_eval_item){.id = g_strdup(id), .prompt = g_strdup(prompt), .seed = seed, .sim_generated = NAN,
                       .sim_real = NAN, .attr = DG_ATTR_NONE, .share_generated = -1, .share_real = -1,
                       .miou_generated = NAN, .miou_real = NAN};
  return it;
}

static bool l2i(const dg_eval_report *r) { return !strcmp(r->settings.task, "l2i"); }

static void group(const dg_eval_report *r, bool generated, dg_eval_group *g) {
  memset(g, 0, sizeof *g);
  double sim = 0;
  int pass = 0;
  for (int i = 0; i < r->n; i++) {
    const dg_eval_item *it = &r->items[i];
    sim += generated ? it->sim_generated : it->sim_real;
    if (it->attr == DG_ATTR_NONE) continue;
    g->attr_items++;
    pass += dg_eval_attr_pass(generated ? it->share_generated : it->share_real);
  }
  g->images = r->n;
  g->clip_sim = r->n ? sim / r->n : NAN;
  g->attr_acc = g->attr_items ? (double)pass / g->attr_items : NAN;
  g->fd = NAN;
  g->miou = g->pixel_acc = NAN;
  for (int c = 0; c < DG_EVAL_K; c++)
    g->iou[c] = NAN;
  if (l2i(r)) dg_eval_iou(generated ? r->conf_generated : r->conf_real, DG_EVAL_K, g->iou, &g->miou, &g->pixel_acc);
  if (generated && r->feat_generated.n >= 2 && r->feat_real.n >= 2 &&
      dg_eval_frechet(&r->feat_generated, &r->feat_real, &g->fd) != DG_OK)
    g->fd = NAN;
}

void dg_eval_report_summary(const dg_eval_report *r, dg_eval_group *real, dg_eval_group *generated) {
  group(r, false, real);
  group(r, true, generated);
}

static void pct(FILE *f, double v) {
  if (isnan(v)) fprintf(f, "%10s", "-");
  else fprintf(f, "%9.1f%%", 100 * v);
}

static void row(FILE *f, const char *label, double real, double gen, bool percent) {
  fprintf(f, "%-46s", label);
  if (percent) pct(f, real), pct(f, gen);
  else fprintf(f, "%10.4f%10.4f", real, gen);
  fputc('\n', f);
}

void dg_eval_report_print(const dg_eval_report *r, FILE *f) {
  const dg_eval_settings *st = &r->settings;
  dg_eval_group real, gen;
  dg_eval_report_summary(r, &real, &gen);
  fprintf(f, "eval %s: %d %s images of %s, %s %d steps, CFG %g, seeds %llu..%llu%s%s%s%s, model %s (%.1f s)\n\n",
          st->task, r->n, st->split, st->data, st->sampler, st->steps, st->cfg, (unsigned long long)st->seed,
          (unsigned long long)(st->seed + (r->n ? r->n - 1 : 0)), st->controlnet ? ", ControlNet " : "",
          st->controlnet ? st->controlnet : "", st->decoder ? ", decoder " : "", st->decoder ? st->decoder : "",
          st->model, r->seconds);
  fprintf(f, "%-46s%10s%10s\n", "", "real", "generated");
  row(f, "CLIP text-image similarity (mean cosine)", real.clip_sim, gen.clip_sim, false);
  char label[96];
  snprintf(label, sizeof label, "car colour attribute accuracy (%d items)", gen.attr_items);
  row(f, label, real.attr_acc, gen.attr_acc, true);
  if (l2i(r)) {
    row(f, "mIoU (evaluation segmenter vs input layout)", real.miou, gen.miou, true);
    row(f, "pixel accuracy", real.pixel_acc, gen.pixel_acc, true);
    for (int c = 0; c < DG_EVAL_K; c++) {
      snprintf(label, sizeof label, "  IoU %s", dg_world_classes[c].name);
      row(f, label, real.iou[c], gen.iou[c], true);
    }
  }
  if (isnan(gen.fd)) fprintf(f, "Frechet distance (CLIP image features): needs at least 2 images\n");
  else fprintf(f, "Frechet distance (CLIP image features), generated vs real: %.4f\n", gen.fd);
}

// ---- JSON ----

static void add_seed(JsonBuilder *b, const char *key, uint64_t seed) {
  char s[24];
  snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
  dg_json_add_string(b, key, s);
}

static void add_group(JsonBuilder *b, const char *key, const dg_eval_group *g, bool with_l2i, bool with_fd) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  dg_json_add_int(b, "images", g->images);
  dg_json_add_number(b, "clip_sim", g->clip_sim);
  dg_json_add_number(b, "attr_acc", g->attr_acc);
  dg_json_add_int(b, "attr_items", g->attr_items);
  if (with_fd) dg_json_add_number(b, "fd", g->fd);
  if (with_l2i) {
    dg_json_add_number(b, "miou", g->miou);
    dg_json_add_number(b, "pixel_acc", g->pixel_acc);
    json_builder_set_member_name(b, "iou");
    json_builder_begin_object(b);
    for (int c = 0; c < DG_EVAL_K; c++)
      dg_json_add_number(b, dg_world_classes[c].name, g->iou[c]);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

static void add_pair(JsonBuilder *b, const char *key, double real, double generated) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  dg_json_add_number(b, "real", real);
  dg_json_add_number(b, "generated", generated);
  json_builder_end_object(b);
}

static void add_items(JsonBuilder *b, const dg_eval_report *r) {
  json_builder_set_member_name(b, "per_image");
  json_builder_begin_array(b);
  for (int i = 0; i < r->n; i++) {
    const dg_eval_item *it = &r->items[i];
    json_builder_begin_object(b);
    dg_json_add_string(b, "id", it->id);
    dg_json_add_string(b, "prompt", it->prompt);
    add_seed(b, "seed", it->seed);
    add_pair(b, "clip_sim", it->sim_real, it->sim_generated);
    if (l2i(r)) add_pair(b, "miou", it->miou_real, it->miou_generated);
    json_builder_set_member_name(b, "attribute");
    if (it->attr == DG_ATTR_NONE) json_builder_add_null_value(b);
    else {
      json_builder_begin_object(b);
      dg_json_add_string(b, "class", dg_world_classes[DG_EVAL_ATTR_CLASS].name);
      dg_json_add_string(b, "colour", dg_world_attr_names[it->attr]);
      // share: of the segmented car pixels nearest the colour's centroid (null: no car found)
      add_pair(b, "share", it->share_real < 0 ? NAN : it->share_real,
               it->share_generated < 0 ? NAN : it->share_generated);
      json_builder_set_member_name(b, "correct");
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "real");
      json_builder_add_boolean_value(b, dg_eval_attr_pass(it->share_real));
      json_builder_set_member_name(b, "generated");
      json_builder_add_boolean_value(b, dg_eval_attr_pass(it->share_generated));
      json_builder_end_object(b);
      json_builder_end_object(b);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

dg_status dg_eval_report_write_json(const dg_eval_report *r, const char *path) {
  const dg_eval_settings *st = &r->settings;
  dg_eval_group real, gen;
  dg_eval_report_summary(r, &real, &gen);
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  dg_json_add_string(b, "task", st->task);
  dg_json_add_string(b, "data", st->data);
  dg_json_add_string(b, "split", st->split);
  dg_json_add_string(b, "model", st->model);
  dg_json_add_string(b, "controlnet", st->controlnet);
  dg_json_add_string(b, "sampler", st->sampler);
  dg_json_add_int(b, "count", st->count);
  dg_json_add_int(b, "steps", st->steps);
  dg_json_add_number(b, "cfg", st->cfg);
  if (st->decoder) dg_json_add_string(b, "decoder", st->decoder);
  add_seed(b, "seed", st->seed);
  dg_json_add_number(b, "seconds", r->seconds);
  add_group(b, "real", &real, l2i(r), false);
  add_group(b, "generated", &gen, l2i(r), true);
  add_items(b, r);
  json_builder_end_object(b);
  dg_status s = dg_json_glib_save(b, path);
  g_object_unref(b);
  return s;
}
