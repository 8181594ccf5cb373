#include "dg_live_edits.h"

#include <string.h>

#include "dg_json_glib.h"
#include "dg_palette.h"
#include "dg_world.h"

typedef enum { OP_CANVAS, OP_RANDOM, OP_STROKE, OP_FILL, OP_RECT, OP_POLYGON, OP_TEXT, OP_SEED, OP_STEPS,
               OP_GUIDANCE, OP_CONTROL_SCALE, OP_UNDO, OP_REDO } op_kind;

static const struct {
  const char *name;
  op_kind kind;
  const char *property; // text ops: the document's property (typing, as the editor's entries write it)
} ops[] = {{"canvas", OP_CANVAS, NULL},     {"random-layout", OP_RANDOM, NULL},
           {"stroke", OP_STROKE, NULL},     {"fill", OP_FILL, NULL},
           {"rect", OP_RECT, NULL},         {"polygon", OP_POLYGON, NULL},
           {"prompt", OP_TEXT, "prompt"},   {"negative", OP_TEXT, "negative-prompt"},
           {"marks", OP_TEXT, "marks"},     {"attn-guidance", OP_TEXT, "attn-guidance"},
           {"seed", OP_SEED, NULL},         {"steps", OP_STEPS, NULL},
           {"guidance", OP_GUIDANCE, NULL}, {"control-scale", OP_CONTROL_SCALE, NULL},
           {"undo", OP_UNDO, NULL},         {"redo", OP_REDO, NULL}};

typedef struct edit {
  double t;
  int op; // index into ops
  int line;
  int v[5];      // canvas w h; fill x y; rect x0 y0 x1 y1; steps
  int cls;       // -1: by name
  char *name;    // the class name, or the text, or the seed
  double radius; // stroke radius; guidance or layout strength value
  GArray *xy;    // int pairs: stroke and polygon points
} edit;

struct dg_live_edits {
  char *path;
  int width, height;
  GArray *edits; // edit
};

static void edit_clear(gpointer p) {
  edit *e = p;
  g_free(e->name);
  if (e->xy) g_array_free(e->xy, TRUE);
}

// Reads member `key` of o as a whole number; false if absent or not one.
static bool get_int(JsonObject *o, const char *key, int *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) == G_TYPE_STRING ||
      json_node_get_value_type(n) == G_TYPE_BOOLEAN)
    return false;
  double d = json_node_get_double(n);
  if (d != (double)(int)d) return false;
  *out = (int)d;
  return true;
}
static bool get_double(JsonObject *o, const char *key, double *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) == G_TYPE_STRING ||
      json_node_get_value_type(n) == G_TYPE_BOOLEAN)
    return false;
  *out = json_node_get_double(n);
  return true;
}
// A class: an id 0..255 or a name, looked up when applied.
static bool get_class(JsonObject *o, edit *e) {
  const char *name = dg_json_member_string(o, "class");
  e->cls = -1;
  if (name) e->name = g_strdup(name);
  return name || (get_int(o, "class", &e->cls) && e->cls >= 0 && e->cls <= 255);
}
static bool get_points(JsonObject *o, edit *e) {
  JsonNode *n = json_object_get_member(o, "points");
  if (!n || !JSON_NODE_HOLDS_ARRAY(n)) return false;
  JsonArray *a = json_node_get_array(n);
  e->xy = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *p = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_ARRAY(p) || json_array_get_length(json_node_get_array(p)) != 2) return false;
    for (guint k = 0; k < 2; k++) {
      JsonNode *c = json_array_get_element(json_node_get_array(p), k);
      if (!JSON_NODE_HOLDS_VALUE(c) || json_node_get_value_type(c) == G_TYPE_STRING) return false;
      double d = json_node_get_double(c);
      if (!(d > -1e6 && d < 1e6)) return false;
      int v = (int)d;
      g_array_append_val(e->xy, v);
    }
  }
  return e->xy->len > 0;
}

// The operands of e's op from o; the failing operand's description, or NULL.
static const char *operands(JsonObject *o, edit *e) {
  int *v = e->v;
  switch (ops[e->op].kind) {
  case OP_CANVAS:
    return get_int(o, "width", &v[0]) && get_int(o, "height", &v[1]) && v[0] > 0 && v[1] > 0 && v[0] <= 4096 &&
                   v[1] <= 4096
               ? NULL
               : "\"width\" and \"height\", 1..4096";
  case OP_RANDOM:
  case OP_SEED: {
    const char *key = ops[e->op].kind == OP_RANDOM ? "seed" : "value";
    JsonNode *n = json_object_get_member(o, key);
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 && json_node_get_int(n) >= 0)
      e->name = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    else if (dg_json_member_string(o, key))
      e->name = g_strdup(dg_json_member_string(o, key));
    guint64 s;
    return e->name && (!strcmp(e->name, "random") || g_ascii_string_to_unsigned(e->name, 10, 0, G_MAXUINT64, &s, NULL))
               ? NULL
               : ops[e->op].kind == OP_RANDOM ? "\"seed\": a whole number or \"random\""
                                              : "\"value\": a whole number or \"random\"";
  }
  case OP_STROKE:
    return get_class(o, e) && get_double(o, "radius", &e->radius) && e->radius >= 0 && e->radius <= 4096 &&
                   get_points(o, e)
               ? NULL
               : "\"class\" (id or name), \"radius\" (0..4096) and \"points\" [[x, y], ...]";
  case OP_FILL:
    return get_class(o, e) && get_int(o, "x", &v[0]) && get_int(o, "y", &v[1]) ? NULL : "\"x\", \"y\" and \"class\"";
  case OP_RECT:
    return get_class(o, e) && get_int(o, "x0", &v[0]) && get_int(o, "y0", &v[1]) && get_int(o, "x1", &v[2]) &&
                   get_int(o, "y1", &v[3])
               ? NULL
               : "\"x0\", \"y0\", \"x1\", \"y1\" and \"class\"";
  case OP_POLYGON:
    return get_class(o, e) && get_points(o, e) ? NULL : "\"class\" and \"points\" [[x, y], ...]";
  case OP_TEXT:
    e->name = g_strdup(dg_json_member_string(o, "text"));
    return e->name ? NULL : "\"text\": a string";
  case OP_STEPS:
    return get_int(o, "value", &v[0]) ? NULL : "\"value\": a whole number";
  case OP_GUIDANCE:
  case OP_CONTROL_SCALE:
    return get_double(o, "value", &e->radius) ? NULL : "\"value\": a number";
  case OP_UNDO:
  case OP_REDO:
    return NULL;
  }
  return "an operand";
}

static dg_status parse_line(dg_live_edits *le, const char *text, size_t len, int line, double *last_t) {
  JsonParser *parser = json_parser_new();
  dg_status st = DG_OK;
  char *where = g_strdup_printf("%s:%d", le->path, line);
  JsonNode *root = dg_json_glib_parse(parser, text, len, where, DG_JSON_MAX_SMALL, &st);
  edit e = {.line = line, .op = -1};
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *op = o ? dg_json_member_string(o, "op") : NULL;
  for (size_t i = 0; op && i < G_N_ELEMENTS(ops); i++)
    if (!strcmp(op, ops[i].name)) e.op = (int)i;
  const char *bad = NULL;
  if (st != DG_OK) {
  } else if (!o) {
    st = dg_fail(DG_ERR_FORMAT, "%s: not a JSON object", where);
  } else if (!get_double(o, "t", &e.t) || !(e.t >= *last_t) || e.t > 86400e3) {
    st = dg_fail(DG_ERR_FORMAT, "%s: \"t\" must be milliseconds since the start, never decreasing (last %.0f)",
                 where, *last_t);
  } else if (e.op < 0) {
    st = dg_fail(DG_ERR_FORMAT, "%s: unknown \"op\" %s%s%s", where, op ? "'" : "", op ? op : "(missing)",
                 op ? "'" : "");
  } else if (ops[e.op].kind == OP_CANVAS && (le->edits->len > 0 || le->width)) {
    st = dg_fail(DG_ERR_FORMAT, "%s: \"canvas\" may only be the first line", where);
  } else if ((bad = operands(o, &e))) {
    st = dg_fail(DG_ERR_FORMAT, "%s: %s needs %s", where, ops[e.op].name, bad);
  }
  if (st == DG_OK && ops[e.op].kind == OP_CANVAS) {
    le->width = e.v[0], le->height = e.v[1];
    edit_clear(&e);
  } else if (st == DG_OK) {
    g_array_append_val(le->edits, e);
    *last_t = e.t;
  } else {
    edit_clear(&e);
  }
  g_free(where);
  g_object_unref(parser);
  return st;
}

dg_live_edits *dg_live_edits_load(const char *path, dg_status *status) {
  char *text = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents(path, &text, &len, &err)) {
    *status = dg_fail(DG_ERR_IO, "%s: %s", path, err->message);
    g_error_free(err);
    return NULL;
  }
  dg_live_edits *le = g_new0(dg_live_edits, 1);
  le->path = g_strdup(path);
  le->edits = g_array_new(FALSE, TRUE, sizeof(edit));
  g_array_set_clear_func(le->edits, edit_clear);
  dg_status st = DG_OK;
  double last_t = 0;
  int line = 0;
  for (char *p = text, *end = text + len; st == DG_OK && p < end; line++) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    bool blank = true;
    for (size_t i = 0; i < n; i++)
      blank = blank && g_ascii_isspace(p[i]);
    if (!blank) st = parse_line(le, p, n, line + 1, &last_t);
    p = nl ? nl + 1 : end;
  }
  g_free(text);
  if (st == DG_OK && le->edits->len == 0) st = dg_fail(DG_ERR_FORMAT, "%s: no edits", path);
  if (!le->width) le->width = 256, le->height = 128;
  *status = st;
  if (st != DG_OK) {
    dg_live_edits_free(le);
    return NULL;
  }
  return le;
}

void dg_live_edits_free(dg_live_edits *le) {
  if (!le) return;
  g_array_free(le->edits, TRUE);
  g_free(le->path);
  g_free(le);
}

int dg_live_edits_count(const dg_live_edits *le) { return (int)le->edits->len; }
static const edit *at(const dg_live_edits *le, int i) { return &g_array_index(le->edits, edit, i); }
double dg_live_edits_time_ms(const dg_live_edits *le, int i) { return at(le, i)->t; }
const char *dg_live_edits_op(const dg_live_edits *le, int i) { return ops[at(le, i)->op].name; }
void dg_live_edits_canvas(const dg_live_edits *le, int *width, int *height) {
  *width = le->width, *height = le->height;
}

static dg_status resolve_class(const dg_live_edits *le, const edit *e, dg_document *m, int *cls) {
  *cls = e->cls;
  if (e->cls >= 0) return DG_OK;
  dg_status st = DG_OK;
  dg_palette *p = dg_palette_load_named(dg_document_palette(m), &st);
  *cls = p ? dg_palette_find_name(p, e->name) : -1;
  dg_palette_free(p);
  if (*cls < 0)
    return dg_fail(DG_ERR_ARG, "%s:%d: no class '%s' in the palette %s", le->path, e->line, e->name,
                   dg_document_palette(m));
  return DG_OK;
}

dg_status dg_live_edits_apply(const dg_live_edits *le, int i, DgDocument *doc) {
  const edit *e = at(le, i);
  dg_document *m = dg_document_object_get_model(doc);
  const int *v = e->v, *xy = e->xy ? (const int *)(void *)e->xy->data : NULL;
  int n = e->xy ? (int)e->xy->len / 2 : 0, cls = 0;
  dg_status st = DG_OK;
  op_kind k = ops[e->op].kind;
  if ((k == OP_STROKE || k == OP_FILL || k == OP_RECT || k == OP_POLYGON) && resolve_class(le, e, m, &cls) != DG_OK)
    return DG_ERR_ARG;
  switch (k) {
  case OP_CANVAS:
    break;
  case OP_RANDOM: {
    guint64 seed = g_random_int();
    if (strcmp(e->name, "random")) g_ascii_string_to_unsigned(e->name, 10, 0, G_MAXUINT64, &seed, NULL);
    int w = dg_document_width(m), h = dg_document_height(m);
    uint8_t *ids = g_malloc((size_t)w * h);
    st = dg_world_random_labels(seed, w, h, ids);
    if (st == DG_OK) st = dg_document_set_layout(m, ids, h, w);
    g_free(ids);
    break;
  }
  case OP_STROKE:
    dg_document_paint_stroke(m, xy, n, e->radius, cls);
    break;
  case OP_FILL:
    dg_document_flood_fill(m, v[0], v[1], cls);
    break;
  case OP_RECT:
    dg_document_fill_rect(m, v[0], v[1], v[2], v[3], cls);
    break;
  case OP_POLYGON: {
    double *pts = g_new(double, 2 * n);
    for (int j = 0; j < 2 * n; j++)
      pts[j] = xy[j];
    dg_document_fill_polygon(m, pts, n, cls);
    g_free(pts);
    break;
  }
  case OP_TEXT:
    g_object_set(doc, ops[e->op].property, e->name, NULL);
    break;
  case OP_SEED: {
    guint64 s = 0;
    bool random = !strcmp(e->name, "random");
    if (!random) g_ascii_string_to_unsigned(e->name, 10, 0, G_MAXUINT64, &s, NULL);
    st = dg_document_set_seed_random(m, random);
    if (st == DG_OK && !random) st = dg_document_set_seed(m, s);
    break;
  }
  case OP_STEPS:
    st = dg_document_set_steps(m, v[0]);
    break;
  case OP_GUIDANCE:
    st = dg_document_set_guidance(m, e->radius);
    break;
  case OP_CONTROL_SCALE:
    st = dg_document_set_control_scale(m, e->radius);
    break;
  case OP_UNDO:
    dg_document_undo(m);
    break;
  case OP_REDO:
    dg_document_redo(m);
    break;
  }
  if (st != DG_OK) return dg_fail(st, "%s:%d: %s: %s", le->path, e->line, ops[e->op].name, dg_last_error());
  return DG_OK;
}
