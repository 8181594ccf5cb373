#include "dg_style_panel.h"

#include <stdlib.h>
#include <string.h>

#include "dg_assets.h"
#include "dg_style_edit.h"
#include "dg_style_worker.h"

typedef struct slot_widgets {
  GtkWidget *picture, *label;
} slot_widgets;

struct _DgStylePanel {
  DgDocumentView parent;
  slot_widgets slot[2]; // content, exemplar (the template's children below)
  GtkWidget *content_picture, *content_label, *exemplar_picture, *exemplar_label;
  GtkWidget *method_drop, *strength_scale, *preview, *compare_content, *compare_button, *apply_button,
      *apply_all_button, *info_label, *spectrum;
  GtkAdjustment *strength_adj;
  dg_style_worker *worker;
  guint debounce_id;
  guint seal_id; // ends the slider's undo step once it rests

  uint64_t preview_serial; // the newest preview asked for; older ones are dropped when they arrive
  gint64 preview_asked_us; // when the edit behind it happened
  uint64_t apply_first;    // an apply's requests: serials apply_first .. apply_first + apply_n - 1
  int apply_n, apply_got;  // 0: no apply running
  uint64_t *apply_ids;     // every result: the id (dg_result.id) of the result each request restyles; NULL: a
                           // new result. Ids, not indices: the results may change while the apply runs
  dg_result *apply_out;    // what arrived so far (no pixels: its result was gone when it arrived)
  dg_style apply_style;    // the style the apply used (for the results' description)
  uint64_t apply_source;   // a new result: the id of the result its content came from, 0 none
  dg_style_panel_state state;
  dg_style_spectra spectra;     // of the preview shown (log10 radial power): content, exemplar, preview
  const dg_style_image *warmed; // the content the worker was last warmed up for (compared, never dereferenced)
};

G_DEFINE_FINAL_TYPE(DgStylePanel, dg_style_panel, DG_TYPE_DOCUMENT_VIEW)

static dg_document *model(DgStylePanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  return doc ? dg_document_object_get_model(doc) : NULL;
}

static void say(DgStylePanel *self, const char *what) {
  dg_document_view_status(DG_DOCUMENT_VIEW(self), "Style: %s", what);
}

static GdkTexture *texture_of(const dg_style_image *img) {
  int w = dg_style_image_width(img), h = dg_style_image_height(img);
  GBytes *b = g_bytes_new(dg_style_image_rgba(img), (gsize)w * h * 4);
  GdkTexture *t = gdk_memory_texture_new(w, h, GDK_MEMORY_R8G8B8A8, b, (gsize)w * 4);
  g_bytes_unref(b);
  return t;
}

// ---- the preview -----------------------------------------------------------------------------------

static void clear_spectra(DgStylePanel *self) {
  dg_spectrum_clear(&self->spectra.content);
  dg_spectrum_clear(&self->spectra.exemplar);
  dg_spectrum_clear(&self->spectra.result);
}

static void clear_preview(DgStylePanel *self) {
  gtk_picture_set_paintable(GTK_PICTURE(self->preview), NULL);
  self->preview_serial = 0;
  clear_spectra(self);
  gtk_widget_queue_draw(self->spectrum);
}

// The three log10 radial power spectra over the radius, on one scale: content grey, exemplar orange, preview
// blue (FDA moves the preview's low radii to the exemplar's; the encoder reshapes the whole curve).
static void draw_spectra(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data) {
  (void)area;
  DgStylePanel *self = data;
  const dg_spectrum *sp[3] = {&self->spectra.content, &self->spectra.exemplar, &self->spectra.result};
  const double colour[3][3] = {{0.6, 0.6, 0.6}, {0.95, 0.55, 0.1}, {0.2, 0.45, 0.95}};
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
  for (int k = 0; k < 3; k++)
    for (int r = 0; r < sp[k]->bins; r++)
      lo = MIN(lo, sp[k]->power[r]), hi = MAX(hi, sp[k]->power[r]);
  if (hi <= lo) return;
  cairo_set_line_width(cr, 1.5);
  for (int k = 0; k < 3; k++) {
    if (sp[k]->bins < 2) continue;
    cairo_set_source_rgb(cr, colour[k][0], colour[k][1], colour[k][2]);
    for (int r = 0; r < sp[k]->bins; r++) {
      double x = 2 + (width - 4) * (double)r / (sp[k]->bins - 1);
      double y = 2 + (height - 4) * (hi - sp[k]->power[r]) / (hi - lo);
      if (r)
        cairo_line_to(cr, x, y);
      else
        cairo_move_to(cr, x, y);
    }
    cairo_stroke(cr);
  }
}

static gboolean submit_preview(gpointer data) {
  DgStylePanel *self = data;
  self->debounce_id = 0;
  const dg_style *s = model(self) ? dg_document_style(model(self)) : NULL;
  if (!s || !s->slot[0] || !s->slot[1]) return G_SOURCE_REMOVE;
  self->preview_serial = dg_style_worker_submit(self->worker, true, s->slot[0], s->slot[1], s->method, s->strength);
  return G_SOURCE_REMOVE;
}

// After every change of the style: FDA is computed at once (milliseconds), the encoder once the slider rests.
static void schedule_preview(DgStylePanel *self) {
  if (self->debounce_id) g_source_remove(self->debounce_id);
  self->debounce_id = 0;
  const dg_style *s = dg_document_style(model(self));
  if (s->slot[0] && !s->slot[1] && s->slot[0] != self->warmed) { // the device and plans ready for the exemplar
    self->warmed = s->slot[0];
    dg_style_worker_submit(self->worker, false, s->slot[0], NULL, s->method, s->strength);
  }
  if (!s->slot[0] || !s->slot[1]) {
    clear_preview(self);
    return;
  }
  self->preview_asked_us = g_get_monotonic_time();
  if (s->method == DG_STYLIZE_FDA)
    submit_preview(self);
  else
    self->debounce_id = g_timeout_add(DG_STYLE_PREVIEW_DEBOUNCE_MS, submit_preview, self);
}

// ---- applying --------------------------------------------------------------------------------------

static void apply_reset(DgStylePanel *self) {
  for (int k = 0; self->apply_out && k < self->apply_n; k++)
    dg_result_clear(&self->apply_out[k]);
  g_clear_pointer(&self->apply_out, g_free);
  g_clear_pointer(&self->apply_ids, g_free);
  dg_style_clear(&self->apply_style);
  self->apply_n = self->apply_got = 0;
  self->state.applying = FALSE;
  gtk_widget_set_sensitive(self->apply_button, TRUE);
  gtk_widget_set_sensitive(self->apply_all_button, TRUE);
}

// Every request of the apply arrived: one undo step for all of them.
static void apply_finish(DgStylePanel *self) {
  dg_document *doc = model(self);
  dg_status st;
  char *text = NULL;
  if (!self->apply_ids) {
    st = dg_style_edit_add_result(doc, &self->apply_out[0]);
    if (st == DG_OK)
      text = g_strdup_printf("added result %d (%s)", dg_document_result_count(doc),
                             dg_document_result(doc, dg_document_result_count(doc) - 1)->style);
  } else {
    // The results there were when the apply started, wherever they are now; those removed or replaced
    // meanwhile (an undo, another apply) are skipped, and results added meanwhile (a generation) untouched.
    int replaced = 0;
    st = dg_style_edit_replace_by_id(doc, self->apply_n, self->apply_ids, self->apply_out, &replaced);
    int skipped = self->apply_n - replaced;
    if (!replaced)
      text = g_strdup("nothing restyled: every result was removed or changed while they were restyled");
    else if (skipped)
      text = g_strdup_printf("restyled %d results (one undo step); %d removed or changed meanwhile skipped", replaced,
                             skipped);
    else
      text = g_strdup_printf("restyled %d results (one undo step)", replaced);
  }
  memset(self->apply_out, 0, (size_t)self->apply_n * sizeof *self->apply_out); // taken, also when they failed
  say(self, st == DG_OK ? text : dg_last_error());
  g_free(text);
  apply_reset(self);
}

static void worker_done(void *user, uint64_t serial, bool preview, dg_status status, const char *error, dg_media *rgb,
                        dg_style_spectra *spectra, double seconds) {
  DgStylePanel *self = user;
  if (preview) {
    if (serial != self->preview_serial) { // a newer preview was asked for meanwhile
      self->state.previews_stale++;
      return;
    }
    if (status != DG_OK) {
      say(self, error);
      clear_preview(self);
      return;
    }
    dg_result shown;
    if (dg_style_result(NULL, rgb, dg_document_style(model(self)), &shown) != DG_OK) return;
    GBytes *b = g_bytes_new_take(shown.rgba, (gsize)shown.width * shown.height * 4);
    shown.rgba = NULL;
    GdkTexture *t = gdk_memory_texture_new(shown.width, shown.height, GDK_MEMORY_R8G8B8A8, b, (gsize)shown.width * 4);
    gtk_picture_set_paintable(GTK_PICTURE(self->preview), GDK_PAINTABLE(t));
    g_object_unref(t), g_bytes_unref(b);
    dg_result_clear(&shown);
    clear_spectra(self);
    self->spectra = *spectra; // taken
    memset(spectra, 0, sizeof *spectra);
    gtk_widget_queue_draw(self->spectrum);
    self->state.previews_shown++;
    self->state.preview_latency_ms = (double)(g_get_monotonic_time() - self->preview_asked_us) / 1000.0;
    self->state.preview_run_ms = seconds * 1000.0;
    char *info = g_strdup_printf("Preview in %.0f ms (%s)", self->state.preview_latency_ms,
                                 dg_stylize_method_name(dg_document_style(model(self))->method));
    gtk_label_set_text(GTK_LABEL(self->info_label), info);
    g_free(info);
    return;
  }
  if (!self->apply_n || serial < self->apply_first || serial >= self->apply_first + (uint64_t)self->apply_n) return;
  if (status != DG_OK) {
    say(self, error);
    apply_reset(self);
    return;
  }
  int k = (int)(serial - self->apply_first);
  dg_document *doc = model(self);
  const dg_result *source =
      dg_document_result(doc, dg_document_result_find(doc, self->apply_ids ? self->apply_ids[k] : self->apply_source));
  if (self->apply_ids && !source) { // removed or replaced since the apply started: nothing to restyle
    if (++self->apply_got == self->apply_n) apply_finish(self);
    return;
  }
  if (dg_style_result(source, rgb, &self->apply_style, &self->apply_out[k]) != DG_OK) {
    say(self, dg_last_error());
    apply_reset(self);
    return;
  }
  if (++self->apply_got == self->apply_n) apply_finish(self);
}

// "result N" as a slot's source: N - 1, else -1.
static int source_result(const dg_style_image *img) {
  int n = 0;
  return img && sscanf(dg_style_image_source(img), "result %d", &n) == 1 ? n - 1 : -1;
}

gboolean dg_style_panel_apply(DgStylePanel *self, gboolean every) {
  dg_document *doc = model(self);
  const dg_style *s = dg_document_style(doc);
  const char *why = self->apply_n                             ? "an apply is still running"
                    : !s->slot[1]                             ? "no exemplar: fill the exemplar slot first"
                    : !every && !s->slot[0]                   ? "no content: fill the content slot first"
                    : every && !dg_document_result_count(doc) ? "no results to restyle"
                                                              : NULL;
  if (why) {
    say(self, why);
    return FALSE;
  }
  dg_style_copy(&self->apply_style, s);
  self->apply_n = every ? dg_document_result_count(doc) : 1;
  self->apply_out = g_new0(dg_result, self->apply_n);
  const dg_result *source = dg_document_result(doc, source_result(s->slot[0]));
  self->apply_source = source ? source->id : 0;
  for (int k = 0; k < self->apply_n; k++) {
    dg_style_image *content = every ? dg_style_image_from_result(doc, k) : dg_style_image_ref(s->slot[0]);
    if (!content) { // out of memory: what was queued arrives to no apply
      say(self, dg_last_error());
      apply_reset(self);
      return FALSE;
    }
    uint64_t serial = dg_style_worker_submit(self->worker, false, content, s->slot[1], s->method, s->strength);
    if (!k) self->apply_first = serial;
    dg_style_image_unref(content);
  }
  if (every) { // the results as they are now, whatever happens to the list while the worker runs
    self->apply_ids = g_new(uint64_t, self->apply_n);
    for (int k = 0; k < self->apply_n; k++)
      self->apply_ids[k] = dg_document_result(doc, k)->id;
  }
  self->state.applying = TRUE;
  gtk_widget_set_sensitive(self->apply_button, FALSE);
  gtk_widget_set_sensitive(self->apply_all_button, FALSE);
  say(self, every ? "restyling every result…" : "stylizing…");
  return TRUE;
}

// ---- the slots -------------------------------------------------------------------------------------

gboolean dg_style_panel_fill(DgStylePanel *self, dg_style_slot slot, const char *what) {
  dg_document *doc = model(self);
  dg_style_image *img = NULL;
  int n = 0;
  guint64 seed = 0;
  char tail;
  if (!*what)
    img = NULL;
  else if (sscanf(what, "result %d%c", &n, &tail) == 1)
    img = dg_style_image_from_result(doc, n - 1);
  else if (!strcmp(what, "world random"))
    img = dg_style_image_from_world(g_random_int(), dg_document_width(doc), dg_document_height(doc));
  else if (g_str_has_prefix(what, "world ") && g_ascii_string_to_unsigned(what + 6, 10, 0, G_MAXUINT64, &seed, NULL))
    img = dg_style_image_from_world(seed, dg_document_width(doc), dg_document_height(doc));
  else
    img = dg_style_image_from_file(what);
  if (*what && !img) {
    char *msg = g_strdup_printf("the %s slot is unchanged: %s", dg_style_slot_name(slot), dg_last_error());
    say(self, msg);
    g_free(msg);
    return FALSE;
  }
  dg_status st = dg_style_edit_set_slot(doc, slot, img);
  dg_style_image_unref(img);
  if (st != DG_OK) say(self, dg_last_error());
  return st == DG_OK;
}

static void show_slot(DgStylePanel *self, int k, const dg_style_image *img) {
  GdkTexture *t = img ? texture_of(img) : NULL;
  gtk_picture_set_paintable(GTK_PICTURE(self->slot[k].picture), GDK_PAINTABLE(t));
  if (k == DG_STYLE_CONTENT) gtk_picture_set_paintable(GTK_PICTURE(self->compare_content), GDK_PAINTABLE(t));
  g_clear_object(&t);
  char *text = img ? g_strdup_printf("%s · %dx%d", dg_style_image_source(img), dg_style_image_width(img),
                                     dg_style_image_height(img))
                   : g_strdup_printf("Drop a PNG or a result here (%s)", dg_style_slot_name((dg_style_slot)k));
  gtk_label_set_text(GTK_LABEL(self->slot[k].label), text);
  g_free(text);
}

static void style_changed(DgDocument *doc, DgStylePanel *self) {
  const dg_style *s = dg_document_style(dg_document_object_get_model(doc));
  for (int k = 0; k < 2; k++)
    show_slot(self, k, s->slot[k]);
  if (gtk_drop_down_get_selected(GTK_DROP_DOWN(self->method_drop)) != (guint)s->method)
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->method_drop), (guint)s->method);
  if (gtk_adjustment_get_value(self->strength_adj) != s->strength)
    gtk_adjustment_set_value(self->strength_adj, s->strength);
  schedule_preview(self);
}

static void dg_style_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgStylePanel *self = DG_STYLE_PANEL(view);
  clear_preview(self);
  if (self->apply_n) apply_reset(self); // an apply for the old document goes nowhere
  if (!doc) return;
  dg_document_view_connect(view, "style-changed", G_CALLBACK(style_changed));
  style_changed(doc, self);
}

// ---- template callbacks ----------------------------------------------------------------------------

static void method_chosen(DgStylePanel *self) {
  if (!model(self)) return;
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->method_drop));
  if (i != (guint)dg_document_style(model(self))->method) dg_style_edit_set_method(model(self), (dg_stylize_method)i);
}
// A drag of the slider is one undo step: its moves merge until it rests for a second.
static gboolean seal_slider(gpointer data) {
  DgStylePanel *self = data;
  self->seal_id = 0;
  if (model(self)) dg_document_seal_history(model(self));
  return G_SOURCE_REMOVE;
}
static void strength_moved(DgStylePanel *self) {
  if (!model(self) || gtk_adjustment_get_value(self->strength_adj) == dg_document_style(model(self))->strength) return;
  dg_style_edit_set_strength(model(self), gtk_adjustment_get_value(self->strength_adj), true);
  if (self->seal_id) g_source_remove(self->seal_id);
  self->seal_id = g_timeout_add(1000, seal_slider, self);
}
static void apply_clicked(DgStylePanel *self) { dg_style_panel_apply(self, FALSE); }
static void apply_all_clicked(DgStylePanel *self) { dg_style_panel_apply(self, TRUE); }
static void compare_toggled(DgStylePanel *self) {
  gtk_widget_set_visible(self->compare_content, gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->compare_button)));
}
static void fill_clicked(DgStylePanel *self, dg_style_slot slot, const char *what) {
  dg_style_panel_fill(self, slot, what);
}
static void content_from_result(DgStylePanel *self) {
  char *what = g_strdup_printf("result %d", dg_document_current_result(model(self)) + 1);
  fill_clicked(self, DG_STYLE_CONTENT, dg_document_current_result(model(self)) < 0 ? "result 0" : what);
  g_free(what);
}
static void exemplar_from_result(DgStylePanel *self) {
  char *what = g_strdup_printf("result %d", dg_document_current_result(model(self)) + 1);
  fill_clicked(self, DG_STYLE_EXEMPLAR, what);
  g_free(what);
}
static void content_from_world(DgStylePanel *self) { fill_clicked(self, DG_STYLE_CONTENT, "world random"); }
static void exemplar_from_world(DgStylePanel *self) { fill_clicked(self, DG_STYLE_EXEMPLAR, "world random"); }

// A dropped file or a result dragged from the strip ("result N").
static gboolean dropped(GtkDropTarget *target, const GValue *value, double x, double y, gpointer data) {
  (void)x, (void)y;
  DgStylePanel *self = data;
  dg_style_slot slot = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(target), "slot"));
  if (G_VALUE_HOLDS(value, G_TYPE_FILE)) {
    char *path = g_file_get_path(g_value_get_object(value));
    gboolean ok = path && dg_style_panel_fill(self, slot, path);
    if (!path) say(self, "only local files can be dropped");
    g_free(path);
    return ok;
  }
  return G_VALUE_HOLDS_STRING(value) && g_str_has_prefix(g_value_get_string(value), "result ") &&
         dg_style_panel_fill(self, slot, g_value_get_string(value));
}

static void add_drop_target(DgStylePanel *self, int k) {
  GtkDropTarget *t = gtk_drop_target_new(G_TYPE_INVALID, GDK_ACTION_COPY);
  GType types[] = {G_TYPE_FILE, G_TYPE_STRING};
  gtk_drop_target_set_gtypes(t, types, G_N_ELEMENTS(types));
  g_object_set_data(G_OBJECT(t), "slot", GINT_TO_POINTER(k));
  g_signal_connect(t, "drop", G_CALLBACK(dropped), self);
  gtk_widget_add_controller(gtk_widget_get_parent(self->slot[k].picture), GTK_EVENT_CONTROLLER(t));
}

// ---- public state ----------------------------------------------------------------------------------

gboolean dg_style_panel_get_compare(DgStylePanel *self) {
  return gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->compare_button));
}
void dg_style_panel_set_compare(DgStylePanel *self, gboolean compare) {
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->compare_button), compare);
}
void dg_style_panel_get_state(DgStylePanel *self, dg_style_panel_state *out) {
  *out = self->state;
  out->pending = dg_style_worker_pending(self->worker) + (self->debounce_id ? 1 : 0);
}
void dg_style_panel_get_spectra(DgStylePanel *self, int bins[3], double dc[3]) {
  const dg_spectrum *sp[3] = {&self->spectra.content, &self->spectra.exemplar, &self->spectra.result};
  for (int k = 0; k < 3; k++) {
    bins[k] = sp[k]->bins;
    dc[k] = sp[k]->bins ? sp[k]->power[0] : 0;
  }
}

char *dg_style_panel_describe_preview(DgStylePanel *self) {
  return dg_paintable_describe(gtk_picture_get_paintable(GTK_PICTURE(self->preview)));
}

// ---- GObject ---------------------------------------------------------------------------------------

static void dg_style_panel_dispose(GObject *object) {
  DgStylePanel *self = DG_STYLE_PANEL(object);
  if (self->debounce_id) g_source_remove(self->debounce_id);
  if (self->seal_id) g_source_remove(self->seal_id);
  self->debounce_id = self->seal_id = 0;
  g_clear_pointer(&self->worker, dg_style_worker_free); // waits for the running request; no callback after
  if (self->apply_out) apply_reset(self);
  clear_spectra(self);
  G_OBJECT_CLASS(dg_style_panel_parent_class)->dispose(object);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgStylePanel, content_picture),  DG_TEMPLATE_CHILD(DgStylePanel, content_label),
    DG_TEMPLATE_CHILD(DgStylePanel, exemplar_picture), DG_TEMPLATE_CHILD(DgStylePanel, exemplar_label),
    DG_TEMPLATE_CHILD(DgStylePanel, method_drop),      DG_TEMPLATE_CHILD(DgStylePanel, strength_scale),
    DG_TEMPLATE_CHILD(DgStylePanel, strength_adj),     DG_TEMPLATE_CHILD(DgStylePanel, preview),
    DG_TEMPLATE_CHILD(DgStylePanel, compare_content),  DG_TEMPLATE_CHILD(DgStylePanel, compare_button),
    DG_TEMPLATE_CHILD(DgStylePanel, apply_button),     DG_TEMPLATE_CHILD(DgStylePanel, apply_all_button),
    DG_TEMPLATE_CHILD(DgStylePanel, info_label),       DG_TEMPLATE_CHILD(DgStylePanel, spectrum)};

static void dg_style_panel_class_init(DgStylePanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = dg_style_panel_dispose;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_style_panel_document_changed;
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_style_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, method_chosen);
  gtk_widget_class_bind_template_callback(wc, strength_moved);
  gtk_widget_class_bind_template_callback(wc, apply_clicked);
  gtk_widget_class_bind_template_callback(wc, apply_all_clicked);
  gtk_widget_class_bind_template_callback(wc, compare_toggled);
  gtk_widget_class_bind_template_callback(wc, content_from_result);
  gtk_widget_class_bind_template_callback(wc, exemplar_from_result);
  gtk_widget_class_bind_template_callback(wc, content_from_world);
  gtk_widget_class_bind_template_callback(wc, exemplar_from_world);
}

static void dg_style_panel_init(DgStylePanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->slot[0] = (slot_widgets){self->content_picture, self->content_label};
  self->slot[1] = (slot_widgets){self->exemplar_picture, self->exemplar_label};
  dg_style_init(&self->apply_style);
  char *enc = dg_assets_path("models/mne.safetensors"), *gen = dg_assets_path("models/stylegan2.safetensors");
  self->worker = dg_style_worker_new(enc, gen, worker_done, self);
  g_free(enc), g_free(gen);
  for (int k = 0; k < 2; k++)
    add_drop_target(self, k);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->spectrum), draw_spectra, self, NULL);
}
