#include "dg_eval_report.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

dg_status dg_eval_report_init(dg_eval_report *r, const dg_eval_settings *settings, int feature_dim) {
  memset(r, 0, sizeof *r);
  r->settings = *settings;
  r->k = DG_WORLD_NUM_CLASSES;
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
                       .sim_real = NAN, .miou_generated = NAN, .miou_real = NAN};
  return it;
}

static bool l2i(const dg_eval_report *r) { return !strcmp(r->settings.task, "l2i"); }

void dg_eval_report_summary(const dg_eval_report *r, dg_eval_summary *s) {
  memset(s, 0, sizeof *s);
  double sg = 0, sr = 0;
  int pass_g[3] = {0}, pass_r[3] = {0};
  for (int i = 0; i < r->n; i++) {
    const dg_eval_item *it = &r->items[i];
    sg += it->sim_generated, sr += it->sim_real;
    for (int a = 0; a < it->n_attrs; a++) {
      int rows[2] = {it->attrs[a].cls == DG_WORLD_CAR ? 0 : 1, 2}; // its class's row and "all"
      for (int j = 0; j < 2; j++) {
        int k = rows[j];
        s->attr_checks[k]++;
        pass_g[k] += it->attrs[a].generated == DG_EVAL_ATTR_PASS;
        pass_r[k] += it->attrs[a].real == DG_EVAL_ATTR_PASS;
      }
    }
  }
  s->sim_generated = r->n ? sg / r->n : NAN;
  s->sim_real = r->n ? sr / r->n : NAN;
  for (int k = 0; k < 3; k++) {
    s->attr_generated[k] = s->attr_checks[k] ? (double)pass_g[k] / s->attr_checks[k] : NAN;
    s->attr_real[k] = s->attr_checks[k] ? (double)pass_r[k] / s->attr_checks[k] : NAN;
  }
  dg_eval_iou(r->conf_generated, r->k, s->iou_generated, &s->miou_generated, &s->acc_generated);
  dg_eval_iou(r->conf_real, r->k, s->iou_real, &s->miou_real, &s->acc_real);
  s->frechet = NAN;
  if (l2i(r) && r->feat_generated.n >= 2 && r->feat_real.n >= 2 &&
      dg_eval_frechet(&r->feat_generated, &r->feat_real, &s->frechet) != DG_OK)
    s->frechet = NAN;
}

static void pct(FILE *f, double v) {
  if (isnan(v)) fprintf(f, "%9s", "-");
  else fprintf(f, "%8.1f%%", 100 * v);
}

void dg_eval_report_print(const dg_eval_report *r, FILE *f) {
  const dg_eval_settings *st = &r->settings;
  dg_eval_summary s;
  dg_eval_report_summary(r, &s);
  fprintf(f, "eval %s: %d %s images of %s, %s %d steps, CFG %g, seeds %llu..%llu%s%s, model %s (%.1f s)\n", st->task,
          r->n, st->split, st->data, st->sampler, st->steps, st->cfg, (unsigned long long)st->seed,
          (unsigned long long)(st->seed + (r->n ? r->n - 1 : 0)), st->controlnet ? ", ControlNet " : "",
          st->controlnet ? st->controlnet : "", st->model, r->seconds);
  fprintf(f, "\n%-44s %9s %9s\n", "", "generated", "real");
  fprintf(f, "%-44s %9.4f %9.4f\n", "text-image similarity (CLIP cosine, mean)", s.sim_generated, s.sim_real);
  if (!l2i(r)) {
    static const char *rows[3] = {"car", "building", "all"};
    fprintf(f, "\ncolour attribute check (region the segmenter calls the class has the caption's colour)\n");
    for (int k = 0; k < 3; k++) {
      char label[64];
      snprintf(label, sizeof label, "  %-10s %4d checks", rows[k], s.attr_checks[k]);
      fprintf(f, "%-44s ", label);
      pct(f, s.attr_generated[k]);
      fputc(' ', f);
      pct(f, s.attr_real[k]);
      fputc('\n', f);
    }
    return;
  }
  fprintf(f, "%-44s ", "mIoU (evaluation segmenter vs input layout)");
  pct(f, s.miou_generated);
  fputc(' ', f);
  pct(f, s.miou_real);
  fprintf(f, "\n%-44s ", "pixel accuracy");
  pct(f, s.acc_generated);
  fputc(' ', f);
  pct(f, s.acc_real);
  fprintf(f, "\nper-class IoU\n");
  for (int c = 0; c < r->k; c++) {
    fprintf(f, "  %-42s ", dg_world_classes[c].name);
    pct(f, s.iou_generated[c]);
    fputc(' ', f);
    pct(f, s.iou_real[c]);
    fputc('\n', f);
  }
  if (isnan(s.frechet)) fprintf(f, "Frechet distance (CLIP image features): needs at least 2 images\n");
  else fprintf(f, "Frechet distance (CLIP image features), generated vs real: %.4f\n", s.frechet);
}

// ---- JSON ----

static void add_number(JsonBuilder *b, const char *key, double v) {
  json_builder_set_member_name(b, key);
  if (isnan(v) || isinf(v)) json_builder_add_null_value(b);
  else json_builder_add_double_value(b, v);
}

static void add_string(JsonBuilder *b, const char *key, const char *v) {
  json_builder_set_member_name(b, key);
  if (v) json_builder_add_string_value(b, v);
  else json_builder_add_null_value(b);
}

static void add_int(JsonBuilder *b, const char *key, int64_t v) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, v);
}

static const char *attr_name(int a) { return a >= 0 && a < DG_ATTR_COUNT ? dg_world_attr_names[a] : NULL; }

static void add_pair(JsonBuilder *b, const char *key, double generated, double real) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  add_number(b, "generated", generated);
  add_number(b, "real", real);
  json_builder_end_object(b);
}

static void add_items(JsonBuilder *b, const dg_eval_report *r) {
  json_builder_set_member_name(b, "per_image");
  json_builder_begin_array(b);
  for (int i = 0; i < r->n; i++) {
    const dg_eval_item *it = &r->items[i];
    json_builder_begin_object(b);
    add_string(b, "id", it->id);
    add_string(b, "prompt", it->prompt);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)it->seed);
    add_string(b, "seed", seed);
    add_pair(b, "clip_similarity", it->sim_generated, it->sim_real);
    if (l2i(r)) add_pair(b, "miou", it->miou_generated, it->miou_real);
    else {
      static const char *results[3] = {"pass", "wrong", "missing"};
      json_builder_set_member_name(b, "attributes");
      json_builder_begin_array(b);
      for (int a = 0; a < it->n_attrs; a++) {
        const dg_eval_attr_item *x = &it->attrs[a];
        json_builder_begin_object(b);
        add_string(b, "class", dg_world_classes[x->cls].name);
        add_string(b, "attr", attr_name(x->attr));
        add_string(b, "generated", results[x->generated]);
        add_string(b, "generated_colour", attr_name(x->found_generated));
        add_string(b, "real", results[x->real]);
        add_string(b, "real_colour", attr_name(x->found_real));
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

dg_status dg_eval_report_write_json(const dg_eval_report *r, const char *path) {
  const dg_eval_settings *st = &r->settings;
  dg_eval_summary s;
  dg_eval_report_summary(r, &s);
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "task", st->task);
  add_string(b, "split", st->split);
  add_string(b, "data", st->data);
  add_string(b, "model", st->model);
  add_string(b, "controlnet", st->controlnet);
  add_string(b, "sampler", st->sampler);
  add_int(b, "count", st->count);
  add_int(b, "images", r->n);
  add_int(b, "steps", st->steps);
  add_number(b, "cfg", st->cfg);
  char seed[24];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)st->seed);
  add_string(b, "seed", seed);
  add_number(b, "seconds", r->seconds);
  add_pair(b, "clip_similarity", s.sim_generated, s.sim_real);
  if (l2i(r)) {
    add_pair(b, "miou", s.miou_generated, s.miou_real);
    add_pair(b, "pixel_accuracy", s.acc_generated, s.acc_real);
    json_builder_set_member_name(b, "iou");
    json_builder_begin_object(b);
    for (int c = 0; c < r->k; c++)
      add_pair(b, dg_world_classes[c].name, s.iou_generated[c], s.iou_real[c]);
    json_builder_end_object(b);
    add_number(b, "frechet_clip", s.frechet);
  } else {
    static const char *rows[3] = {"car", "building", "all"};
    json_builder_set_member_name(b, "attribute");
    json_builder_begin_object(b);
    for (int k = 0; k < 3; k++) {
      json_builder_set_member_name(b, rows[k]);
      json_builder_begin_object(b);
      add_int(b, "checks", s.attr_checks[k]);
      add_number(b, "generated", s.attr_generated[k]);
      add_number(b, "real", s.attr_real[k]);
      json_builder_end_object(b);
    }
    json_builder_end_object(b);
  }
  add_items(b, r);
  json_builder_end_object(b);
  JsonGenerator *g = json_generator_new();
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(g, root);
  json_generator_set_pretty(g, TRUE);
  GError *err = NULL;
  dg_status st_out = DG_OK;
  if (!json_generator_to_file(g, path, &err)) {
    st_out = dg_fail(DG_ERR_IO, "cannot write %s: %s", path, err ? err->message : "unknown error");
    g_clear_error(&err);
  }
  json_node_unref(root);
  g_object_unref(g);
  g_object_unref(b);
  return st_out;
}
