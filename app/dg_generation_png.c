#include "dg_generation_png.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dg_json_glib.h"
#include "dg_png.h"
#include "dg_settings.h"

// The control scale written: 0 (a caller that did not set it) is the ControlNet as trained.
static double written_scale(const dg_generation_info *g) { return g->control_scale > 0 ? g->control_scale : 1; }

static const char *or_empty(const char *s) { return s ? s : ""; }

static char *parameters_text(const dg_generation_info *g) {
  // A quote would end the quoted value early: the marks syntax has none, so one is dropped.
  char *marks = g_strdup(or_empty(g->marks));
  g_strdelimit(marks, "\"\n", ' ');
  char scale[48] = "", num[G_ASCII_DTOSTR_BUF_SIZE]; // the locale's decimal comma would split the field
  if (written_scale(g) != 1)
    snprintf(scale, sizeof scale, ", Control scale: %s", g_ascii_formatd(num, sizeof num, "%g", written_scale(g)));
  char *t = g_strdup_printf("%s\nNegative prompt: %s\nSteps: %d, Sampler: %s, CFG scale: %g, Seed: %llu, Size: %dx%d, "
                            "Model: %s%s%s%s%s%s%s%s",
                            or_empty(g->prompt), or_empty(g->negative), g->steps, or_empty(g->sampler), g->cfg,
                            (unsigned long long)g->seed, g->width, g->height, or_empty(g->model),
                            g->layout && *g->layout ? ", ControlNet: layout" : "", scale, *marks ? ", Marks: \"" : "",
                            marks, *marks ? "\"" : "", g->guidance ? ", Guidance: " : "",
                            g->guidance ? dg_guidance_name(g->guidance) : "");
  g_free(marks);
  return t;
}

static char *job_json(const dg_generation_info *g) {
  JsonBuilder *b = json_builder_new();
  char seed[24]; // a string: JSON numbers lose 64-bit precision in many readers
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->seed);
  json_builder_begin_object(b);
  const char *keys[] = {"generator", "prompt", "negative", "sampler", "model", "layout", "seed", "marks", "guidance"};
  const char *vals[] = {"dirigent",          or_empty(g->prompt), or_empty(g->negative), or_empty(g->sampler),
                        or_empty(g->model), or_empty(g->layout), seed,                  or_empty(g->marks),
                        dg_guidance_name(g->guidance)};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    json_builder_set_member_name(b, keys[i]);
    json_builder_add_string_value(b, vals[i]);
  }
  json_builder_set_member_name(b, "steps"), json_builder_add_int_value(b, g->steps);
  json_builder_set_member_name(b, "cfg"), json_builder_add_double_value(b, g->cfg);
  json_builder_set_member_name(b, "control_scale"), json_builder_add_double_value(b, written_scale(g));
  json_builder_set_member_name(b, "width"), json_builder_add_int_value(b, g->width);
  json_builder_set_member_name(b, "height"), json_builder_add_int_value(b, g->height);
  json_builder_end_object(b);
  JsonGenerator *gen = json_generator_new();
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  char *text = json_generator_to_data(gen, NULL);
  json_node_unref(root);
  g_object_unref(gen);
  g_object_unref(b);
  return text;
}

dg_status dg_generation_png_write(const char *path, const uint8_t *pixels, int channels, const dg_generation_info *info) {
  if (channels != 3 && channels != 4) return dg_fail(DG_ERR_ARG, "png: %d channels (3 or 4)", channels);
  char *params = parameters_text(info), *job = job_json(info);
  dg_png_text texts[2] = {{"parameters", params}, {"dirigent", job}};
  dg_png_write_opts o = {.texts = texts, .n_texts = 2};
  dg_status s = dg_png_write_atomic(path, info->width, info->height, pixels, channels, &o);
  g_free(params);
  g_free(job);
  return s;
}

void dg_generation_info_clear(dg_generation_info *g) {
  g_free(g->prompt), g_free(g->negative), g_free(g->sampler), g_free(g->model), g_free(g->layout);
  g_free(g->marks);
  memset(g, 0, sizeof *g);
}

static char *member_string(JsonObject *o, const char *key) {
  const char *v = dg_json_member_string(o, key);
  return g_strdup(v ? v : "");
}

// The attention guidance by name ("" or absent: none); another name is a format error naming it.
static dg_status read_guidance(const char *path, const char *name, dg_guidance_kind *out) {
  if (dg_guidance_parse(name, out) == DG_OK) return DG_OK;
  return dg_fail(DG_ERR_FORMAT, "%s: unknown attention guidance '%.64s' (none, attend-excite or divide-bind)", path,
                 name);
}

// A number member: `def` when absent, NAN when present but not a number (json-glib's getters log a
// critical for arrays, objects and null and read strings as 0).
static double member_number(JsonObject *o, const char *key, double def) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n) return def;
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE ? json_node_get_double(n) : NAN;
}

static dg_status parse_job(const char *path, const char *text, dg_generation_info *g) {
  JsonParser *p = json_parser_new();
  char *source = g_strdup_printf("%s: the dirigent chunk", path);
  dg_status s = DG_OK;
  JsonNode *root = dg_json_glib_parse(p, text, strlen(text), source, DG_JSON_MAX_SMALL, &s);
  if (root && !JSON_NODE_HOLDS_OBJECT(root)) {
    s = dg_fail(DG_ERR_FORMAT, "%s is not a JSON object", source);
  } else if (root) {
    JsonObject *o = json_node_get_object(root);
    g->prompt = member_string(o, "prompt"), g->negative = member_string(o, "negative");
    g->sampler = member_string(o, "sampler"), g->model = member_string(o, "model");
    g->layout = member_string(o, "layout"), g->marks = member_string(o, "marks");
    char *seed = member_string(o, "seed");
    g->seed = g_ascii_strtoull(seed, NULL, 10);
    g_free(seed);
    double steps = member_number(o, "steps", 25), w = member_number(o, "width", 0), h = member_number(o, "height", 0);
    g->cfg = member_number(o, "cfg", 7.5);
    if (!(steps >= 1 && steps <= 1000 && steps == floor(steps)) || !(g->cfg >= 0 && g->cfg <= 100))
      s = dg_fail(DG_ERR_FORMAT, "%s: steps %g or guidance %g out of range (steps 1..1000, guidance 0..100)", path,
                  steps, g->cfg);
    else if (!(w >= 0 && w <= 65536 && w == floor(w) && h >= 0 && h <= 65536 && h == floor(h)))
      s = dg_fail(DG_ERR_FORMAT, "%s: image size %g x %g is not two whole numbers up to 65536", path, w, h);
    g->steps = s == DG_OK ? (int)steps : 25, g->width = s == DG_OK ? (int)w : 0, g->height = s == DG_OK ? (int)h : 0;
    // "control_scale" came later: absent is the ControlNet as trained.
    g->control_scale = member_number(o, "control_scale", 1);
    if (s == DG_OK && !(g->control_scale > 0 && g->control_scale <= DG_SETTINGS_MAX_CONTROL_SCALE))
      s = dg_fail(DG_ERR_FORMAT, "%s: control_scale %g out of range (above 0, at most %g)", path, g->control_scale,
                  DG_SETTINGS_MAX_CONTROL_SCALE);
    char *guidance = member_string(o, "guidance");
    if (s == DG_OK) s = read_guidance(path, guidance, &g->guidance);
    g_free(guidance);
  }
  g_free(source);
  g_object_unref(p);
  return s;
}

// A1111: "PROMPT\nNegative prompt: NEG\nSteps: 20, Sampler: X, CFG scale: 7, Seed: 1, Size: 512x512, ...".
static dg_status parse_parameters(const char *path, const char *text, dg_generation_info *g) {
  const char *neg = strstr(text, "\nNegative prompt: ");
  const char *last = strrchr(text, '\n');
  if (!last || !strstr(last, "Steps: "))
    return dg_fail(DG_ERR_FORMAT, "%s: the parameters chunk has no 'Steps:' line", path);
  g->prompt = g_strndup(text, (gsize)((neg ? neg : last) - text));
  g->negative = neg && neg < last ? g_strndup(neg + 18, (gsize)(last - neg - 18)) : g_strdup("");
  g->sampler = g_strdup(""), g->model = g_strdup(""), g->layout = g_strdup("");
  g->steps = 25, g->cfg = 7.5, g->control_scale = 1;
  const char *marks = strstr(last + 1, ", Marks: \""); // quoted: its value holds ", "
  if (marks) {
    marks += 10;
    const char *end = strchr(marks, '"');
    g->marks = end ? g_strndup(marks, (gsize)(end - marks)) : g_strdup(marks);
  } else {
    g->marks = g_strdup("");
  }
  char **fields = g_strsplit(last + 1, ", ", -1);
  dg_status s = DG_OK;
  for (char **f = fields; *f; f++) {
    if (g_str_has_prefix(*f, "Steps: ")) g->steps = atoi(*f + 7);
    else if (g_str_has_prefix(*f, "CFG scale: ")) g->cfg = g_ascii_strtod(*f + 11, NULL);
    else if (g_str_has_prefix(*f, "Control scale: ")) g->control_scale = g_ascii_strtod(*f + 15, NULL);
    else if (g_str_has_prefix(*f, "Seed: ")) g->seed = g_ascii_strtoull(*f + 6, NULL, 10);
    else if (g_str_has_prefix(*f, "Sampler: ")) g_free(g->sampler), g->sampler = g_strdup(*f + 9);
    else if (g_str_has_prefix(*f, "Size: ")) sscanf(*f + 6, "%dx%d", &g->width, &g->height);
    else if (g_str_has_prefix(*f, "Guidance: ") && s == DG_OK) s = read_guidance(path, *f + 10, &g->guidance);
  }
  g_strfreev(fields);
  if (s != DG_OK) return s;
  if (g->steps < 1 || g->steps > 1000 || !(g->cfg >= 0 && g->cfg <= 100))
    return dg_fail(DG_ERR_FORMAT, "%s: steps %d or guidance %g out of range", path, g->steps, g->cfg);
  if (!(g->control_scale > 0 && g->control_scale <= DG_SETTINGS_MAX_CONTROL_SCALE))
    return dg_fail(DG_ERR_FORMAT, "%s: control scale %g out of range (above 0, at most %g)", path, g->control_scale,
                   DG_SETTINGS_MAX_CONTROL_SCALE);
  return DG_OK;
}

dg_status dg_generation_png_read(const char *path, dg_generation_info *out) {
  memset(out, 0, sizeof *out);
  dg_png_text_list list;
  DG_TRY(dg_png_read_texts(path, &list));
  const char *job = dg_png_text_find(&list, "dirigent"), *params = dg_png_text_find(&list, "parameters");
  // A chunk that is there but unreadable (e.g. an iTXt chunk that is not UTF-8) is an error, not skipped.
  const char *bad = dg_png_text_problem(&list, "dirigent");
  if (!bad && !job) bad = dg_png_text_problem(&list, "parameters");
  dg_status s = bad      ? dg_fail(DG_ERR_FORMAT, "%s: %s", path, bad)
                : job    ? parse_job(path, job, out)
                : params ? parse_parameters(path, params, out)
                         : dg_fail(DG_ERR_FORMAT, "%s has no generation parameters (no 'dirigent' or 'parameters' "
                                                  "text chunk)", path);
  dg_png_text_list_free(&list);
  if (s != DG_OK) dg_generation_info_clear(out);
  return s;
}
