#include "dg_world_index.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_file.h"
#include "dg_json_glib.h"

static int class_id(const char *name) {
  for (int c = 0; name && c < DG_WORLD_NUM_CLASSES; c++)
    if (!strcmp(dg_world_classes[c].name, name)) return c;
  return -1;
}

static int attr_id(const char *name) {
  for (int a = 0; name && a < DG_ATTR_COUNT; a++)
    if (!strcmp(dg_world_attr_names[a], name)) return a;
  return DG_ATTR_NONE;
}

static bool member_int(JsonObject *o, const char *key, int64_t *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) return false;
  *out = json_node_get_int(n);
  return true;
}

static void read_caption(JsonObject *c, dg_world_index_caption *out) {
  const char *kind = dg_json_member_string(c, "kind");
  snprintf(out->kind, sizeof out->kind, "%s", kind ? kind : "");
  JsonNode *rn = json_object_get_member(c, "roles");
  JsonArray *roles = rn && JSON_NODE_HOLDS_ARRAY(rn) ? json_node_get_array(rn) : NULL;
  for (guint i = 0; roles && i < json_array_get_length(roles) && out->n_roles < DG_WORLD_MAX_ROLES; i++) {
    JsonNode *r = json_array_get_element(roles, i);
    if (!JSON_NODE_HOLDS_OBJECT(r)) continue;
    JsonObject *ro = json_node_get_object(r);
    int64_t count = 1;
    member_int(ro, "count", &count);
    out->roles[out->n_roles++] = (dg_world_index_role){class_id(dg_json_member_string(ro, "class")),
                                                        attr_id(dg_json_member_string(ro, "attr")), (int)count};
  }
}

// One index line into e; false with *why set when a required field is missing.
static bool read_entry(JsonObject *o, const char *dir, dg_world_index_entry *e, const char **why) {
  const char *id = dg_json_member_string(o, "id"), *image = dg_json_member_string(o, "image");
  const char *label = dg_json_member_string(o, "label"), *scene = dg_json_member_string(o, "scene");
  int64_t w, h, seed = 0;
  JsonNode *cn = json_object_get_member(o, "captions");
  if (!id || !image || !label) return *why = "id, image or label missing", false;
  if (!member_int(o, "width", &w) || !member_int(o, "height", &h) || w < 1 || h < 1 || w > 16384 || h > 16384)
    return *why = "width/height missing or out of range", false;
  if (!cn || !JSON_NODE_HOLDS_ARRAY(cn)) return *why = "captions missing", false;
  member_int(o, "seed", &seed);
  e->id = g_strdup(id);
  e->image = g_build_filename(dir, image, NULL);
  e->label = g_build_filename(dir, label, NULL);
  e->scene = scene ? g_build_filename(dir, scene, NULL) : NULL;
  e->seed = (uint64_t)seed;
  e->width = (int)w;
  e->height = (int)h;
  JsonArray *caps = json_node_get_array(cn);
  for (guint i = 0; i < json_array_get_length(caps) && e->n_captions < DG_WORLD_MAX_CAPTIONS; i++) {
    JsonNode *c = json_array_get_element(caps, i);
    const char *text = JSON_NODE_HOLDS_OBJECT(c) ? dg_json_member_string(json_node_get_object(c), "text") : NULL;
    if (!text) continue;
    dg_world_index_caption *cap = &e->captions[e->n_captions++];
    cap->text = g_strdup(text);
    read_caption(json_node_get_object(c), cap);
  }
  return true;
}

dg_status dg_world_index_load(const char *dir, int max, dg_world_index *out) {
  memset(out, 0, sizeof *out);
  char *path = g_build_filename(dir, "index.jsonl", NULL);
  FILE *f;
  dg_status s = dg_file_fopen(path, &f);
  if (s != DG_OK) {
    g_free(path);
    return dg_fail(s, "%s (write a dataset with `dirigent-cli world dataset`)", dg_last_error());
  }
  JsonParser *parser = json_parser_new();
  char *line = NULL;
  size_t cap = 0;
  int cap_entries = 0;
  for (int lineno = 1; s == DG_OK && (max <= 0 || out->n < max) && getline(&line, &cap, f) >= 0; lineno++) {
    if (!g_strstrip(line)[0]) continue;
    char *where = g_strdup_printf("%s:%d", path, lineno);
    JsonNode *root = dg_json_glib_parse(parser, line, strlen(line), where, DG_JSON_MAX_SMALL, &s);
    if (root && !JSON_NODE_HOLDS_OBJECT(root)) s = dg_fail(DG_ERR_FORMAT, "%s: not a JSON object", where);
    g_free(where);
    if (s != DG_OK) break;
    if (out->n == cap_entries) {
      cap_entries = cap_entries ? 2 * cap_entries : 64;
      out->entries = g_renew(dg_world_index_entry, out->entries, cap_entries);
    }
    dg_world_index_entry *e = &out->entries[out->n];
    memset(e, 0, sizeof *e);
    const char *why = NULL;
    if (!read_entry(json_node_get_object(root), dir, e, &why))
      s = dg_fail(DG_ERR_FORMAT, "%s:%d: %s", path, lineno, why);
    else out->n++;
  }
  if (s == DG_OK && ferror(f)) s = dg_fail(DG_ERR_IO, "cannot read %s", path);
  if (s == DG_OK && out->n == 0) s = dg_fail(DG_ERR_FORMAT, "%s has no samples", path);
  free(line);
  fclose(f);
  g_object_unref(parser);
  g_free(path);
  if (s != DG_OK) dg_world_index_free(out);
  return s;
}

void dg_world_index_free(dg_world_index *ix) {
  for (int i = 0; i < ix->n; i++) {
    dg_world_index_entry *e = &ix->entries[i];
    g_free(e->id), g_free(e->image), g_free(e->label), g_free(e->scene);
    for (int c = 0; c < e->n_captions; c++)
      g_free(e->captions[c].text);
  }
  g_free(ix->entries);
  memset(ix, 0, sizeof *ix);
}

dg_status dg_world_index_object_colours(const dg_world_index_entry *e, int cls, unsigned *colours, bool *uncoloured) {
  *colours = 0;
  *uncoloured = false;
  if (!e->scene) return dg_fail(DG_ERR_FORMAT, "sample %s has no scene graph in the index", e->id);
  JsonParser *parser = json_parser_new();
  dg_status s;
  JsonNode *root = dg_json_glib_parse_file(parser, e->scene, DG_JSON_MAX_SCENE, &s);
  if (root) {
    JsonNode *on = JSON_NODE_HOLDS_OBJECT(root) ? json_object_get_member(json_node_get_object(root), "objects") : NULL;
    JsonArray *objs = on && JSON_NODE_HOLDS_ARRAY(on) ? json_node_get_array(on) : NULL;
    if (!objs) s = dg_fail(DG_ERR_FORMAT, "%s: no objects array", e->scene);
    for (guint i = 0; objs && i < json_array_get_length(objs); i++) {
      JsonNode *n = json_array_get_element(objs, i);
      if (!JSON_NODE_HOLDS_OBJECT(n)) continue;
      JsonObject *o = json_node_get_object(n);
      if (class_id(dg_json_member_string(o, "class")) != cls) continue;
      int a = attr_id(dg_json_member_string(o, "attribute"));
      if (a == DG_ATTR_NONE) *uncoloured = true;
      else *colours |= 1u << a;
    }
  }
  g_object_unref(parser);
  return s;
}
