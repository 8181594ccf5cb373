#include "dg_project.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dg_bundle.h"
#include "dg_command.h"
#include "dg_file.h"
#include "dg_guidance.h"
#include "dg_json_glib.h"
#include "dg_palette.h"
#include "dg_png.h"
#include "dg_settings.h"
#include "dg_timeline_json.h"

static long inject_after = -1;
void dg_project_inject_write_failure(long after_bytes) { inject_after = after_bytes; }

// Fails with `status` and the calling thread's last message put under `prefix` ("prefix: message").
static dg_status fail_under(dg_status status, const char *prefix) {
  char *msg = strdup(dg_last_error());
  dg_status st = dg_fail(status, "%s: %s", prefix, msg);
  free(msg);
  return st;
}

// ---- encodings -----------------------------------------------------------------------------------

// Version 1 layouts: run-length pairs (id, run length - 1), runs of 1..256.
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

// The colours layout.png shows in an image viewer: the file stores class ids (the palette index of
// each pixel), the colours are only a view, spread round the hue circle by the golden angle.
static void id_palette(dg_png_palette *pal) {
  pal->n_classes = 255;
  for (int i = 0; i < 255; i++) {
    double h = fmod(i * 0.6180339887, 1.0) * 6, f = h - floor(h);
    double v = 0.95, p = v * 0.35, q = v * (1 - 0.65 * f), t = v * (1 - 0.65 * (1 - f)), rgb[3];
    switch ((int)h) {
    case 0: rgb[0] = v, rgb[1] = t, rgb[2] = p; break;
    case 1: rgb[0] = q, rgb[1] = v, rgb[2] = p; break;
    case 2: rgb[0] = p, rgb[1] = v, rgb[2] = t; break;
    case 3: rgb[0] = p, rgb[1] = q, rgb[2] = v; break;
    case 4: rgb[0] = t, rgb[1] = p, rgb[2] = v; break;
    default: rgb[0] = v, rgb[1] = p, rgb[2] = q; break;
    }
    for (int c = 0; c < 3; c++)
      pal->rgb[i][c] = (uint8_t)lround(rgb[c] * 255);
  }
  memset(pal->unlabelled_rgb, 0, 3);
}

static void add_string(JsonBuilder *b, const char *name, const char *value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value ? value : "");
}
static void add_int(JsonBuilder *b, const char *name, gint64 value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}
static void add_seed(JsonBuilder *b, uint64_t seed) {
  char text[32];
  snprintf(text, sizeof text, "%llu", (unsigned long long)seed);
  add_string(b, "seed", text);
}
static void add_double(JsonBuilder *b, const char *name, double value) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, value);
}

static void add_result(JsonBuilder *b, const dg_result *r, const char *file) {
  json_builder_begin_object(b);
  add_int(b, "width", r->width);
  add_int(b, "height", r->height);
  add_seed(b, r->seed);
  add_int(b, "steps", r->steps);
  add_double(b, "guidance", r->guidance);
  add_double(b, "control_scale", r->control_scale > 0 ? r->control_scale : 1);
  add_string(b, "prompt", r->prompt);
  add_string(b, "negative_prompt", r->negative);
  add_string(b, "model", r->model);
  // The marks and their guidance, when the result had them (older results, and plain ones, have none).
  if (r->marks && *r->marks) add_string(b, "marks", r->marks);
  if (r->attn_guidance && strcmp(r->attn_guidance, "none")) add_string(b, "attention_guidance", r->attn_guidance);
  if (r->style) add_string(b, "style", r->style); // a stylized result: how it was made
  add_string(b, "encoding", "png");
  add_string(b, "file", file);
  json_builder_end_object(b);
}

static char *result_file(int index) { return g_strdup_printf("results/%04d.png", index + 1); }
// Frame `frame` of video `video`: each video a folder of its own.
static char *video_file(int video, int frame) { return g_strdup_printf("video/%04d/%04d.png", video + 1, frame + 1); }
static char *style_file(dg_style_slot slot) { return g_strdup_printf("style/%s.png", dg_style_slot_name(slot)); }

// The style panel: method, strength and each slot (null when empty) with its source and image file.
static void add_style(JsonBuilder *b, const dg_style *st) {
  json_builder_set_member_name(b, "style");
  json_builder_begin_object(b);
  add_string(b, "method", dg_stylize_method_name(st->method));
  add_double(b, "strength", st->strength);
  for (int k = 0; k < 2; k++) {
    const dg_style_image *img = st->slot[k];
    json_builder_set_member_name(b, dg_style_slot_name((dg_style_slot)k));
    if (!img) {
      json_builder_add_null_value(b);
      continue;
    }
    json_builder_begin_object(b);
    add_int(b, "width", dg_style_image_width(img));
    add_int(b, "height", dg_style_image_height(img));
    add_string(b, "source", dg_style_image_source(img));
    add_string(b, "encoding", "png");
    char *file = style_file((dg_style_slot)k);
    add_string(b, "file", file);
    g_free(file);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

// A generated video (videos[index]): its settings, timeline and attention matrix, and one PNG file per frame.
static void add_video(JsonBuilder *b, const dg_video_result *v, int index) {
  json_builder_begin_object(b);
  add_int(b, "width", v->frames.width);
  add_int(b, "height", v->frames.height);
  add_int(b, "frames", v->frames.frames);
  add_seed(b, v->seed);
  add_int(b, "steps", v->steps);
  add_double(b, "guidance", v->guidance);
  add_double(b, "control_scale", v->control_scale > 0 ? v->control_scale : 1);
  add_string(b, "negative_prompt", v->negative);
  add_string(b, "model", v->model);
  json_builder_set_member_name(b, "timeline");
  dg_timeline_json_write(b, &v->timeline);
  if (v->attention) {
    json_builder_set_member_name(b, "attention");
    json_builder_begin_array(b);
    for (int i = 0; i < v->attention_frames * v->attention_frames; i++)
      json_builder_add_double_value(b, v->attention[i]);
    json_builder_end_array(b);
  }
  add_string(b, "encoding", "png");
  json_builder_set_member_name(b, "files");
  json_builder_begin_array(b);
  for (int i = 0; i < v->frames.frames; i++) {
    char *file = video_file(index, i);
    json_builder_add_string_value(b, file);
    g_free(file);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

// project.json: the version 1 keys, with the layout and results as PNG files of the bundle.
static char *project_json(const dg_document *doc, size_t *length) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "format", DG_PROJECT_FORMAT);
  add_int(b, "version", DG_PROJECT_VERSION);
  add_int(b, "width", dg_document_width(doc));
  add_int(b, "height", dg_document_height(doc));
  json_builder_set_member_name(b, "layout");
  json_builder_begin_object(b);
  add_string(b, "encoding", "png");
  add_string(b, "file", DG_PROJECT_LAYOUT_FILE);
  json_builder_end_object(b);
  add_string(b, "prompt", dg_document_prompt(doc));
  add_string(b, "negative_prompt", dg_document_negative(doc));
  add_seed(b, dg_document_seed(doc));
  json_builder_set_member_name(b, "seed_random");
  json_builder_add_boolean_value(b, dg_document_seed_random(doc));
  json_builder_set_member_name(b, "live");
  json_builder_add_boolean_value(b, dg_document_live(doc));
  add_int(b, "steps", dg_document_steps(doc));
  add_double(b, "guidance", dg_document_guidance(doc));
  add_double(b, "control_scale", dg_document_control_scale(doc));
  add_string(b, "model", dg_document_model(doc));
  add_string(b, "palette", dg_document_palette(doc));
  add_string(b, "marks", dg_document_marks(doc));
  add_string(b, "attention_guidance", dg_document_attn_guidance(doc));
  json_builder_set_member_name(b, "results");
  json_builder_begin_array(b);
  for (int i = 0; i < dg_document_result_count(doc); i++) {
    char *file = result_file(i);
    add_result(b, dg_document_result(doc, i), file);
    g_free(file);
  }
  json_builder_end_array(b);
  add_int(b, "current_result", dg_document_current_result(doc));
  json_builder_set_member_name(b, "timeline");
  dg_timeline_json_write(b, dg_document_timeline(doc));
  json_builder_set_member_name(b, "videos");
  json_builder_begin_array(b);
  for (int i = 0; i < dg_document_video_count(doc); i++)
    add_video(b, dg_document_video_at(doc, i), i);
  json_builder_end_array(b);
  add_int(b, "current_video", dg_document_current_video(doc));
  add_style(b, dg_document_style(doc));
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
  *length = len;
  return out;
}

char *dg_project_serialize(const dg_document *doc, size_t *length) {
  dg_bundle_writer *w = dg_bundle_writer_new();
  dg_bundle_writer_add(w, "mimetype", DG_PROJECT_MIMETYPE, strlen(DG_PROJECT_MIMETYPE));
  size_t len;
  char *json = project_json(doc, &len);
  dg_bundle_writer_add(w, DG_PROJECT_JSON_FILE, json, len);
  free(json);
  dg_png_palette pal;
  id_palette(&pal);
  uint8_t *png = NULL;
  bool ok = dg_png_encode_label(DG_PROJECT_LAYOUT_FILE, dg_document_width(doc), dg_document_height(doc),
                                dg_document_layout(doc), &pal, NULL, &png, &len) == DG_OK;
  if (ok) dg_bundle_writer_add(w, DG_PROJECT_LAYOUT_FILE, png, len);
  free(png);
  for (int i = 0; ok && i < dg_document_result_count(doc); i++) {
    const dg_result *r = dg_document_result(doc, i);
    char *file = result_file(i);
    png = NULL;
    ok = dg_png_encode_rgba8(file, r->width, r->height, r->rgba, NULL, &png, &len) == DG_OK;
    if (ok) dg_bundle_writer_add(w, file, png, len);
    free(png);
    g_free(file);
  }
  for (int k = 0; ok && k < dg_document_video_count(doc); k++) {
    const dg_video_result *v = dg_document_video_at(doc, k);
    for (int i = 0; ok && i < v->frames.frames; i++) {
      char *file = video_file(k, i);
      png = NULL;
      ok = dg_png_encode_rgba8(file, v->frames.width, v->frames.height, dg_media_frame(&v->frames, i), NULL, &png,
                               &len) == DG_OK;
      if (ok) dg_bundle_writer_add(w, file, png, len);
      free(png);
      g_free(file);
    }
  }
  const dg_style *st = dg_document_style(doc);
  for (int k = 0; ok && k < 2; k++) {
    const dg_style_image *img = st->slot[k];
    if (!img) continue;
    char *file = style_file((dg_style_slot)k);
    png = NULL;
    ok = dg_png_encode_rgba8(file, dg_style_image_width(img), dg_style_image_height(img), dg_style_image_rgba(img),
                             NULL, &png, &len) == DG_OK;
    if (ok) dg_bundle_writer_add(w, file, png, len);
    free(png);
    g_free(file);
  }
  if (!ok) {
    dg_bundle_writer_free(w);
    return NULL;
  }
  return (char *)dg_bundle_writer_finish(w, length);
}

// Writes `len` bytes to fd, failing after inject_after bytes when the test hook is set.
static dg_status write_all(int fd, const char *data, size_t len, const char *path) {
  size_t off = 0;
  while (off < len) {
    size_t chunk = len - off;
    if (inject_after >= 0 && off + chunk > (size_t)inject_after) chunk = (size_t)inject_after - off;
    ssize_t w = chunk ? write(fd, data + off, chunk) : -1;
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return dg_fail(DG_ERR_IO, "%s: write failed: %s", path, chunk ? strerror(errno) : "injected failure");
    }
    off += (size_t)w;
  }
  return DG_OK;
}

// After the rename, the directory entry itself is made durable (failures here change nothing).
static void sync_directory(const char *path) {
  char *dir = g_path_get_dirname(path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  g_free(dir);
}

dg_status dg_project_save(const dg_document *doc, const char *path) {
  size_t len = 0;
  char *data = dg_project_serialize(doc, &len);
  if (!data) {
    inject_after = -1;
    return fail_under(DG_ERR_IO, path);
  }
  char *tmp = g_strdup_printf("%s.XXXXXX", path);
  dg_status st = DG_OK;
  int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
  if (fd < 0) {
    st = dg_fail(DG_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    goto done;
  }
  st = write_all(fd, data, len, path);
  inject_after = -1;
  if (st == DG_OK && fsync(fd) != 0) st = dg_fail(DG_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
  if (close(fd) != 0 && st == DG_OK) st = dg_fail(DG_ERR_IO, "%s: close failed: %s", path, strerror(errno));
  if (st == DG_OK && rename(tmp, path) != 0) st = dg_fail(DG_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
  if (st != DG_OK)
    unlink(tmp);
  else
    sync_directory(path);
done:
  g_free(tmp);
  free(data);
  return st;
}

// ---- reading -------------------------------------------------------------------------------------

typedef struct reader {
  dg_status status;
  const dg_bundle *bundle; // resolves "file" references; NULL for a single JSON file (version 1)
} reader;

#define BAD(r, ...) ((r)->status == DG_OK ? ((r)->status = dg_fail(DG_ERR_FORMAT, __VA_ARGS__)) : (r)->status)

// The first problem: the message a failed read below left, under `where`.
static void bad_under(reader *r, const char *where) {
  if (r->status == DG_OK) r->status = fail_under(DG_ERR_FORMAT, where);
}

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
  if (!isfinite(*out)) { // json-glib reads 1e999 as inf, which would save as unreadable JSON
    BAD(r, "%s: \"%s\" is not a finite number", where, name);
    return false;
  }
  return true;
}

static const char *get_string(reader *r, JsonObject *o, const char *name, const char *where) {
  JsonNode *n = member(r, o, name, where);
  if (!n) return NULL;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    BAD(r, "%s: \"%s\" is not a string", where, name);
    return NULL;
  }
  // json-glib turns an escaped lone surrogate ("\udc00") into bytes that are not UTF-8: refused here, for
  // every string, so nothing read can make a project that does not reopen.
  const char *s = json_node_get_string(n);
  if (!g_utf8_validate(s, -1, NULL)) {
    BAD(r, "%s: \"%s\" is not valid UTF-8 (an escaped lone surrogate?)", where, name);
    return NULL;
  }
  return s;
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

// "control_scale" (the layout strength) came later: absent is 1, the ControlNet as trained; present, a number
// above 0, at most DG_SETTINGS_MAX_CONTROL_SCALE.
static bool get_control_scale(reader *r, JsonObject *o, const char *where, double *out) {
  *out = 1;
  if (!json_object_has_member(o, "control_scale")) return true;
  if (!get_double(r, o, "control_scale", where, out)) return false;
  if (!(*out > 0 && *out <= DG_SETTINGS_MAX_CONTROL_SCALE)) {
    BAD(r, "%s: \"control_scale\" %g outside the layout strength's range (above 0, at most %g)", where, *out,
        DG_SETTINGS_MAX_CONTROL_SCALE);
    return false;
  }
  return true;
}

// The bytes of the bundle file that `o`'s "file" names (project entries are capped at
// DG_PROJECT_MAX_ENTRY bytes).
static uint8_t *read_file_member(reader *r, JsonObject *o, const char *where, const char *enc, const char **name,
                                 size_t *len) {
  if (!r->bundle) {
    BAD(r, "%s: \"encoding\" \"%.40s\" refers to a file of a project bundle, but this project is a single JSON file",
        where, enc);
    return NULL;
  }
  if (!(*name = get_string(r, o, "file", where))) return NULL;
  uint8_t *data = dg_bundle_read(r->bundle, *name, DG_PROJECT_MAX_ENTRY, len);
  if (!data) bad_under(r, where);
  return data;
}

// A result's RGBA8 pixels: zlib-compressed base64 inline (version 1) or a PNG file of the bundle.
static uint8_t *read_result_pixels(reader *r, JsonObject *o, const char *where, const char *enc, long long w,
                                   long long h) {
  if (!strcmp(enc, "png")) {
    const char *name;
    size_t len;
    uint8_t *png = read_file_member(r, o, where, enc, &name, &len), *rgba = NULL;
    if (!png) return NULL;
    // The size from the PNG's header first: the decoded size images_fit counted is then the real one.
    int pw, ph;
    if (dg_png_read_size_mem(png, len, name, &pw, &ph) != DG_OK)
      bad_under(r, where);
    else if (pw != w || ph != h)
      BAD(r, "%s: %s is %dx%d pixels, not %lldx%lld", where, name, pw, ph, w, h);
    else if (dg_png_read_rgba8_mem(png, len, name, &pw, &ph, &rgba) != DG_OK)
      bad_under(r, where);
    free(png);
    if (r->status == DG_OK) return rgba;
    free(rgba);
    return NULL;
  }
  if (strcmp(enc, "rgba8-zlib-base64")) {
    BAD(r, "%s: unknown encoding \"%.40s\"", where, enc);
    return NULL;
  }
  const char *data = get_string(r, o, "data", where);
  if (!data) return NULL;
  size_t zlen;
  uint8_t *z = strict_base64(data, &zlen);
  if (!z) {
    BAD(r, "%s: \"data\" is not base64", where);
    return NULL;
  }
  uLongf raw = (uLongf)(w * h * 4);
  uint8_t *rgba = malloc(raw);
  uLongf got = raw;
  int zs = uncompress(rgba, &got, z, zlen);
  g_free(z);
  if (zs != Z_OK || got != raw) {
    BAD(r, "%s: image data does not inflate to %lldx%lld RGBA8", where, h, w);
    free(rgba);
    return NULL;
  }
  return rgba;
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
      !get_double(r, o, "guidance", where, &res->guidance) || !get_control_scale(r, o, where, &res->control_scale))
    return false;
  const char *prompt = get_string(r, o, "prompt", where), *neg = get_string(r, o, "negative_prompt", where),
             *model = get_string(r, o, "model", where), *enc = get_string(r, o, "encoding", where);
  if (!prompt || !neg || !model || !enc) return false;
  const char *marks = json_object_has_member(o, "marks") ? get_string(r, o, "marks", where) : "";
  const char *attn = json_object_has_member(o, "attention_guidance") ? get_string(r, o, "attention_guidance", where)
                                                                     : "none";
  const char *style = json_object_has_member(o, "style") ? get_string(r, o, "style", where) : "";
  if (!marks || !attn || !style) return false;
  dg_guidance_kind kind;
  if (dg_guidance_parse(attn, &kind) != DG_OK) {
    char *msg = strdup(dg_last_error());
    BAD(r, "%s: %s", where, msg);
    free(msg);
    return false;
  }
  if (!(res->rgba = read_result_pixels(r, o, where, enc, w, h))) return false;
  res->width = (int)w, res->height = (int)h, res->steps = (int)steps;
  res->prompt = strdup(prompt), res->negative = strdup(neg), res->model = strdup(model);
  res->marks = *marks ? strdup(marks) : NULL;
  res->attn_guidance = kind != DG_GUIDANCE_NONE ? strdup(dg_guidance_name(kind)) : NULL;
  res->style = *style ? strdup(style) : NULL;
  return true;
}

// The layout's class ids: run-length pairs in base64 inline (version 1) or an 8-bit indexed (or
// grey) PNG of the bundle whose pixel values are the ids.
static uint8_t *read_layout(reader *r, JsonNode *lay, long long w, long long h) {
  if (!JSON_NODE_HOLDS_OBJECT(lay)) {
    BAD(r, "\"layout\" is not an object");
    return NULL;
  }
  JsonObject *o = json_node_get_object(lay);
  const char *enc = get_string(r, o, "encoding", "layout");
  if (!enc) return NULL;
  uint8_t *ids = NULL;
  if (!strcmp(enc, "png")) {
    const char *name;
    size_t len;
    uint8_t *png = read_file_member(r, o, "layout", enc, &name, &len);
    if (!png) return NULL;
    dg_png_palette pal;
    id_palette(&pal);
    int pw = (int)w, ph = (int)h;
    if (dg_png_read_label_mem(png, len, name, &pal, &pw, &ph, &ids) != DG_OK) bad_under(r, "layout");
    free(png);
    return ids;
  }
  if (strcmp(enc, "rle8-base64")) {
    BAD(r, "layout: unknown encoding \"%.40s\"", enc);
    return NULL;
  }
  const char *data = get_string(r, o, "data", "layout");
  if (!data) return NULL;
  size_t rle_len;
  uint8_t *rle = strict_base64(data, &rle_len);
  if (!rle) {
    BAD(r, "layout: \"data\" is not base64");
    return NULL;
  }
  ids = malloc((size_t)(w * h));
  bool ok = rle_decode(rle, rle_len, ids, (size_t)(w * h));
  g_free(rle);
  if (!ok) {
    free(ids);
    BAD(r, "layout: run-length data does not cover %lldx%lld pixels exactly", h, w);
    return NULL;
  }
  return ids;
}

// Every image's decoded size follows from its width and height (a bundle's PNGs are checked against them
// from their headers): a small file that claims huge images (a decompression bomb) is refused before any
// of them is decoded or allocated.
// Where messages place video k: "videos[k]", or "video" for a project's one video of before.
static void video_where(char *out, size_t cap, bool legacy, int k) {
  if (legacy) snprintf(out, cap, "video");
  else snprintf(out, cap, "videos[%d]", k);
}

// The project's video nodes (g_free the array): "videos"' elements, or the one "video" of older projects.
static JsonNode **video_nodes(reader *r, JsonObject *o, int *n, bool *legacy) {
  JsonNode *one = json_object_get_member(o, "video"), *many = json_object_get_member(o, "videos");
  *n = 0;
  *legacy = one != NULL;
  if (one && many) {
    BAD(r, "both \"video\" and \"videos\": a project holds one or the other");
    return NULL;
  }
  if (many && !JSON_NODE_HOLDS_ARRAY(many)) {
    BAD(r, "\"videos\" is not an array");
    return NULL;
  }
  JsonArray *a = many ? json_node_get_array(many) : NULL;
  int count = one ? 1 : a ? (int)json_array_get_length(a) : 0;
  JsonNode **nodes = g_new0(JsonNode *, count + 1);
  for (int i = 0; i < count; i++)
    nodes[i] = one ? one : json_array_get_element(a, (guint)i);
  *n = count;
  return nodes;
}

// The style slots' images: *total grows by each one's decoded size; "style" must be an object whose slots are
// null or objects.
static bool style_fits(reader *r, JsonNode *style, size_t *total) {
  if (!JSON_NODE_HOLDS_OBJECT(style)) {
    BAD(r, "\"style\" is not an object");
    return false;
  }
  for (int k = 0; k < 2; k++) {
    char where[32];
    snprintf(where, sizeof where, "style.%s", dg_style_slot_name((dg_style_slot)k));
    JsonNode *n = member(r, json_node_get_object(style), dg_style_slot_name((dg_style_slot)k), "style");
    if (!n) return false;
    if (JSON_NODE_HOLDS_NULL(n)) continue;
    long long sw, sh;
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      BAD(r, "%s is neither null nor an object", where);
      return false;
    }
    if (!get_int(r, json_node_get_object(n), "width", where, 1, DG_STYLE_MAX_SIDE, &sw) ||
        !get_int(r, json_node_get_object(n), "height", where, 1, DG_STYLE_MAX_SIDE, &sh))
      return false;
    *total += (size_t)(sw * sh * 4);
  }
  return true;
}

static bool images_fit(reader *r, long long w, long long h, JsonArray *results, JsonNode *const *videos,
                       int n_videos, bool legacy, JsonNode *style) {
  size_t total = (size_t)(w * h);
  if (style && !style_fits(r, style, &total)) return false;
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
  for (int k = 0; k < n_videos; k++) {
    char where[48];
    video_where(where, sizeof where, legacy, k);
    if (!JSON_NODE_HOLDS_OBJECT(videos[k])) {
      BAD(r, "%s is not an object", where);
      return false;
    }
    long long vw, vh, vf;
    JsonObject *vo = json_node_get_object(videos[k]);
    if (!get_int(r, vo, "width", where, 2, DG_DOC_MAX_SIDE, &vw) ||
        !get_int(r, vo, "height", where, 2, DG_DOC_MAX_SIDE, &vh) ||
        !get_int(r, vo, "frames", where, DG_TIMELINE_MIN_FRAMES, DG_TIMELINE_MAX_FRAMES, &vf))
      return false;
    total += (size_t)(vw * vh * 4 * vf);
    if (total > DG_PROJECT_MAX_IMAGE_BYTES) {
      BAD(r,
          "%s: its %lld frames of %lldx%lld (WxH) bring the project's images to more than the limit of %zu MiB "
          "decoded",
          where, vf, vw, vh, DG_PROJECT_MAX_IMAGE_BYTES >> 20);
      return false;
    }
  }
  return true;
}

// The generated video: settings, timeline, the attention matrix when present, and its frames as PNG files
// of the bundle, each of the size the JSON states.
static bool read_video(reader *r, JsonNode *node, const char *where, dg_video_result *v) {
  JsonObject *o = json_node_get_object(node); // images_fit checked that it is an object
  long long w, h, frames, steps;
  double guidance, control_scale;
  if (!get_int(r, o, "width", where, 2, DG_DOC_MAX_SIDE, &w) ||
      !get_int(r, o, "height", where, 2, DG_DOC_MAX_SIDE, &h) ||
      !get_int(r, o, "frames", where, DG_TIMELINE_MIN_FRAMES, DG_TIMELINE_MAX_FRAMES, &frames) ||
      !get_int(r, o, "steps", where, 1, DG_DOC_MAX_STEPS, &steps) || !get_seed(r, o, where, &v->seed) ||
      !get_double(r, o, "guidance", where, &guidance) || !get_control_scale(r, o, where, &control_scale))
    return false;
  const char *neg = get_string(r, o, "negative_prompt", where), *model = get_string(r, o, "model", where),
             *enc = get_string(r, o, "encoding", where);
  if (!neg || !model || !enc) return false;
  if (strcmp(enc, "png")) {
    BAD(r, "%s: unknown encoding \"%.40s\"", where, enc);
    return false;
  }
  if (!r->bundle) {
    BAD(r, "%s: its frames are files of a project bundle, but this project is a single JSON file", where);
    return false;
  }
  JsonNode *tl = member(r, o, "timeline", where);
  if (!tl) return false;
  char tl_where[64];
  snprintf(tl_where, sizeof tl_where, "%s.timeline", where);
  if (dg_timeline_json_read(tl, tl_where, &v->timeline) != DG_OK) {
    if (r->status == DG_OK) r->status = DG_ERR_FORMAT; // the message names the member
    return false;
  }
  if (v->timeline.frames != frames) {
    BAD(r, "%s: %lld frames, but its timeline has %d", where, frames, v->timeline.frames);
    return false;
  }
  v->steps = (int)steps, v->guidance = guidance, v->control_scale = control_scale;
  v->negative = strdup(neg), v->model = strdup(model);
  JsonNode *att = json_object_get_member(o, "attention");
  if (att) {
    JsonArray *a = JSON_NODE_HOLDS_ARRAY(att) ? json_node_get_array(att) : NULL;
    if (!a || json_array_get_length(a) != (guint)(frames * frames)) {
      BAD(r, "%s: \"attention\" is not an array of %lld numbers (frames x frames)", where, frames * frames);
      return false;
    }
    if (!(v->attention = malloc((size_t)(frames * frames) * sizeof *v->attention))) {
      BAD(r, "%s: out of memory for the attention matrix", where);
      return false;
    }
    v->attention_frames = (int)frames;
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      GType t = JSON_NODE_HOLDS_VALUE(e) ? json_node_get_value_type(e) : G_TYPE_INVALID;
      double x = t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double(e) : -1;
      if (!(x >= 0 && x <= 1)) {
        BAD(r, "%s: \"attention\"[%u] is not a probability (a number in 0..1)", where, i);
        return false;
      }
      v->attention[i] = (float)x;
    }
  }
  JsonNode *files = member(r, o, "files", where);
  if (!files) return false;
  JsonArray *fa = JSON_NODE_HOLDS_ARRAY(files) ? json_node_get_array(files) : NULL;
  if (!fa || json_array_get_length(fa) != (guint)frames) {
    BAD(r, "%s: \"files\" is not an array of %lld file names", where, frames);
    return false;
  }
  if (dg_media_alloc(&v->frames, (int)frames, (int)w, (int)h, 4) != DG_OK) {
    bad_under(r, where);
    return false;
  }
  for (int i = 0; i < frames; i++) {
    const char *name = dg_json_node_string(json_array_get_element(fa, (guint)i));
    char at[80];
    snprintf(at, sizeof at, "%s frame %d", where, i + 1);
    if (!name) {
      BAD(r, "%s: \"files\"[%d] is not a string", where, i);
      return false;
    }
    size_t len;
    uint8_t *png = dg_bundle_read(r->bundle, name, DG_PROJECT_MAX_ENTRY, &len), *rgba = NULL;
    int pw, ph;
    if (!png)
      bad_under(r, at);
    else if (dg_png_read_size_mem(png, len, name, &pw, &ph) != DG_OK)
      bad_under(r, at);
    else if (pw != w || ph != h)
      BAD(r, "%s: %s is %dx%d pixels, not %lldx%lld", at, name, pw, ph, w, h);
    else if (dg_png_read_rgba8_mem(png, len, name, &pw, &ph, &rgba) != DG_OK)
      bad_under(r, at);
    free(png);
    if (r->status != DG_OK) {
      free(rgba);
      return false;
    }
    memcpy(dg_media_frame(&v->frames, i), rgba, dg_media_frame_bytes(&v->frames));
    free(rgba);
  }
  return true;
}

// The style panel (style_fits checked its shape and sizes): method, strength and the slots' images, each PNG
// of the size its JSON states.
static bool read_style(reader *r, JsonNode *node, dg_style *st) {
  JsonObject *o = json_node_get_object(node);
  const char *method = get_string(r, o, "method", "style");
  if (!method || !get_double(r, o, "strength", "style", &st->strength)) return false;
  if (!dg_stylize_method_parse(method, &st->method)) {
    BAD(r, "style: method \"%.40s\" is neither fda nor mne", method);
    return false;
  }
  if (!(st->strength >= 0 && st->strength <= 1)) {
    BAD(r, "style: strength %g outside 0..1", st->strength);
    return false;
  }
  for (int k = 0; k < 2; k++) {
    JsonNode *n = json_object_get_member(o, dg_style_slot_name((dg_style_slot)k));
    if (JSON_NODE_HOLDS_NULL(n)) continue;
    char where[32];
    snprintf(where, sizeof where, "style.%s", dg_style_slot_name((dg_style_slot)k));
    JsonObject *so = json_node_get_object(n);
    long long sw = 0, sh = 0;
    get_int(r, so, "width", where, 1, DG_STYLE_MAX_SIDE, &sw);
    get_int(r, so, "height", where, 1, DG_STYLE_MAX_SIDE, &sh);
    const char *source = get_string(r, so, "source", where), *enc = get_string(r, so, "encoding", where);
    if (!source || !enc) return false;
    if (strcmp(enc, "png")) {
      BAD(r, "%s: unknown encoding \"%.40s\"", where, enc);
      return false;
    }
    uint8_t *rgba = read_result_pixels(r, so, where, enc, sw, sh);
    if (!rgba) return false;
    st->slot[k] = dg_style_image_new((int)sw, (int)sh, rgba, source);
    free(rgba);
    if (!st->slot[k]) {
      bad_under(r, where);
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
  double control_scale;
  if (!get_control_scale(r, o, top, &control_scale)) return NULL;
  JsonNode *sr = member(r, o, "seed_random", top);
  if (!sr) return NULL;
  if (!JSON_NODE_HOLDS_VALUE(sr) || json_node_get_value_type(sr) != G_TYPE_BOOLEAN) {
    BAD(r, "\"seed_random\" is not true or false");
    return NULL;
  }
  // "live" came later: absent is off.
  JsonNode *live = json_object_get_member(o, "live");
  if (live && (!JSON_NODE_HOLDS_VALUE(live) || json_node_get_value_type(live) != G_TYPE_BOOLEAN)) {
    BAD(r, "\"live\" is not true or false");
    return NULL;
  }
  const char *prompt = get_string(r, o, "prompt", top), *neg = get_string(r, o, "negative_prompt", top),
             *model = get_string(r, o, "model", top);
  if (!prompt || !neg || !model) return NULL;
  // Projects from before palettes were chosen have none: they were painted in the world palette.
  const char *palette = json_object_has_member(o, "palette") ? get_string(r, o, "palette", top) : "world";
  if (!palette) return NULL;
  // "marks" came later: a project without them has none, one with a non-string is refused.
  const char *marks = json_object_has_member(o, "marks") ? get_string(r, o, "marks", top) : "";
  if (!marks) return NULL;
  // So did "attention_guidance": absent is none; a name other than none, attend-excite or divide-bind
  // is refused by the document, naming it.
  const char *attn = json_object_has_member(o, "attention_guidance") ? get_string(r, o, "attention_guidance", top)
                                                                     : "none";
  if (!attn) return NULL;
  JsonNode *lay = member(r, o, "layout", top);
  if (!lay) return NULL;
  JsonNode *results = member(r, o, "results", top);
  if (!results) return NULL;
  if (!JSON_NODE_HOLDS_ARRAY(results)) {
    BAD(r, "\"results\" is not an array");
    return NULL;
  }
  // "timeline" and the videos came later: absent is the default timeline and no video. "video" (one object,
  // frames video/NNNN.png) is what projects held before "videos" (an array, a folder video/NNNN/ each).
  // "style" came later still: absent is the empty panel.
  JsonNode *timeline = json_object_get_member(o, "timeline"), *style = json_object_get_member(o, "style");
  int n_videos = 0;
  bool legacy;
  JsonNode **videos = video_nodes(r, o, &n_videos, &legacy);
  if (r->status != DG_OK) return NULL;
  if (!images_fit(r, w, h, json_node_get_array(results), videos, n_videos, legacy, style)) {
    g_free(videos);
    return NULL;
  }
  dg_timeline tl;
  dg_timeline_init(&tl);
  if (timeline && dg_timeline_json_read(timeline, "timeline", &tl) != DG_OK) {
    if (r->status == DG_OK) r->status = DG_ERR_FORMAT; // the message names the member
    g_free(videos);
    return NULL;
  }
  uint8_t *ids = read_layout(r, lay, w, h);
  if (!ids) {
    dg_timeline_clear(&tl);
    g_free(videos);
    return NULL;
  }
  dg_document *doc = dg_document_new((int)h, (int)w);
  bool good = dg_document_set_layout(doc, ids, (int)h, (int)w) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_PROMPT, prompt, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_NEGATIVE, neg, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_MODEL, model, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_PALETTE, palette, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_MARKS, marks, false) == DG_OK &&
              dg_document_set_text(doc, DG_FIELD_ATTN_GUIDANCE, attn, false) == DG_OK &&
              dg_document_set_seed(doc, seed) == DG_OK &&
              dg_document_set_seed_random(doc, json_node_get_boolean(sr)) == DG_OK &&
              dg_document_set_steps(doc, (int)steps) == DG_OK && dg_document_set_guidance(doc, guidance) == DG_OK &&
              dg_document_set_control_scale(doc, control_scale) == DG_OK;
  free(ids);
  if (good) dg_document_set_live(doc, live && json_node_get_boolean(live));
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
  if (good && dg_document_set_timeline(doc, &tl, false) != DG_OK) {
    bad_under(r, "timeline");
    good = false;
  }
  dg_timeline_clear(&tl);
  for (int k = 0; good && k < n_videos; k++) {
    char where[48];
    video_where(where, sizeof where, legacy, k);
    dg_video_result v;
    dg_video_result_init(&v);
    good = read_video(r, videos[k], where, &v);
    if (good) dg_document_add_video(doc, &v);
    dg_video_result_clear(&v);
    good = good && dg_document_video_count(doc) == k + 1; // else out of memory, said
    if (!good && r->status == DG_OK) bad_under(r, where);
  }
  g_free(videos);
  long long current_video = n_videos - 1; // "current_video" came with "videos"
  if (good && json_object_has_member(o, "current_video"))
    good = get_int(r, o, "current_video", top, -1, n_videos - 1, &current_video);
  if (good) dg_document_set_current_video(doc, (int)current_video);
  dg_style st;
  dg_style_init(&st);
  if (good && style) {
    good = read_style(r, style, &st);
    if (good) dg_document_store_style(doc, &st);
  }
  dg_style_clear(&st);
  if (!good) {
    dg_document_free(doc);
    return NULL;
  }
  dg_document_set_current_result(doc, (int)current);
  dg_document_clear_history(doc);
  return doc;
}

// The JSON text of a project: project.json of a bundle (whose files `bundle` resolves), or a whole
// version 1 file (bundle NULL). json-glib sees it only after dg_json_check_limits (through
// dg_json_glib_parse): it recurses once per nesting level and has no limit of its own.
static dg_document *dg_project_parse_json(const char *data, size_t length, const dg_bundle *bundle, dg_status *status) {
  reader r = {DG_OK, bundle};
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

// A bundle: project.json and the files it names.
static dg_document *parse_bundle(const char *data, size_t length, dg_status *status) {
  dg_bundle *b = dg_bundle_open((const uint8_t *)data, length);
  size_t len = 0;
  char *json = b ? (char *)dg_bundle_read(b, DG_PROJECT_JSON_FILE, DG_PROJECT_MAX_ENTRY, &len) : NULL;
  dg_document *doc = json ? dg_project_parse_json(json, len, b, status) : NULL;
  if (!json) *status = DG_ERR_FORMAT;
  free(json);
  dg_bundle_free(b);
  return doc;
}

dg_document *dg_project_parse(const char *data, size_t length, dg_status *status) {
  if (dg_bundle_sniff(data, length)) return parse_bundle(data, length, status);
  return dg_project_parse_json(data, length, NULL, status);
}

dg_document *dg_project_load(const char *path, dg_status *status) {
  // Only a regular file (a FIFO or a device such as /dev/zero is refused at once, never waited on or
  // read without end), of at most DG_PROJECT_MAX_BYTES, is mapped.
  int fd;
  size_t size;
  if ((*status = dg_file_open(path, &fd, &size)) != DG_OK) return NULL;
  if (size > DG_PROJECT_MAX_BYTES) {
    close(fd);
    *status = dg_fail(DG_ERR_FORMAT, "%s: %zu bytes, more than the limit of %zu bytes for a project", path, size,
                      DG_PROJECT_MAX_BYTES);
    return NULL;
  }
  GError *err = NULL;
  GMappedFile *file = g_mapped_file_new_from_fd(fd, FALSE, &err);
  close(fd); // the mapping keeps what it needs
  if (!file) {
    *status = dg_fail(DG_ERR_IO, "%s: %s", path, err->message);
    g_error_free(err);
    return NULL;
  }
  const char *data = g_mapped_file_get_contents(file); // NULL for an empty file
  dg_document *doc = dg_project_parse(data ? data : "", g_mapped_file_get_length(file), status);
  g_mapped_file_unref(file);
  if (!doc) fail_under(*status, path);
  return doc;
}
