#include "dg_json_glib.h"

#include <math.h>

#include "dg_file.h"
#include "dg_json.h"

JsonNode *dg_json_glib_parse(JsonParser *parser, const char *text, size_t len, const char *source, size_t max_bytes,
                             dg_status *status) {
  *status = dg_json_check_limits(text, len, source, max_bytes, 0);
  if (*status != DG_OK) return NULL;
  GError *err = NULL;
  if (len > (size_t)G_MAXSSIZE || !json_parser_load_from_data(parser, text, (gssize)len, &err)) {
    *status = dg_fail(DG_ERR_FORMAT, "%s%snot valid JSON: %s", source ? source : "", source ? ": " : "",
                      err ? err->message : "too large");
    g_clear_error(&err);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root) *status = dg_fail(DG_ERR_FORMAT, "%s%sno JSON value", source ? source : "", source ? ": " : "");
  return root;
}

JsonNode *dg_json_glib_parse_file(JsonParser *parser, const char *path, size_t max_bytes, dg_status *status) {
  char *text = NULL;
  size_t len = 0;
  JsonNode *root = NULL;
  *status = dg_file_read(path, max_bytes, &text, &len);
  if (*status == DG_OK) root = dg_json_glib_parse(parser, text, len, path, max_bytes, status);
  free(text);
  return root;
}

dg_status dg_json_glib_save(JsonBuilder *b, const char *path) {
  JsonGenerator *g = json_generator_new();
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(g, root);
  json_generator_set_pretty(g, TRUE);
  GError *err = NULL;
  dg_status st = DG_OK;
  if (!json_generator_to_file(g, path, &err)) {
    st = dg_fail(DG_ERR_IO, "cannot write %s: %s", path, err ? err->message : "unknown error");
    g_clear_error(&err);
  }
  json_node_unref(root);
  g_object_unref(g);
  return st;
}

void dg_json_add_number(JsonBuilder *b, const char *key, double v) {
  json_builder_set_member_name(b, key);
  if (isnan(v) || isinf(v))
    json_builder_add_null_value(b);
  else
    json_builder_add_double_value(b, v);
}

void dg_json_add_int(JsonBuilder *b, const char *key, int64_t v) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, v);
}

void dg_json_add_string(JsonBuilder *b, const char *key, const char *v) {
  json_builder_set_member_name(b, key);
  if (v)
    json_builder_add_string_value(b, v);
  else
    json_builder_add_null_value(b);
}

const char *dg_json_node_string(JsonNode *n) {
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : NULL;
}

const char *dg_json_member_string(JsonObject *o, const char *key) {
  return dg_json_node_string(json_object_get_member(o, key));
}

JsonArray *dg_json_member_array(JsonObject *o, const char *key) {
  JsonNode *n = json_object_get_member(o, key);
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

bool dg_json_member_number(JsonObject *o, const char *key, double *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (n && JSON_NODE_HOLDS_NULL(n)) return *out = NAN, true;
  if (!n || !JSON_NODE_HOLDS_VALUE(n)) return false;
  GType t = json_node_get_value_type(n);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) return false;
  *out = json_node_get_double(n);
  return true;
}
