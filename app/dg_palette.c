#include "dg_palette.h"

#include <stdlib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_file.h"
#include "dg_json_glib.h"

struct dg_palette {
  char *name;
  int count;
  dg_palette_class *classes; // sorted by id (ids are dense from 0)
  uint8_t unlabelled_rgb[3];
};

void dg_palette_free(dg_palette *p) {
  if (!p) return;
  for (int i = 0; i < p->count; i++)
    free(p->classes[i].name);
  free(p->classes);
  free(p->name);
  free(p);
}

static bool read_rgb(JsonNode *node, uint8_t rgb[3]) {
  if (!node || !JSON_NODE_HOLDS_ARRAY(node)) return false;
  JsonArray *a = json_node_get_array(node);
  if (json_array_get_length(a) != 3) return false;
  for (int c = 0; c < 3; c++) {
    JsonNode *e = json_array_get_element(a, c);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64) return false;
    gint64 v = json_node_get_int(e);
    if (v < 0 || v > 255) return false;
    rgb[c] = (uint8_t)v;
  }
  return true;
}

dg_palette *dg_palette_parse(const char *json, long length, dg_status *status) {
  dg_palette *p = NULL;
  JsonParser *parser = json_parser_new();
  JsonNode *root = dg_json_glib_parse(parser, json, length < 0 ? strlen(json) : (size_t)length, "palette",
                                      DG_JSON_MAX_SMALL, status);
  if (!root) goto done;
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: top level is not an object");
    goto done;
  }
  JsonObject *o = json_node_get_object(root);
  JsonNode *classes = json_object_get_member(o, "classes");
  if (!classes || !JSON_NODE_HOLDS_ARRAY(classes)) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: no \"classes\" array");
    goto done;
  }
  JsonArray *a = json_node_get_array(classes);
  int n = (int)json_array_get_length(a);
  if (n < 1 || n > 255) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: %d classes (need 1..255)", n);
    goto done;
  }
  p = calloc(1, sizeof *p);
  p->classes = calloc((size_t)n, sizeof *p->classes);
  p->count = n;
  if (json_object_has_member(o, "unlabelled_color") &&
      !read_rgb(json_object_get_member(o, "unlabelled_color"), p->unlabelled_rgb)) {
    *status = dg_fail(DG_ERR_FORMAT, "palette: \"unlabelled_color\" is not [r, g, b] in 0..255");
    goto done;
  }
  const char *pname = json_object_has_member(o, "name") ? json_object_get_string_member(o, "name") : NULL;
  p->name = strdup(pname ? pname : "palette");
  for (int i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    JsonObject *c = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    JsonNode *id = c ? json_object_get_member(c, "id") : NULL;
    JsonNode *name = c ? json_object_get_member(c, "name") : NULL;
    if (!id || !JSON_NODE_HOLDS_VALUE(id) || json_node_get_value_type(id) != G_TYPE_INT64 || !name ||
        !JSON_NODE_HOLDS_VALUE(name) || json_node_get_value_type(name) != G_TYPE_STRING) {
      *status = dg_fail(DG_ERR_FORMAT, "palette: class %d needs an integer \"id\" and a string \"name\"", i);
      goto done;
    }
    if (json_node_get_int(id) != i) {
      *status = dg_fail(DG_ERR_FORMAT, "palette: class %d has id %lld (ids must be dense from 0)", i,
                        (long long)json_node_get_int(id));
      goto done;
    }
    p->classes[i].id = i;
    p->classes[i].name = strdup(json_node_get_string(name));
    if (!read_rgb(json_object_get_member(c, "color"), p->classes[i].rgb)) {
      *status =
          dg_fail(DG_ERR_FORMAT, "palette: class %d (%s) \"color\" is not [r, g, b] in 0..255", i, p->classes[i].name);
      goto done;
    }
  }
done:
  g_object_unref(parser);
  if (*status != DG_OK) {
    dg_palette_free(p);
    return NULL;
  }
  return p;
}

dg_palette *dg_palette_load(const char *path, dg_status *status) {
  char *text = NULL;
  size_t len = 0;
  if ((*status = dg_file_read(path, DG_JSON_MAX_SMALL, &text, &len)) != DG_OK) return NULL;
  dg_palette *p = dg_palette_parse(text, (long)len, status);
  free(text);
  if (!p) {
    char *msg = strdup(dg_last_error());
    dg_fail(*status, "%s: %s", path, msg);
    free(msg);
  }
  return p;
}

dg_palette *dg_palette_load_default(dg_status *status) {
  gchar *path = dg_assets_path("palettes/world.json");
  dg_palette *p = NULL;
  if (g_file_test(path, G_FILE_TEST_EXISTS)) p = dg_palette_load(path, status);
  else *status = dg_fail(DG_ERR_IO, "palette: %s not found (set DIRIGENT_ASSETS)", path);
  g_free(path);
  return p;
}

int dg_palette_count(const dg_palette *p) { return p->count; }
const dg_palette_class *dg_palette_class_at(const dg_palette *p, int index) {
  return index >= 0 && index < p->count ? &p->classes[index] : NULL;
}
const dg_palette_class *dg_palette_find(const dg_palette *p, int id) { return dg_palette_class_at(p, id); }

void dg_palette_color(const dg_palette *p, int id, uint8_t rgb[3]) {
  const uint8_t *src = id >= 0 && id < p->count ? p->classes[id].rgb : p->unlabelled_rgb;
  memcpy(rgb, src, 3);
}

int dg_palette_lookup_rgb(const dg_palette *p, const uint8_t rgb[3]) {
  for (int i = 0; i < p->count; i++)
    if (!memcmp(p->classes[i].rgb, rgb, 3)) return i;
  if (!memcmp(p->unlabelled_rgb, rgb, 3)) return DG_UNLABELLED;
  return -1;
}

const char *dg_palette_name(const dg_palette *p, int id) {
  if (id == DG_UNLABELLED) return "unlabelled";
  return id >= 0 && id < p->count ? p->classes[id].name : NULL;
}
