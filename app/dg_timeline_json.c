#include "dg_timeline_json.h"
#include "dg_json_glib.h"

#include <math.h>
#include <string.h>

static const char *const vsp_names[] = {"off", "linear", "same"};

void dg_timeline_json_write(JsonBuilder *b, const dg_timeline *t) {
  json_builder_begin_object(b);
  dg_json_add_int(b, "frames", t->frames);
  json_builder_set_member_name(b, "fps");
  json_builder_add_double_value(b, t->fps);
  dg_json_add_string(b, "vsp", (unsigned)t->vsp < 3 ? vsp_names[t->vsp] : "linear");
  json_builder_set_member_name(b, "sigma_fine");
  json_builder_add_double_value(b, t->sigma_fine);
  json_builder_set_member_name(b, "sigma_next");
  json_builder_add_double_value(b, t->sigma_next);
  dg_json_add_int(b, "until", t->until);
  json_builder_set_member_name(b, "keep_layout");
  json_builder_add_boolean_value(b, t->keep_layout);
  dg_json_add_int(b, "attention_layer", t->attention_layer);
  dg_json_add_int(b, "attention_step", t->attention_step);
  json_builder_set_member_name(b, "stages");
  json_builder_begin_array(b);
  for (int i = 0; i < t->n_stages; i++) {
    json_builder_begin_object(b);
    dg_json_add_int(b, "frame", t->stages[i].frame);
    dg_json_add_string(b, "prompt", t->stages[i].prompt);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static GType value_type(JsonNode *n) {
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
}

static dg_status bad(const char *where, const char *what, const char *name) {
  return dg_fail(DG_ERR_FORMAT, "%s: \"%s\" %s", where, name, what);
}

static dg_status get_int(JsonObject *o, const char *where, const char *name, int *out) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) return bad(where, "is missing", name);
  if (value_type(n) != G_TYPE_INT64) return bad(where, "is not an integer", name);
  gint64 v = json_node_get_int(n);
  if (v < -1000000 || v > 1000000) return bad(where, "is out of range", name);
  *out = (int)v;
  return DG_OK;
}

static dg_status get_double(JsonObject *o, const char *where, const char *name, double *out) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) return bad(where, "is missing", name);
  GType t = value_type(n);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) return bad(where, "is not a number", name);
  *out = json_node_get_double(n);
  if (!isfinite(*out)) return bad(where, "is not a finite number", name);
  return DG_OK;
}

static dg_status get_string(JsonObject *o, const char *where, const char *name, const char **out) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) return bad(where, "is missing", name);
  if (value_type(n) != G_TYPE_STRING) return bad(where, "is not a string", name);
  *out = json_node_get_string(n);
  if (!g_utf8_validate(*out, -1, NULL)) return bad(where, "is not valid UTF-8", name);
  return DG_OK;
}

dg_status dg_timeline_json_read(JsonNode *node, const char *where, dg_timeline *out) {
  if (!node || !JSON_NODE_HOLDS_OBJECT(node)) return dg_fail(DG_ERR_FORMAT, "%s is not an object", where);
  JsonObject *o = json_node_get_object(node);
  dg_timeline t;
  dg_timeline_init(&t);
  const char *vsp;
  DG_TRY(get_int(o, where, "frames", &t.frames));
  DG_TRY(get_double(o, where, "fps", &t.fps));
  DG_TRY(get_string(o, where, "vsp", &vsp));
  DG_TRY(get_double(o, where, "sigma_fine", &t.sigma_fine));
  DG_TRY(get_double(o, where, "sigma_next", &t.sigma_next));
  DG_TRY(get_int(o, where, "until", &t.until));
  JsonNode *keep = json_object_get_member(o, "keep_layout");
  if (value_type(keep) != G_TYPE_BOOLEAN)
    return bad(where, keep ? "is not true or false" : "is missing", "keep_layout");
  t.keep_layout = json_node_get_boolean(keep);
  // The attention picture's layer and step came later: absent is layer 0 at step 0 (what was captured then).
  if (json_object_has_member(o, "attention_layer")) DG_TRY(get_int(o, where, "attention_layer", &t.attention_layer));
  if (json_object_has_member(o, "attention_step")) DG_TRY(get_int(o, where, "attention_step", &t.attention_step));
  int mode = -1;
  for (int i = 0; i < 3; i++)
    if (!strcmp(vsp, vsp_names[i])) mode = i;
  if (mode < 0) return dg_fail(DG_ERR_FORMAT, "%s: \"vsp\" \"%.40s\" is not off, linear or same", where, vsp);
  t.vsp = (dg_vsp_mode)mode;
  JsonNode *stages = json_object_get_member(o, "stages");
  if (!stages || !JSON_NODE_HOLDS_ARRAY(stages)) return bad(where, stages ? "is not an array" : "is missing", "stages");
  JsonArray *a = json_node_get_array(stages);
  if (json_array_get_length(a) > DG_TIMELINE_MAX_STAGES)
    return dg_fail(DG_ERR_FORMAT, "%s: %u stages (at most %d)", where, json_array_get_length(a),
                   DG_TIMELINE_MAX_STAGES);
  dg_status s = DG_OK;
  for (guint i = 0; s == DG_OK && i < json_array_get_length(a); i++) {
    char at[96];
    g_snprintf(at, sizeof at, "%s.stages[%u]", where, i);
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e)) {
      s = dg_fail(DG_ERR_FORMAT, "%s is not an object", at);
      break;
    }
    const char *prompt = NULL;
    int frame = 0;
    if ((s = get_int(json_node_get_object(e), at, "frame", &frame)) == DG_OK &&
        (s = get_string(json_node_get_object(e), at, "prompt", &prompt)) == DG_OK) {
      // Stored in order; the check below names a stage out of order or past the last frame.
      t.stages[t.n_stages].frame = frame;
      if (!(t.stages[t.n_stages].prompt = strdup(prompt)))
        s = dg_fail(DG_ERR_OOM, "%s: out of memory", at);
      else
        t.n_stages++;
    }
  }
  if (s == DG_OK && dg_timeline_check(&t) != DG_OK) {
    const char *why = dg_last_error();
    char *msg = g_strdup(g_str_has_prefix(why, "timeline: ") ? why + strlen("timeline: ") : why);
    s = dg_fail(DG_ERR_FORMAT, "%s: %s", where, msg);
    g_free(msg);
  }
  if (s == DG_OK) s = dg_timeline_copy(out, &t);
  dg_timeline_clear(&t);
  return s;
}
