#include "dg_document_object.h"

#include <string.h>

#include "dg_settings.h"

// ---- DgResult ------------------------------------------------------------------------------------

struct _DgResult {
  GObject parent;
  int index;
  dg_result info; // rgba NULL: the pixels are in `pixels`
  GBytes *pixels;
};

G_DEFINE_FINAL_TYPE(DgResult, dg_result_object, G_TYPE_OBJECT)

static void dg_result_object_finalize(GObject *object) {
  DgResult *self = DG_RESULT(object);
  dg_result_clear(&self->info);
  g_bytes_unref(self->pixels);
  G_OBJECT_CLASS(dg_result_object_parent_class)->finalize(object);
}

static void dg_result_object_class_init(DgResultClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = dg_result_object_finalize;
}
static void dg_result_object_init(DgResult *self) { (void)self; }

static DgResult *result_new(int index, const dg_result *r) {
  DgResult *self = g_object_new(DG_TYPE_RESULT, NULL);
  self->index = index;
  self->info = *r;
  self->info.rgba = NULL;
  self->info.prompt = g_strdup(r->prompt ? r->prompt : "");
  self->info.negative = g_strdup(r->negative ? r->negative : "");
  self->info.model = g_strdup(r->model ? r->model : "");
  self->info.marks = r->marks ? g_strdup(r->marks) : NULL;
  self->info.attn_guidance = r->attn_guidance ? g_strdup(r->attn_guidance) : NULL;
  self->info.style = r->style ? g_strdup(r->style) : NULL;
  self->pixels = g_bytes_new(r->rgba, (gsize)r->width * r->height * 4);
  return self;
}

int dg_result_object_get_index(DgResult *self) { return self->index; }
const dg_result *dg_result_object_get_info(DgResult *self) { return &self->info; }
GBytes *dg_result_object_get_pixels(DgResult *self) { return self->pixels; }

// ---- DgDocument ----------------------------------------------------------------------------------

struct _DgDocument {
  GObject parent;
  dg_document *model;
  GListStore *results;
  int current_result, undo_depth;
  bool can_undo, can_redo;
  gint64 last_typing_us; // when a text property was last written
};

G_DEFINE_FINAL_TYPE(DgDocument, dg_document_object, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_MODEL,
  PROP_PALETTE,
  PROP_MARKS,
  PROP_ATTN_GUIDANCE,
  PROP_SEED,
  PROP_SEED_RANDOM,
  PROP_LIVE,
  PROP_STEPS,
  PROP_GUIDANCE,
  PROP_CONTROL_SCALE,
  PROP_CURRENT_RESULT,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_UNDO_DEPTH,
  PROP_GENERATION,
  N_PROPS
};
static GParamSpec *props[N_PROPS];
// The property of each dg_doc_field.
static const int field_props[DG_FIELD_COUNT] = {
    [DG_FIELD_PROMPT] = PROP_PROMPT, [DG_FIELD_NEGATIVE] = PROP_NEGATIVE_PROMPT,
    [DG_FIELD_SEED] = PROP_SEED,     [DG_FIELD_SEED_RANDOM] = PROP_SEED_RANDOM,
    [DG_FIELD_STEPS] = PROP_STEPS,   [DG_FIELD_GUIDANCE] = PROP_GUIDANCE,
    [DG_FIELD_CONTROL_SCALE] = PROP_CONTROL_SCALE,
    [DG_FIELD_MODEL] = PROP_MODEL,   [DG_FIELD_PALETTE] = PROP_PALETTE,
    [DG_FIELD_MARKS] = PROP_MARKS,   [DG_FIELD_ATTN_GUIDANCE] = PROP_ATTN_GUIDANCE,
    [DG_FIELD_LIVE] = PROP_LIVE,
};

enum {
  SIGNAL_LAYOUT_CHANGED,
  SIGNAL_TIMELINE_CHANGED,
  SIGNAL_VIDEO_CHANGED,
  SIGNAL_HISTORY_CHANGED,
  SIGNAL_STYLE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

// Notifies `prop` when *cached differs from now (and stores now).
static void notify_if_changed(DgDocument *self, int prop, int *cached, int now) {
  if (*cached == now) return;
  *cached = now;
  g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

// The list follows the model: results from `from` on are made again (inserted, replaced or removed there),
// and new ones appended.
static void sync_results(DgDocument *self, int from) {
  int n = dg_document_result_count(self->model);
  guint have = g_list_model_get_n_items(G_LIST_MODEL(self->results));
  if (from < 0 || from > (int)have) from = (int)have;
  GPtrArray *items = g_ptr_array_new_with_free_func(g_object_unref);
  for (int i = from; i < n; i++)
    g_ptr_array_add(items, result_new(i, dg_document_result(self->model, i)));
  g_list_store_splice(self->results, (guint)from, have - (guint)from, items->pdata, items->len);
  g_ptr_array_unref(items);
  notify_if_changed(self, PROP_CURRENT_RESULT, &self->current_result, dg_document_current_result(self->model));
}

static void model_changed(dg_document *doc, int what, int x, int y, int w, int h, void *user) {
  (void)doc;
  DgDocument *self = user;
  GObject *object = G_OBJECT(self);
  g_object_freeze_notify(object);
  if (what & DG_CHANGED_LAYOUT) g_signal_emit(self, signals[SIGNAL_LAYOUT_CHANGED], 0, x, y, w, h);
  for (int f = 0; f < DG_FIELD_COUNT; f++)
    if (what & DG_CHANGED_FIELD(f)) g_object_notify_by_pspec(object, props[field_props[f]]);
  if (what & DG_CHANGED_RESULTS) sync_results(self, w ? x : -1);
  if (what & DG_CHANGED_STYLE) g_signal_emit(self, signals[SIGNAL_STYLE_CHANGED], 0);
  if (what & DG_CHANGED_TIMELINE) g_signal_emit(self, signals[SIGNAL_TIMELINE_CHANGED], 0);
  if (what & DG_CHANGED_VIDEO) g_signal_emit(self, signals[SIGNAL_VIDEO_CHANGED], 0);
  if (what & DG_CHANGED_HISTORY) {
    g_signal_emit(self, signals[SIGNAL_HISTORY_CHANGED], 0);
    int can_undo = self->can_undo, can_redo = self->can_redo;
    notify_if_changed(self, PROP_CAN_UNDO, &can_undo, dg_document_can_undo(self->model));
    notify_if_changed(self, PROP_CAN_REDO, &can_redo, dg_document_can_redo(self->model));
    self->can_undo = can_undo, self->can_redo = can_redo;
    notify_if_changed(self, PROP_UNDO_DEPTH, &self->undo_depth, dg_document_undo_depth(self->model));
  }
  g_object_notify_by_pspec(object, props[PROP_GENERATION]);
  g_object_thaw_notify(object);
}

DgDocument *dg_document_object_new(dg_document *model) {
  g_return_val_if_fail(model != NULL, NULL);
  DgDocument *self = g_object_new(DG_TYPE_DOCUMENT, NULL);
  self->model = model;
  self->current_result = -1;
  self->can_undo = dg_document_can_undo(model);
  self->can_redo = dg_document_can_redo(model);
  self->undo_depth = dg_document_undo_depth(model);
  sync_results(self, -1);
  dg_document_set_listener(model, model_changed, self);
  return self;
}

dg_document *dg_document_object_get_model(DgDocument *self) { return self->model; }
GListModel *dg_document_object_get_results(DgDocument *self) { return G_LIST_MODEL(self->results); }

dg_status dg_document_object_set_text(DgDocument *self, dg_doc_field field, const char *text) {
  return dg_document_set_text(self->model, field, text, false);
}

// Typing: a write within a second of the last one merges into its undo step.
static void type_text(DgDocument *self, dg_doc_field field, const char *text) {
  gint64 now = g_get_monotonic_time();
  if (now - self->last_typing_us >= G_USEC_PER_SEC) dg_document_seal_history(self->model);
  self->last_typing_us = now;
  if (dg_document_set_text(self->model, field, text, true) != DG_OK)
    g_warning("%s", dg_last_error()); // only texts over 64 KiB are refused
}

static void dg_document_object_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgDocument *self = DG_DOCUMENT(object);
  dg_document *m = self->model;
  switch (id) {
  case PROP_WIDTH: g_value_set_int(value, dg_document_width(m)); break;
  case PROP_HEIGHT: g_value_set_int(value, dg_document_height(m)); break;
  case PROP_PROMPT: g_value_set_string(value, dg_document_prompt(m)); break;
  case PROP_NEGATIVE_PROMPT: g_value_set_string(value, dg_document_negative(m)); break;
  case PROP_MODEL: g_value_set_string(value, dg_document_model(m)); break;
  case PROP_PALETTE: g_value_set_string(value, dg_document_palette(m)); break;
  case PROP_MARKS: g_value_set_string(value, dg_document_marks(m)); break;
  case PROP_ATTN_GUIDANCE: g_value_set_string(value, dg_document_attn_guidance(m)); break;
  case PROP_SEED: g_value_set_uint64(value, dg_document_seed(m)); break;
  case PROP_SEED_RANDOM: g_value_set_boolean(value, dg_document_seed_random(m)); break;
  case PROP_LIVE: g_value_set_boolean(value, dg_document_live(m)); break;
  case PROP_STEPS: g_value_set_int(value, dg_document_steps(m)); break;
  case PROP_GUIDANCE: g_value_set_double(value, dg_document_guidance(m)); break;
  case PROP_CONTROL_SCALE: g_value_set_double(value, dg_document_control_scale(m)); break;
  case PROP_CURRENT_RESULT: g_value_set_int(value, dg_document_current_result(m)); break;
  case PROP_CAN_UNDO: g_value_set_boolean(value, dg_document_can_undo(m)); break;
  case PROP_CAN_REDO: g_value_set_boolean(value, dg_document_can_redo(m)); break;
  case PROP_UNDO_DEPTH: g_value_set_int(value, dg_document_undo_depth(m)); break;
  case PROP_GENERATION: g_value_set_uint64(value, dg_document_generation(m)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_document_object_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  DgDocument *self = DG_DOCUMENT(object);
  if (id == PROP_PROMPT || id == PROP_NEGATIVE_PROMPT) {
    type_text(self, id == PROP_PROMPT ? DG_FIELD_PROMPT : DG_FIELD_NEGATIVE, g_value_get_string(value));
    return;
  }
  dg_document *m = self->model;
  switch (id) {
  case PROP_MARKS: // one undo step per change (a chip added or removed), never merged
    if (dg_document_set_text(m, DG_FIELD_MARKS, g_value_get_string(value), false) != DG_OK)
      g_warning("%s", dg_last_error());
    break;
  case PROP_ATTN_GUIDANCE: // "none", "attend-excite", "divide-bind"; one undo step per change
    if (dg_document_set_text(m, DG_FIELD_ATTN_GUIDANCE, g_value_get_string(value), false) != DG_OK)
      g_warning("%s", dg_last_error());
    break;
  case PROP_SEED: dg_document_set_seed(m, g_value_get_uint64(value)); break;
  case PROP_SEED_RANDOM: dg_document_set_seed_random(m, g_value_get_boolean(value)); break;
  case PROP_LIVE: dg_document_set_live(m, g_value_get_boolean(value)); break;
  case PROP_STEPS: dg_document_set_steps(m, g_value_get_int(value)); break;
  case PROP_GUIDANCE: dg_document_set_guidance(m, g_value_get_double(value)); break;
  case PROP_CONTROL_SCALE: dg_document_set_control_scale(m, g_value_get_double(value)); break; // 0 refused
  case PROP_CURRENT_RESULT: dg_document_set_current_result(m, g_value_get_int(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_document_object_finalize(GObject *object) {
  DgDocument *self = DG_DOCUMENT(object);
  dg_document_free(self->model);
  g_object_unref(self->results);
  G_OBJECT_CLASS(dg_document_object_parent_class)->finalize(object);
}

static void dg_document_object_class_init(DgDocumentClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = dg_document_object_get_property;
  oc->set_property = dg_document_object_set_property;
  oc->finalize = dg_document_object_finalize;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  const GParamFlags rw = ro | G_PARAM_WRITABLE;
  props[PROP_WIDTH] = g_param_spec_int("width", NULL, NULL, 1, DG_DOC_MAX_SIDE, DG_DOC_DEFAULT_WIDTH, ro);
  props[PROP_HEIGHT] = g_param_spec_int("height", NULL, NULL, 1, DG_DOC_MAX_SIDE, DG_DOC_DEFAULT_HEIGHT, ro);
  props[PROP_PROMPT] = g_param_spec_string("prompt", NULL, NULL, "", rw);
  props[PROP_NEGATIVE_PROMPT] = g_param_spec_string("negative-prompt", NULL, NULL, "", rw);
  props[PROP_MODEL] = g_param_spec_string("model", NULL, NULL, "default", ro);
  props[PROP_PALETTE] = g_param_spec_string("palette", NULL, NULL, "world", ro);
  props[PROP_MARKS] = g_param_spec_string("marks", NULL, NULL, "", rw);
  props[PROP_ATTN_GUIDANCE] = g_param_spec_string("attn-guidance", NULL, NULL, "none", rw);
  props[PROP_SEED] = g_param_spec_uint64("seed", NULL, NULL, 0, G_MAXUINT64, 1, rw);
  props[PROP_SEED_RANDOM] = g_param_spec_boolean("seed-random", NULL, NULL, FALSE, rw);
  props[PROP_LIVE] = g_param_spec_boolean("live", NULL, NULL, FALSE, rw); // live mode: no undo step
  props[PROP_STEPS] = g_param_spec_int("steps", NULL, NULL, 1, DG_DOC_MAX_STEPS, 20, rw);
  props[PROP_GUIDANCE] = g_param_spec_double("guidance", NULL, NULL, 0, 100, 7.5, rw);
  // the layout strength (dg_document_control_scale): above 0, at most DG_SETTINGS_MAX_CONTROL_SCALE
  props[PROP_CONTROL_SCALE] = g_param_spec_double("control-scale", NULL, NULL, 0, DG_SETTINGS_MAX_CONTROL_SCALE, 1, rw);
  props[PROP_CURRENT_RESULT] = g_param_spec_int("current-result", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_CAN_UNDO] = g_param_spec_boolean("can-undo", NULL, NULL, FALSE, ro);
  props[PROP_CAN_REDO] = g_param_spec_boolean("can-redo", NULL, NULL, FALSE, ro);
  props[PROP_UNDO_DEPTH] = g_param_spec_int("undo-depth", NULL, NULL, 0, G_MAXINT, 0, ro);
  props[PROP_GENERATION] = g_param_spec_uint64("generation", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  g_object_class_install_properties(oc, N_PROPS, props);
  // the timeline (dg_document_timeline) and the generated video (dg_document_video) changed
  signals[SIGNAL_TIMELINE_CHANGED] = g_signal_new("timeline-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_VIDEO_CHANGED] =
      g_signal_new("video-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  // an undo step was pushed (an edit ended: a stroke released, a field set), undone or redone, or the
  // history cleared; "undo-depth" alone misses a push at the history limit
  signals[SIGNAL_HISTORY_CHANGED] =
      g_signal_new("history-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  // the style panel's state (dg_document_style)
  signals[SIGNAL_STYLE_CHANGED] =
      g_signal_new("style-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  // (x, y, width, height): the rectangle of the layout that changed.
  signals[SIGNAL_LAYOUT_CHANGED] =
      g_signal_new("layout-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                   G_TYPE_INT, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
}

static void dg_document_object_init(DgDocument *self) { self->results = g_list_store_new(DG_TYPE_RESULT); }
