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

dg_status dg_model_config_load(const char *weights_path, const dg_weights *w, dg_model_config *out) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(weights_path), ext = strlen(".safetensors");
  if (n > ext && !strcmp(weights_path + n - ext, ".safetensors")) n -= ext;
  char json[1024];
  if (snprintf(json, sizeof json, "%.*s.json", (int)n, weights_path) >= (int)sizeof json)
    return dg_fail(DG_ERR_ARG, "%s: path too long", weights_path);
  struct stat sb;
  if (stat(json, &sb) == 0) {
    snprintf(out->source, sizeof out->source, "%s", json);
    char *text = NULL;
    size_t len = 0;
    DG_TRY(dg_file_read(out->source, DG_MODEL_CONFIG_MAX_BYTES, &text, &len));
    dg_status s = parse(text, len, out->source, out);
    free(text);
    return s;
  }
  const char *meta = w ? dg_weights_metadata(w, "config") : NULL;
  if (!meta)
    return dg_fail(DG_ERR_IO, "%s has no configuration: neither %s nor a 'config' metadata entry", weights_path, json);
  snprintf(out->source, sizeof out->source, "%s (metadata)", weights_path);
  return parse(meta, strlen(meta), out->source, out);
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

static bool as_int(const dg_json_value *v, int *out) {
  if (v->type != DG_JSON_NUMBER || v->number != floor(v->number) || fabs(v->number) > 1e9) return false;
  *out = (int)v->number;
  return true;
}

dg_status dg_model_config_int(const dg_model_config *c, const char *path, int def, int *out) {
  const dg_json_value *v = dg_model_config_get(c, path);
  *out = def;
  if (v && !as_int(v, out)) return dg_fail(DG_ERR_FORMAT, "%s: '%s' is not an integer", c->source, path);
  return DG_OK;
}

dg_status dg_model_config_ints(const dg_model_config *c, const char *path, const int *def, int n_def, int max,
                               int *out, int *n) {
  const dg_json_value *v = dg_model_config_get(c, path);
  if (!v) {
    if (n_def > max) return dg_fail(DG_ERR_ARG, "%s: default of '%s' too long", c->source, path);
    memcpy(out, def, (size_t)n_def * sizeof *out);
    *n = n_def;
    return DG_OK;
  }
  if (v->type != DG_JSON_ARRAY || v->count > (size_t)max)
    return dg_fail(DG_ERR_FORMAT, "%s: '%s' is not an array of at most %d integers", c->source, path, max);
  for (size_t i = 0; i < v->count; i++)
    if (!as_int(v->items[i], &out[i]))
      return dg_fail(DG_ERR_FORMAT, "%s: '%s'[%zu] is not an integer", c->source, path, i);
  *n = (int)v->count;
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
