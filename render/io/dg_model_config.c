#include "dg_model_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dg_file.h"

#define DG_MODEL_CONFIG_MAX_BYTES (16u << 20)

static dg_status parse(const char *text, size_t len, const char *source, dg_model_config *out) {
  DG_TRY(dg_json_parse(text, len, source, 0, 0, &out->doc));
  out->root = dg_json_root(out->doc);
  if (out->root->type != DG_JSON_OBJECT) {
    dg_json_free(out->doc);
    out->doc = NULL;
    return dg_fail(DG_ERR_FORMAT, "%s: the configuration is not a JSON object", source);
  }
  return DG_OK;
}

// The JSON beside the weights (PATH.json for PATH.safetensors, PATH.ckpt, .pt, .pth, .bin or PATH) when `sidecar`, else the
// metadata entry. *found is false when neither exists.
static dg_status load_config(const char *weights_path, const dg_weights *w, bool sidecar, dg_model_config *out,
                             bool *found) {
  memset(out, 0, sizeof *out);
  *found = false;
  size_t n = strlen(weights_path);
  static const char *const exts[] = {".safetensors", ".ckpt", ".pt", ".pth", ".bin"};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    size_t ext = strlen(exts[i]);
    if (n > ext && !strcmp(weights_path + n - ext, exts[i])) {
      n -= ext;
      break;
    }
  }
  char json[1024];
  if (snprintf(json, sizeof json, "%.*s.json", (int)n, weights_path) >= (int)sizeof json)
    return dg_fail(DG_ERR_ARG, "%s: path too long", weights_path);
  struct stat sb;
  if (sidecar && stat(json, &sb) == 0) {
    *found = true;
    snprintf(out->source, sizeof out->source, "%s", json);
    char *text = NULL;
    size_t len = 0;
    DG_TRY(dg_file_read(out->source, DG_MODEL_CONFIG_MAX_BYTES, &text, &len));
    dg_status s = parse(text, len, out->source, out);
    free(text);
    return s;
  }
  const char *meta = w ? dg_weights_metadata(w, "config") : NULL;
  if (!meta) {
    snprintf(out->source, sizeof out->source, "%s", json);
    return DG_OK;
  }
  *found = true;
  snprintf(out->source, sizeof out->source, "%s (metadata)", weights_path);
  return parse(meta, strlen(meta), out->source, out);
}

dg_status dg_model_config_load(const char *weights_path, const dg_weights *w, dg_model_config *out) {
  bool found;
  DG_TRY(load_config(weights_path, w, true, out, &found));
  if (!found)
    return dg_fail(DG_ERR_IO, "%s has no configuration: neither %s nor a 'config' metadata entry", weights_path,
                   out->source);
  return DG_OK;
}

dg_status dg_model_config_load_optional(const char *weights_path, const dg_weights *w, dg_model_config *out) {
  struct stat sb;
  bool found, file = stat(weights_path, &sb) == 0 && S_ISREG(sb.st_mode);
  dg_status s = load_config(weights_path, w, file, out, &found);
  if (s == DG_OK && !found) snprintf(out->source, sizeof out->source, "%s", weights_path);
  return s;
}

void dg_model_config_free(dg_model_config *c) {
  if (c && c->doc) dg_json_free(c->doc);
  if (c) c->doc = NULL, c->root = NULL;
}

const dg_json_value *dg_model_config_get(const dg_model_config *c, const char *path) {
  const dg_json_value *v = c->root;
  char key[128];
  for (const char *p = path; v && *p;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof key) return NULL;
    memcpy(key, p, n);
    key[n] = 0;
    v = dg_json_get(v, key);
    p += n + (dot ? 1 : 0);
  }
  return v;
}

// The value as the user wrote it, for messages: a number, or what else it is.
static const char *value_text(const dg_json_value *v, char *buf, size_t cap) {
  switch (v->type) {
  case DG_JSON_NUMBER: snprintf(buf, cap, "%.17g", v->number); return buf;
  case DG_JSON_STRING: snprintf(buf, cap, "the string \"%.40s\"", v->str); return buf;
  case DG_JSON_ARRAY: return "an array";
  case DG_JSON_OBJECT: return "an object";
  default: return "not a number";
  }
}

static dg_status int_value(const dg_model_config *c, const char *path, const dg_json_value *v, int lo, int hi,
                           int *out) {
  if (v->type != DG_JSON_NUMBER || !isfinite(v->number) || v->number != floor(v->number) || v->number < lo ||
      v->number > hi) {
    char buf[96];
    return dg_fail(DG_ERR_FORMAT, "%s: '%s' is %s, not a whole number in %d..%d", c->source, path,
                   value_text(v, buf, sizeof buf), lo, hi);
  }
  *out = (int)v->number;
  return DG_OK;
}

dg_status dg_model_config_int(const dg_model_config *c, const char *path, int def, int lo, int hi, int *out) {
  const dg_json_value *v = dg_model_config_get(c, path);
  *out = def;
  return v ? int_value(c, path, v, lo, hi, out) : DG_OK;
}

dg_status dg_model_config_ints(const dg_model_config *c, const char *path, const int *def, int n_def, int max, int lo,
                               int hi, int *out, int *n) {
  const dg_json_value *v = dg_model_config_get(c, path);
  if (!v) {
    if (n_def > max) return dg_fail(DG_ERR_ARG, "%s: default of '%s' too long", c->source, path);
    memcpy(out, def, (size_t)n_def * sizeof *out);
    *n = n_def;
    return DG_OK;
  }
  if (v->type != DG_JSON_ARRAY || v->count > (size_t)max)
    return dg_fail(DG_ERR_FORMAT, "%s: '%s' is not an array of at most %d integers", c->source, path, max);
  for (size_t i = 0; i < v->count; i++) {
    char item[160];
    snprintf(item, sizeof item, "%s[%zu]", path, i);
    DG_TRY(int_value(c, item, v->items[i], lo, hi, &out[i]));
  }
  *n = (int)v->count;
  return DG_OK;
}

dg_status dg_model_config_number(const dg_model_config *c, const char *path, double def, double lo, double hi,
                                 double *out) {
  const dg_json_value *v = dg_model_config_get(c, path);
  *out = def;
  if (!v) return DG_OK;
  if (v->type != DG_JSON_NUMBER || !isfinite(v->number) || v->number < lo || v->number > hi) {
    char buf[96];
    return dg_fail(DG_ERR_FORMAT, "%s: '%s' is %s, not a number in %g..%g", c->source, path,
                   value_text(v, buf, sizeof buf), lo, hi);
  }
  *out = v->number;
  return DG_OK;
}

dg_status dg_model_config_string(const dg_model_config *c, const char *path, const char *def, const char **out) {
  const dg_json_value *v = dg_model_config_get(c, path);
  *out = def;
  if (!v) return DG_OK;
  if (v->type != DG_JSON_STRING) return dg_fail(DG_ERR_FORMAT, "%s: '%s' is not a string", c->source, path);
  *out = v->str;
  return DG_OK;
}
