#include "dg_project.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dg_file.h"
#include "dg_json_glib.h"
#include "dg_palette.h"

static long inject_after = -1;
void dg_project_inject_write_failure(long after_bytes) { inject_after = after_bytes; }

// ---- encodings -----------------------------------------------------------------------------------

// Run-length pairs (id, run length - 1), runs of 1..256.
static uint8_t *rle_encode(const uint8_t *ids, size_t n, size_t *out_len) {
  uint8_t *out = malloc(2 * n + 2);
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    size_t run = 1;
    while (i + run < n && run < 256 && ids[i + run] == ids[i])
      run++;
    out[k++] = ids[i];
    out[k++] = (uint8_t)(run - 1);
    i += run;
  }
  *out_len = k;
  return out;
}

static bool rle_decode(const uint8_t *rle, size_t len, uint8_t *ids, size_t n) {
  if (len % 2) return false;
  size_t k = 0;
  for (size_t i = 0; i < len; i += 2) {
    size_t run = (size_t)rle[i + 1] + 1;
    if (k + run > n) return false;
    memset(ids + k, rle[i], run);
    k += run;
  }
  return k == n;
}

// g_base64_decode skips characters it does not know; a project file must be exactly base64.
static uint8_t *strict_base64(const char *s, size_t *len) {
  size_t n = strlen(s);
  if (n % 4) return NULL;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              (c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '='));
    if (!ok) return NULL;
  }
  gsize out = 0;
  uint8_t *data = g_base64_decode(s, &out);
  *len = out;
  return data;
}

// ---- writing -------------------------------------------------------------------------------------

static void add_result(JsonBuilder *b, const dg_result *r) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, r->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, r->height);
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
  json_builder_set_member_name(b, "seed");
  json_builder_add_string_value(b, seed);
  json_builder_set_member_name(b, "steps");
  json_builder_add_int_value(b, r->steps);
  json_builder_set_member_name(b, "guidance");
  json_builder_add_double_value(b, r->guidance);
  json_builder_set_member_name(b, "prompt");
  json_builder_add_string_value(b, r->prompt ? r->prompt : "");
  json_builder_set_member_name(b, "negative_prompt");
  json_builder_add_string_value(b, r->negative ? r->negative : "");
  json_builder_set_member_name(b, "model");
  json_builder_add_string_value(b, r->model ? r->model : "");
  uLong raw = (uLong)r->width * r->height * 4;
  uLongf zlen = compressBound(raw);
  uint8_t *z = malloc(zlen);
  compress2(z, &zlen, r->rgba, raw, 6);
  gchar *b64 = g_base64_encode(z, zlen);
  free(z);
  json_builder_set_member_name(b, "encoding");
  json_builder_add_string_value(b, "rgba8-zlib-base64");
  json_builder_set_member_name(b, "data");
  json_builder_add_string_value(b, b64);
  g_free(b64);
  json_builder_end_object(b);
}

char *dg_project_serialize(const dg_document *doc, size_t *length) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "format");
  json_builder_add_string_value(b, DG_PROJECT_FORMAT);
  json_builder_set_member_name(b, "version");
  json_builder_add_int_value(b, DG_PROJECT_VERSION);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, dg_document_width(doc));
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, dg_document_height(doc));
  size_t rle_len;
  uint8_t *rle =
      rle_encode(dg_document_layout(doc), (size_t)dg_document_width(doc) * dg_document_height(doc), &rle_len);
  gchar *b64 = g_base64_encode(rle, rle_len);
  free(rle);
  json_builder_set_member_name(b, "layout");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "encoding");
  json_builder_add_string_value(b, "rle8-base64");
  json_builder_set_member_name(b, "data");
  json_builder_add_string_value(b, b64);
  json_builder_end_object(b);
  g_free(b64);
  json_builder_set_member_name(b, "prompt");
  json_builder_add_string_value(b, dg_document_prompt(doc));
  json_builder_set_member_name(b, "negative_prompt");
  json_builder_add_string_value(b, dg_document_negative(doc));
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)dg_document_seed(doc));
  json_builder_set_member_name(b, "seed");
  json_builder_add_string_value(b, seed);
  json_builder_set_member_name(b, "seed_random");
  json_builder_add_boolean_value(b, dg_document_seed_random(doc));
  json_builder_set_member_name(b, "steps");
  json_builder_add_int_value(b, dg_document_steps(doc));
  json_builder_set_member_name(b, "guidance");
  json_builder_add_double_value(b, dg_document_guidance(doc));
  json_builder_set_member_name(b, "model");
  json_builder_add_string_value(b, dg_document_model(doc));
  json_builder_set_member_name(b, "results");
  json_builder_begin_array(b);
  for (int i = 0; i < dg_document_result_count(doc); i++)
    add_result(b, dg_document_result(doc, i));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "current_result");
  json_builder_add_int_value(b, dg_document_current_result(doc));
  json_builder_end_object(b);

  JsonGenerator *gen = json_generator_new();
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  gsize len = 0;
  gchar *text = json_generator_to_data(gen, &len);
  char *out = malloc(len + 2);
  memcpy(out, text, len);
  out[len++] = '\n';
  out[len] = 0;
  g_free(text);
  json_node_unref(root);
  g_object_unref(gen);
  g_object_unref(b);
  if (length) *length = len;
  return out;
}

dg_status dg_project_save(const dg_document *doc, const char *path) {
  size_t len;
  char *data = dg_project_serialize(doc, &len);
  char *tmp = g_strdup_printf("%s.XXXXXX", path);
  dg_status st = DG_OK;
  int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
  if (fd < 0) {
    st = dg_fail(DG_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    goto done;
  }
  size_t off = 0;
  while (off < len) {
    size_t chunk = len - off;
    if (inject_after >= 0 && off + chunk > (size_t)inject_after) chunk = (size_t)inject_after - off;
    ssize_t w = chunk ? write(fd, data + off, chunk) : -1;
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      st = dg_fail(DG_ERR_IO, "%s: write failed: %s", path, chunk ? strerror(errno) : "injected failure");
      break;
    }
    off += (size_t)w;
  }
  inject_after = -1;
  if (st == DG_OK && fsync(fd) != 0) st = dg_fail(DG_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
  if (close(fd) != 0 && st == DG_OK) st = dg_fail(DG_ERR_IO, "%s: close failed: %s", path, strerror(errno));
  if (st == DG_OK && rename(tmp, path) != 0) st = dg_fail(DG_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
  if (st != DG_OK) unlink(tmp);
done:
  g_free(tmp);
  free(data);
  return st;
}

// ---- reading -------------------------------------------------------------------------------------

typedef struct reader {
  dg_status status;
} reader;

#define BAD(r, ...) ((r)->status == DG_OK ? ((r)->status = dg_fail(DG_ERR_FORMAT, __VA_ARGS__)) : (r)->status)

static JsonNode *member(reader *r, JsonObject *o, const char *name, const char *where) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) BAD(r, "%s: missing \"%s\"", where, name);
  return n;
}

static bool get_int(reader *r, JsonObject *o, const char *name, const char *where, long long lo, long long hi,
                    long long *out) {
  JsonNode *n = member(r, o, name, where);
  if (!n) return false;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
    BAD(r, "%s: \"%s\" is not an integer", where, name);
    return false;
  }
  long long v = json_node_get_int(n);
  if (v < lo || v > hi) {
    BAD(r, "%s: \"%s\" = %lld outside %lld..%lld", where, name, v, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

static bool get_double(reader *r, JsonObject *o, const char *name, const char *where, double *out) {
  JsonNode *n = member(r, o, name, where);
  if (!n) return false;
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
    BAD(r, "%s: \"%s\" is not a number", where, name);
    return false;
  }
  *out = json_node_get_double(n);
  return true;
}

static const char *get_string(reader *r, JsonObject *o, const char *name, const char *where) {
  JsonNode *n = member(r, o, name, where);
  if (!n) return NULL;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    BAD(r, "%s: \"%s\" is not a string", where, name);
    return NULL;
  }
  return json_node_get_string(n);
}

static bool get_seed(reader *r, JsonObject *o, const char *where, uint64_t *out) {
  const char *s = get_string(r, o, "seed", where);
  if (!s) return false;
  guint64 v;
  if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL)) {
    BAD(r, "%s: \"seed\" \"%.40s\" is not a decimal unsigned 64-bit number", where, s);
    return false;
  }
  *out = v;
  return true;
}

static bool read_result(reader *r, JsonNode *node, int index, dg_result *res) {
  char where[48];
  snprintf(where, sizeof where, "results[%d]", index);
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    BAD(r, "%s is not an object", where);
    return false;
  }
  JsonObject *o = json_node_get_object(node);
  long long w, h, steps;
  if (!get_int(r, o, "width", where, 1, DG_DOC_MAX_SIDE, &w) ||
      !get_int(r, o, "height", where, 1, DG_DOC_MAX_SIDE, &h) ||
      !get_int(r, o, "steps", where, 0, DG_DOC_MAX_STEPS, &steps) || !get_seed(r, o, where, &res->seed) ||
      !get_double(r, o, "guidance", where, &res->guidance))
    return false;
  const char *prompt = get_string(r, o, "prompt", where), *neg = get_string(r, o, "negative_prompt", where),
             *model = get_string(r, o, "model", where), *enc = get_string(r, o, "encoding", where),
             *data = get_string(r, o, "data", where);
  if (!prompt || !neg || !model || !enc || !data) return false;
  if (strcmp(enc, "rgba8-zlib-base64")) {
    BAD(r, "%s: unknown encoding \"%.40s\"", where, enc);
    return false;
  }
  size_t zlen;
  uint8_t *z = strict_base64(data, &zlen);
  if (!z) {
    BAD(r, "%s: \"data\" is not base64", where);
    return false;
  }
  uLongf raw = (uLongf)(w * h * 4);
  res->rgba = malloc(raw);
  uLongf got = raw;
  int zs = uncompress(res->rgba, &got, z, zlen);
  g_free(z);
  if (zs != Z_OK || got != raw) {
    BAD(r, "%s: image data does not inflate to %lldx%lld RGBA8", where, h, w);
    return false;
  }
  res->width = (int)w, res->height = (int)h, res->steps = (int)steps;
  res->prompt = strdup(prompt), res->negative = strdup(neg), res->model = strdup(model);
  return true;
}

// Every image's decoded size follows from its width and height: a small file that claims huge images (a
// decompression bomb) is refused before any of them is decoded or allocated.
static bool images_fit(reader *r, long long w, long long h, JsonArray *results) {
  size_t total = (size_t)(w * h);
  for (guint i = 0; i < json_array_get_length(results); i++) {
    char where[48];
    snprintf(where, sizeof where, "results[%u]", i);
    JsonNode *n = json_array_get_element(results, i);
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      BAD(r, "%s is not an object", where);
      return false;
    }
    long long rw, rh;
    JsonObject *o = json_node_get_object(n);
    if (!get_int(r, o, "width", where, 1, DG_DOC_MAX_SIDE, &rw) ||
        !get_int(r, o, "height", where, 1, DG_DOC_MAX_SIDE, &rh))
      return false;
    total += (size_t)(rw * rh * 4);
    if (total > DG_PROJECT_MAX_IMAGE_BYTES) {
      BAD(r, "%s: its %lldx%lld (WxH) pixels bring the project's images to more than the limit of %zu MiB decoded",
          where, rw, rh, DG_PROJECT_MAX_IMAGE_BYTES >> 20);
      return false;
    }
  }
  return true;
}

static dg_document *read_document(reader *r, JsonNode *root) {
  const char *top = "project";
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    BAD(r, "the top level is not a JSON object");
    return NULL;
  }
  JsonObject *o = json_node_get_object(root);
  const char *format = get_string(r, o, "format", top);
  if (!format) return NULL;
  if (strcmp(format, DG_PROJECT_FORMAT)) {
    BAD(r, "\"format\" is \"%.40s\", not \"%s\"", format, DG_PROJECT_FORMAT);
    return NULL;
  }
  long long version, w, h, steps, current;
  if (!get_int(r, o, "version", top, 1, 1000000, &version)) return NULL;
  if (version > DG_PROJECT_VERSION) {
    BAD(r, "version %lld is newer than this editor reads (%d)", version, DG_PROJECT_VERSION);
    return NULL;
  }
  if (!get_int(r, o, "width", top, 1, DG_DOC_MAX_SIDE, &w) || !get_int(r, o, "height", top, 1, DG_DOC_MAX_SIDE, &h) ||
      !get_int(r, o, "steps", top, 1, DG_DOC_MAX_STEPS, &steps) ||
      !get_int(r, o, "current_result", top, -1, 1 << 20, &current))
    return NULL;
  uint64_t seed;
  double guidance;
  if (!get_seed(r, o, top, &seed) || !get_double(r, o, "guidance", top, &guidance)) return NULL;
  if (!(guidance >= 0 && guidance <= 100)) {
    BAD(r, "\"guidance\" %g outside 0..100", guidance);
    return NULL;
  }
  JsonNode *sr = member(r, o, "seed_random", top);
  if (!sr) return NULL;
  if (!JSON_NODE_HOLDS_VALUE(sr) || json_node_get_value_type(sr) != G_TYPE_BOOLEAN) {
    BAD(r, "\"seed_random\" is not true or false");
    return NULL;
  }
  const char *prompt = get_string(r, o, "prompt", top), *neg = get_string(r, o, "negative_prompt", top),
             *model = get_string(r, o, "model", top);
  if (!prompt || !neg || !model) return NULL;
  JsonNode *lay = member(r, o, "layout", top);
  if (!lay) return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(lay)) {
    BAD(r, "\"layout\" is not an object");
    return NULL;
  }
  const char *enc = get_string(r, json_node_get_object(lay), "encoding", "layout"),
             *data = get_string(r, json_node_get_object(lay), "data", "layout");
  if (!enc || !data) return NULL;
  if (strcmp(enc, "rle8-base64")) {
    BAD(r, "layout: unknown encoding \"%.40s\"", enc);
    return NULL;
  }
  JsonNode *results = member(r, o, "results", top);
  if (!results) return NULL;
  if (!JSON_NODE_HOLDS_ARRAY(results)) {
    BAD(r, "\"results\" is not an array");
    return NULL;
  }
  if (!images_fit(r, w, h, json_node_get_array(results))) return NULL;
  size_t rle_len;
  uint8_t *rle = strict_base64(data, &rle_len);
  if (!rle) {
    BAD(r, "layout: \"data\" is not base64");
    return NULL;
  }
  uint8_t *ids = malloc((size_t)(w * h));
  bool ok = rle_decode(rle, rle_len, ids, (size_t)(w * h));
  g_free(rle);
  if (!ok) {
    free(ids);
    BAD(r, "layout: run-length data does not cover %lldx%lld pixels exactly", h, w);
    return NULL;
  }
  dg_document *doc = dg_document_new((int)h, (int)w);
  bool good = dg_document_set_layout(doc, ids, (int)h, (int)w) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_PROMPT, prompt, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_NEGATIVE, neg, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_MODEL, model, false) == DG_OK &&
              dg_document_set_seed(doc, seed) == DG_OK &&
              dg_document_set_seed_random(doc, json_node_get_boolean(sr)) == DG_OK &&
              dg_document_set_steps(doc, (int)steps) == DG_OK && dg_document_set_guidance(doc, guidance) == DG_OK;
  free(ids);
  if (!good) {
    char *msg = strdup(dg_last_error());
    BAD(r, "%s", msg);
    free(msg);
  }
  JsonArray *a = json_node_get_array(results);
  int n = (int)json_array_get_length(a);
  for (int i = 0; good && i < n; i++) {
    dg_result res = {0};
    good = read_result(r, json_array_get_element(a, i), i, &res);
    if (good) dg_document_add_result(doc, &res);
    dg_result_clear(&res);
  }
  if (good && current >= n) {
    BAD(r, "\"current_result\" %lld but only %d results", current, n);
    good = false;
  }
  if (!good) {
    dg_document_free(doc);
    return NULL;
  }
  dg_document_set_current_result(doc, (int)current);
  dg_document_clear_history(doc);
  return doc;
}

dg_document *dg_project_parse(const char *data, size_t length, dg_status *status) {
  reader r = {DG_OK};
  JsonParser *parser = json_parser_new();
  dg_document *doc = NULL;
  JsonNode *root;
  if (length > DG_PROJECT_MAX_BYTES) {
    BAD(&r, "%zu bytes, more than the limit of %zu bytes for a project", length, DG_PROJECT_MAX_BYTES);
  } else if (!g_utf8_validate(data, (gssize)length, NULL)) {
    BAD(&r, "not UTF-8 text (is this a .dirigent project file?)");
  } else if (!(root = dg_json_glib_parse(parser, data, length, NULL, DG_PROJECT_MAX_BYTES, &r.status))) {
    // r.status and the message are set
  } else {
    doc = read_document(&r, root);
  }
  g_object_unref(parser);
  *status = r.status;
  return doc;
}

dg_document *dg_project_load(const char *path, dg_status *status) {
  char *data = NULL;
  size_t len = 0;
  if ((*status = dg_file_read(path, DG_PROJECT_MAX_BYTES, &data, &len)) != DG_OK) return NULL;
  dg_document *doc = dg_project_parse(data, len, status);
  free(data);
  if (!doc) {
    char *msg = strdup(dg_last_error());
    dg_fail(*status, "%s: %s", path, msg);
    free(msg);
  }
  return doc;
}
