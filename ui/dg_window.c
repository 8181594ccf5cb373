#include "dg_window.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "dg_files.h"
#include "dg_live.h"
#include "dg_model_choice.h"
#include "dg_palette_choice.h"
#include "dg_palette_convert.h"
#include "dg_palette_panel.h"
#include "dg_project_async.h"
#include "dg_results_panel.h"
#include "dg_style_panel.h"
#include "dg_timeline_track.h"

struct _DgWindow {
  GtkApplicationWindow parent;
  dg_palette *palette;
  DgDocument *document;
  char *path;               // where the document was saved or opened from; NULL until then
  guint64 saved_generation; // the document's generation at the last save or open
  guint64 autosaved_generation;
  guint autosave_source;
  int saves_in_flight;   // saves and autosaves not yet written
  bool close_confirmed;  // the user chose to close (saved or discarded)
  bool close_after_save; // close once the save asked for by the close confirmation is written
  GPtrArray *dialog_log; // messages of the dialogs shown (for dump-state and tests)
  DgJobRunner *runner;
  dg_live *live; // live mode's scheduler (ui/dg_live)

  DgPalettePanel *palette_panel;
  DgCanvas *canvas;
  DgPromptPanel *prompt_panel;
  DgResultsPanel *results_panel;
  DgTimelinePanel *timeline_panel;
  DgStylePanel *style_panel;
  GtkWidget *style_expander; // opens by itself when the document's style has a slot filled
  DgVideoExporter *exporter;
  char *last_export; // what the last export wrote, or why it did not ("" before any)
  bool video_job;    // the job started last from here is a video
  GtkWidget *brush_label, *status;
  GtkAdjustment *opacity;
};

G_DEFINE_FINAL_TYPE(DgWindow, dg_window, GTK_TYPE_APPLICATION_WINDOW)

enum { PROP_0, PROP_DOCUMENT, N_PROPS };
static GParamSpec *props[N_PROPS];

DgDocument *dg_window_get_document(DgWindow *self) { return self->document; }
dg_document *dg_window_get_model(DgWindow *self) { return dg_document_object_get_model(self->document); }
const char *dg_window_get_path(DgWindow *self) { return self->path; }
DgCanvas *dg_window_get_canvas(DgWindow *self) { return self->canvas; }
DgPalettePanel *dg_window_get_palette_panel(DgWindow *self) { return self->palette_panel; }
DgJobRunner *dg_window_get_runner(DgWindow *self) { return self->runner; }
const dg_palette *dg_window_get_palette(DgWindow *self) { return self->palette; }

static guint64 generation(DgWindow *self) { return dg_document_generation(dg_window_get_model(self)); }
gboolean dg_window_get_modified(DgWindow *self) { return generation(self) != self->saved_generation; }

// ---- status, dialogs, title ----------------------------------------------------------------------

void dg_window_set_status(DgWindow *self, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  gtk_label_set_text(GTK_LABEL(self->status), s);
  g_free(s);
}

// The panels' "status" signal (connected swapped in the template).
static void show_status(DgWindow *self, const char *text, DgDocumentView *view) {
  (void)view;
  gtk_label_set_text(GTK_LABEL(self->status), text);
}

static void dialog_response(GtkDialog *d, int response, gpointer data) {
  (void)response, (void)data;
  gtk_window_destroy(GTK_WINDOW(d));
}

void dg_window_log_dialog(DgWindow *self, const char *text) { g_ptr_array_add(self->dialog_log, g_strdup(text)); }

void dg_window_message(DgWindow *self, GtkMessageType type, const char *title, const char *detail) {
  char *logged = g_strdup_printf("%s: %s", title, detail ? detail : "");
  dg_window_log_dialog(self, logged);
  g_free(logged);
  GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, type,
                                        GTK_BUTTONS_CLOSE, "%s", title);
  if (detail) gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", detail);
  g_signal_connect(d, "response", G_CALLBACK(dialog_response), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

static char *display_name(DgWindow *self) {
  return self->path ? g_path_get_basename(self->path) : g_strdup("Untitled");
}

static void update_title(DgWindow *self) {
  char *base = display_name(self);
  char *title = g_strdup_printf("%s%s — Dirigent", dg_window_get_modified(self) ? "• " : "", base);
  gtk_window_set_title(GTK_WINDOW(self), title);
  g_free(title), g_free(base);
}

// ---- saving and autosave -------------------------------------------------------------------------

typedef struct save_request {
  DgWindow *window;
  char *path;         // NULL: the autosave
  guint64 generation; // of the document when the save was asked for
} save_request;

static void saved(GObject *source, GAsyncResult *result, gpointer data) {
  (void)source;
  save_request *req = data;
  DgWindow *self = req->window;
  GError *err = NULL;
  bool ok = dg_project_save_finish(result, &err);
  self->saves_in_flight--;
  if (!req->path) {
    if (ok)
      self->autosaved_generation = req->generation;
    else
      dg_window_set_status(self, "Autosave failed: %s", err->message);
  } else if (!ok) {
    self->close_after_save = false;
    dg_window_message(self, GTK_MESSAGE_ERROR, "Could not save the project", err->message);
  } else {
    if (g_strcmp0(self->path, req->path)) {
      g_free(self->path);
      self->path = g_strdup(req->path);
    }
    self->saved_generation = req->generation;
    update_title(self);
    dg_window_set_status(self, "Saved %s", req->path);
    if (self->close_after_save) {
      self->close_confirmed = true;
      gtk_window_close(GTK_WINDOW(self));
    }
  }
  g_clear_error(&err);
  g_free(req->path);
  g_object_unref(req->window);
  g_free(req);
}

static void save_to(DgWindow *self, const char *path, const char *dest) {
  save_request *req = g_new0(save_request, 1);
  req->window = g_object_ref(self);
  req->path = g_strdup(path);
  req->generation = generation(self);
  self->saves_in_flight++;
  dg_project_save_async(dg_window_get_model(self), dest, NULL, saved, req);
}

void dg_window_save(DgWindow *self, const char *path) { save_to(self, path, path); }

static gboolean autosave_now(gpointer data) {
  DgWindow *self = data;
  self->autosave_source = 0;
  char *path = dg_files_autosave_path(), *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    dg_window_set_status(self, "Autosave failed: %s: %s", dir, g_strerror(errno));
  else
    save_to(self, NULL, path);
  g_free(dir);
  g_free(path);
  return G_SOURCE_REMOVE;
}

// Unsaved work is autosaved two seconds after a change.
static void document_changed(DgDocument *doc, GParamSpec *pspec, DgWindow *self) {
  (void)doc, (void)pspec;
  update_title(self);
  guint64 g = generation(self);
  if (self->autosave_source || g == self->autosaved_generation || g == self->saved_generation) return;
  self->autosave_source = g_timeout_add_seconds(2, autosave_now, self);
}

// ---- the palette -----------------------------------------------------------------------------------

// The canvas and the panel show the document's palette (loaded when its name changes: an undo of a
// palette switch, an opened project).
static void palette_changed(DgDocument *doc, GParamSpec *pspec, DgWindow *self) {
  (void)pspec;
  const char *name = dg_document_palette(dg_document_object_get_model(doc));
  if (self->palette && !strcmp(dg_palette_title(self->palette), name)) return;
  dg_status st;
  dg_palette *p = dg_palette_load_named(name, &st);
  if (!p) {
    dg_window_set_status(self, "Palette %s: %s", name, dg_last_error());
    return;
  }
  dg_palette *old = self->palette;
  self->palette = p;
  dg_canvas_set_palette(self->canvas, p);
  dg_palette_panel_set_palette(self->palette_panel, p);
  dg_palette_free(old);
  dg_palette_panel_show_class(self->palette_panel, dg_canvas_get_class(self->canvas));
}

// Converts the layout to palette `name` by class name, one undo step; the unmatched classes are named.
void dg_window_convert_palette(DgWindow *self, const char *name) {
  dg_document *m = dg_document_object_get_model(self->document);
  if (!strcmp(dg_document_palette(m), name)) return;
  dg_status st;
  dg_palette *to = dg_palette_load_named(name, &st);
  dg_palette_conversion r;
  if (to) st = dg_palette_convert_document(m, self->palette, to, name, &r);
  if (!to || st != DG_OK) dg_window_set_status(self, "Palette %s: %s", name, dg_last_error());
  else if (r.unmatched_count)
    dg_window_set_status(self, "Layout converted to %s; %d classes have no %s class and are now unlabelled: %s "
                               "(undo to keep them)", name, r.unmatched_count, name, r.unmatched);
  else dg_window_set_status(self, "Layout converted to %s", name);
  dg_palette_free(to);
}

// The palette follows the model: a model whose ControlNet implies a shipped palette other than the
// document's converts the layout (one undo step, named in the status).
static void model_changed(DgDocument *doc, GParamSpec *pspec, DgWindow *self) {
  (void)pspec;
  char *path = dg_model_choice_path(dg_document_model(dg_document_object_get_model(doc)));
  dg_model_control_info ci;
  if (!path || dg_model_control_inspect(path, NULL, &ci) != DG_OK) {
    g_free(path);
    return;
  }
  char why[256];
  dg_status st;
  dg_palette *p = ci.present ? dg_palette_for_control(&ci, why, sizeof why, &st) : NULL;
  if (p && dg_palette_is_builtin(dg_palette_title(p)))
    dg_window_convert_palette(self, dg_palette_title(p));
  else if (ci.present && !p)
    dg_window_set_status(self, "The model's palette cannot be told (%s): choose one above the classes",
                         dg_last_error());
  dg_palette_free(p);
  dg_model_control_info_clear(&ci);
  g_free(path);
}

static void palette_chosen(DgPalettePanel *panel, const char *name, DgWindow *self) {
  (void)panel;
  dg_window_convert_palette(self, name);
}

// The style panel opens when the document's style has a slot filled (a person filled it, or a project had one).
static void style_changed(DgDocument *doc, DgWindow *self) {
  const dg_style *s = dg_document_style(dg_document_object_get_model(doc));
  if (s->slot[0] || s->slot[1]) gtk_expander_set_expanded(GTK_EXPANDER(self->style_expander), TRUE);
}

void dg_window_set_document(DgWindow *self, DgDocument *doc, const char *path) {
  dg_job_runner_abandon(self->runner); // a running job belongs to the document being replaced
  if (self->document) g_signal_handlers_disconnect_by_data(self->document, self);
  g_set_object(&self->document, doc);
  if (self->live) dg_live_set_document(self->live, doc);
  g_free(self->path);
  self->path = g_strdup(path);
  self->saved_generation = generation(self);
  g_signal_connect(doc, "notify::generation", G_CALLBACK(document_changed), self);
  g_signal_connect(doc, "notify::palette", G_CALLBACK(palette_changed), self);
  g_signal_connect(doc, "notify::model", G_CALLBACK(model_changed), self);
  g_signal_connect(doc, "style-changed", G_CALLBACK(style_changed), self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DOCUMENT]);
  style_changed(doc, self);
  palette_changed(doc, NULL, self);
  update_title(self);
}

void dg_window_mark_unsaved(DgWindow *self) {
  self->saved_generation = (guint64)-1;
  update_title(self);
}

// ---- closing -------------------------------------------------------------------------------------

void dg_window_close_discarding(DgWindow *self) {
  self->close_confirmed = true;
  gtk_window_close(GTK_WINDOW(self));
}

void dg_window_forget_close(DgWindow *self) { self->close_after_save = false; }

static void close_response(GtkDialog *d, int response, DgWindow *self) {
  gtk_window_destroy(GTK_WINDOW(d));
  if (response == GTK_RESPONSE_REJECT) {
    dg_window_close_discarding(self);
  } else if (response == GTK_RESPONSE_ACCEPT) {
    self->close_after_save = true;
    if (self->path)
      dg_window_save(self, self->path);
    else
      dg_files_save_dialog(self);
  }
}

static gboolean close_request(GtkWindow *window, gpointer data) {
  (void)data;
  DgWindow *self = DG_WINDOW(window);
  if (!self->close_confirmed && dg_window_get_modified(self)) {
    char *base = display_name(self);
    char *logged = g_strdup_printf("Save changes to %s before closing?", base);
    dg_window_log_dialog(self, logged);
    GtkWidget *d =
        gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                               GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "Save changes to “%s” before closing?", base);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "Unsaved changes are lost otherwise.");
    gtk_dialog_add_buttons(GTK_DIALOG(d), "Close _without saving", GTK_RESPONSE_REJECT, "_Cancel", GTK_RESPONSE_CANCEL,
                           "_Save", GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
    g_signal_connect(d, "response", G_CALLBACK(close_response), self);
    gtk_window_present(GTK_WINDOW(d));
    g_free(logged), g_free(base);
    return TRUE;
  }
  dg_job_runner_cancel(self->runner);
  dg_video_exporter_cancel(self->exporter); // a cancelled export leaves no file behind
  dg_video_exporter_wait(self->exporter);
  // A clean exit: saves still being written finish first, and the autosave is no longer a crash to
  // recover from.
  if (self->autosave_source) g_source_remove(self->autosave_source);
  self->autosave_source = 0;
  dg_project_wait_saves();
  dg_files_autosave_remove();
  return FALSE;
}

// ---- generation ----------------------------------------------------------------------------------

void dg_window_generate(DgWindow *self) {
  GError *err = NULL;
  if (dg_job_runner_get_running(self->runner)) return;
  if (dg_job_runner_start(self->runner, self->document, GTK_WIDGET(self->canvas), &err)) {
    self->video_job = false;
    return;
  }
  if (g_error_matches(err, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_NO_MODEL))
    dg_window_message(self, GTK_MESSAGE_INFO, "No model loaded", err->message);
  else if (g_error_matches(err, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_SETTINGS))
    dg_window_message(self, GTK_MESSAGE_ERROR, "Cannot generate with these settings", err->message);
  else
    dg_window_message(self, GTK_MESSAGE_ERROR, "Could not start generation", err->message);
  g_error_free(err);
}

void dg_window_cancel(DgWindow *self) { dg_job_runner_cancel(self->runner); }

DgTimelinePanel *dg_window_get_timeline_panel(DgWindow *self) { return self->timeline_panel; }

void dg_window_generate_video(DgWindow *self) {
  GError *err = NULL;
  if (dg_job_runner_get_running(self->runner) ||
      (self->video_job = dg_job_runner_start_video(self->runner, self->document, GTK_WIDGET(self->canvas),
                                                   dg_timeline_panel_get_playhead(self->timeline_panel), &err)))
    return;
  if (g_error_matches(err, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_NO_MODEL))
    dg_window_message(self, GTK_MESSAGE_INFO, "No model loaded", err->message);
  else if (g_error_matches(err, DG_JOB_RUNNER_ERROR, DG_JOB_RUNNER_ERROR_SETTINGS))
    dg_window_message(self, GTK_MESSAGE_ERROR, "Cannot generate with these settings", err->message);
  else
    dg_window_message(self, GTK_MESSAGE_ERROR, "Could not start the video", err->message);
  g_error_free(err);
}

gboolean dg_window_export_video(DgWindow *self, const char *path) {
  GError *err = NULL;
  if (dg_video_exporter_start(self->exporter, dg_document_video(dg_window_get_model(self)), path, &err)) {
    dg_window_set_status(self, "Exporting the video to %s…", path);
    return TRUE;
  }
  g_free(self->last_export);
  self->last_export = g_strdup(err->message);
  dg_window_message(self, GTK_MESSAGE_ERROR, "Could not export the video", err->message);
  g_error_free(err);
  return FALSE;
}

void dg_window_cancel_export(DgWindow *self) { dg_video_exporter_cancel(self->exporter); }

static void export_finished(DgVideoExporter *exporter, int outcome, const char *message, DgWindow *self) {
  (void)exporter;
  g_free(self->last_export);
  self->last_export = g_strdup(message);
  if (outcome == DG_VIDEO_EXPORT_FAILED)
    dg_window_message(self, GTK_MESSAGE_ERROR, "Could not export the video", message);
  else
    dg_window_set_status(self, "%s", message);
}

static void live_status(void *user, const char *text) { dg_window_set_status(user, "%s", text); }

static void job_finished(DgJobRunner *runner, int outcome, const char *message, DgWindow *self) {
  (void)runner;
  if (dg_live_job_ended(self->live, outcome, message)) return; // a live frame shows as the preview; a failure
                                                               // in the status line, once per streak
  const dg_video_result *video = dg_document_video(dg_window_get_model(self));
  const char *sep = message ? ". Note: " : "", *note = message ? message : "";
  if (outcome == DG_JOB_OUTCOME_DONE && self->video_job && video)
    dg_window_set_status(self, "Generated a video of %d frames (%dx%d)%s%s", video->frames.frames,
                         video->frames.width, video->frames.height, sep, note);
  else if (outcome == DG_JOB_OUTCOME_DONE)
    dg_window_set_status(self, "Generated result %d%s%s", dg_document_result_count(dg_window_get_model(self)), sep,
                         note);
  else if (outcome == DG_JOB_OUTCOME_FAILED)
    dg_window_message(self, GTK_MESSAGE_ERROR, "Generation failed", message);
}

// ---- state for tests and scripts -----------------------------------------------------------------

DgPromptPanel *dg_window_get_prompt_panel(DgWindow *self) { return self->prompt_panel; }
DgStylePanel *dg_window_get_style_panel(DgWindow *self) { return self->style_panel; }

char *dg_window_dump_state(DgWindow *self) {
  dg_document *m = dg_window_get_model(self);
  GVariantBuilder dialogs;
  g_variant_builder_init(&dialogs, G_VARIANT_TYPE("as"));
  for (guint i = 0; i < self->dialog_log->len; i++)
    g_variant_builder_add(&dialogs, "s", (const char *)g_ptr_array_index(self->dialog_log, i));
  int64_t areas[256];
  dg_document_class_areas(m, areas);
  // view: where layout pixel (0, 0)'s corner is on the window's surface, and the zoom, so that tests
  // can aim real pointer events at layout pixels.
  double ox, oy, zoom, sx = 0, sy = 0;
  dg_canvas_get_view(self->canvas, &ox, &oy, &zoom);
  graphene_point_t o = GRAPHENE_POINT_INIT((float)ox, (float)oy), q = o;
  if (!gtk_widget_compute_point(GTK_WIDGET(self->canvas), GTK_WIDGET(self), &o, &q)) q = o;
  gtk_native_get_surface_transform(GTK_NATIVE(self), &sx, &sy);
  DgModelRow *model_row = dg_prompt_panel_get_model_row(self->prompt_panel);
  // The smallest size the window can take (title bar included): whether it fits a screen.
  int min_w, min_h;
  gtk_widget_measure(GTK_WIDGET(self), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  gtk_widget_measure(GTK_WIDGET(self), GTK_ORIENTATION_VERTICAL, min_w, &min_h, NULL, NULL, NULL);
  // The palette panel: its recently used classes and the first rows of its class list.
  GVariantBuilder recent, rows;
  g_variant_builder_init(&recent, G_VARIANT_TYPE("ai"));
  g_variant_builder_init(&rows, G_VARIANT_TYPE("ai"));
  int rec[DG_PALETTE_PANEL_RECENT], n_rec = dg_palette_panel_get_recent(self->palette_panel, rec);
  for (int i = 0; i < n_rec; i++)
    g_variant_builder_add(&recent, "i", rec[i]);
  for (int i = 0, c; i < 5 && (c = dg_palette_panel_row_class(self->palette_panel, i)) >= 0; i++)
    g_variant_builder_add(&rows, "i", c);
  GdkPaintable *hp = NULL;
  g_object_get(self->runner, "heatmap", &hp, NULL);
  char *heat = hp ? g_strdup_printf("%dx%d", gdk_paintable_get_intrinsic_width(hp), gdk_paintable_get_intrinsic_height(hp))
                  : g_strdup("");
  g_clear_object(&hp);
  // live mode's counts, and the preview's size and a hash of its pixels (NULL: "")
  dg_live_counts lc;
  dg_live_get_counts(self->live, &lc);
  int probe_ticks = 0;
  double probe_max = 0, probe_p99 = 0;
  dg_live_ui_probe(self->live, &probe_ticks, &probe_max, &probe_p99);
  GdkPaintable *pv = NULL;
  g_object_get(self->runner, "preview", &pv, NULL);
  char *preview = dg_paintable_describe(pv);
  g_clear_object(&pv);
  // the videos' thumbnails in the results strip, by their badges
  GVariantBuilder badges;
  g_variant_builder_init(&badges, G_VARIANT_TYPE("as"));
  GPtrArray *badge_texts = dg_results_panel_get_video_badges(self->results_panel);
  for (guint i = 0; i < badge_texts->len; i++)
    g_variant_builder_add(&badges, "s", (const char *)g_ptr_array_index(badge_texts, i));
  // the timeline, its stages as (frame, prompt), the video and the viewer
  const dg_timeline *t = dg_document_timeline(m);
  GVariantBuilder stages;
  g_variant_builder_init(&stages, G_VARIANT_TYPE("a(is)"));
  for (int i = 0; i < t->n_stages; i++)
    g_variant_builder_add(&stages, "(is)", t->stages[i].frame, t->stages[i].prompt);
  const dg_video_result *video = dg_document_video(m);
  char *video_size = video ? g_strdup_printf("%dx%d", video->frames.width, video->frames.height) : g_strdup("");
  char *viewer = dg_timeline_panel_describe_viewer(self->timeline_panel);
  // track: frame 0's left edge and the blocks' top and bottom on the surface, and a frame's width, as view
  GtkWidget *track = dg_timeline_panel_get_track(self->timeline_panel);
  double tx0, tcell, ttop, tbottom;
  dg_timeline_track_get_geometry(DG_TIMELINE_TRACK(track), &tx0, &tcell, &ttop, &tbottom);
  graphene_point_t ta = GRAPHENE_POINT_INIT((float)tx0, (float)ttop), tb = ta;
  if (!gtk_widget_compute_point(track, GTK_WIDGET(self), &ta, &tb)) tb = ta;
  // the style panel: its slots' sources, method, strength, preview and worker
  const dg_style *style = dg_document_style(m);
  dg_style_panel_state sps;
  dg_style_panel_get_state(self->style_panel, &sps);
  char *style_preview = dg_style_panel_describe_preview(self->style_panel);
  int sbins[3];
  double sdc[3];
  dg_style_panel_get_spectra(self->style_panel, sbins, sdc);
  GVariantBuilder result_styles; // each result's style ("" for a generated one)
  g_variant_builder_init(&result_styles, G_VARIANT_TYPE("as"));
  for (int i = 0; i < dg_document_result_count(m); i++) {
    const char *rs = dg_document_result(m, i)->style;
    g_variant_builder_add(&result_styles, "s", rs ? rs : "");
  }
  int attention_layers, attention_steps; // the attn spins' ranges
  dg_timeline_panel_get_attention_range(self->timeline_panel, &attention_layers, &attention_steps);
  GVariant *dict = g_variant_ref_sink(g_variant_new_parsed(
      "{'path': <%s>, 'modified': <%b>, 'undo_depth': <%i>, 'can_redo': <%b>, 'width': <%i>, 'height': <%i>,"
      " 'tool': <%s>, 'class': <%i>, 'brush_radius': <%d>, 'prompt': <%s>, 'negative': <%s>, 'seed': <%t>,"
      " 'seed_random': <%b>, 'steps': <%i>, 'guidance': <%d>, 'control_scale': <%d>, 'control_scale_shown': <%d>,"
      " 'results': <%i>, 'generating': <%b>,"
      " 'progress': <%s>, 'status': <%s>, 'unlabelled_pixels': <%x>, 'dialogs': <%v>, 'model': <%s>,"
      " 'view': <(%d, %d, %d)>, 'model_name': <%s>, 'model_kind': <%s>, 'saving': <%b>,"
      " 'palette': <%s>, 'palette_shown': <%s>, 'recent_classes': <%v>, 'class_rows': <%v>, 'marks': <%s>,"
      " 'heatmap': <%s>, 'attn_guidance': <%s>, 'attn_shown': <%s>, 'binding_to': <%s>,"
      " 'live': <%b>, 'live_frames_started': <%i>, 'live_frames_shown': <%i>, 'live_full_renders': <%i>,"
      " 'live_seed': <%t>, 'live_edits': <%i>, 'live_ui_ticks': <%i>, 'live_ui_max_gap_ms': <%d>,"
      " 'live_ui_p99_gap_ms': <%d>, 'generate_enabled': <%b>, 'preview': <%s>,"
      " 'timeline_frames': <%i>, 'timeline_fps': <%d>, 'timeline_stages': <%v>, 'timeline_vsp': <%i>,"
      " 'timeline_sigma': <(%d, %d)>, 'timeline_until': <%i>, 'keep_layout': <%b>, 'selected_stage': <%i>,"
      " 'playhead': <%i>, 'playing': <%b>, 'loop': <%b>, 'video_frames': <%i>, 'video_size': <%s>,"
      " 'video_attention': <%i>, 'strip_frames': <%i>, 'viewer': <%s>, 'exporting': <%b>, 'export_text': <%s>,"
      " 'last_export': <%s>, 'generating_video': <%b>, 'track': <(%d, %d, %d, %d)>,"
      " 'video_unet_loads': <%i>, 'timeline_attention': <(%i, %i)>, 'attention_live': <%b>, 'videos': <%i>,"
      " 'current_video': <%i>, 'video_badges': <%v>,"
      " 'style_content': <%s>, 'style_exemplar': <%s>, 'style_method': <%s>, 'style_strength': <%d>,"
      " 'style_preview': <%s>, 'style_previews_shown': <%i>, 'style_previews_stale': <%i>, 'style_pending': <%i>,"
      " 'style_applying': <%b>, 'style_preview_latency_ms': <%d>, 'style_preview_run_ms': <%d>,"
      " 'style_compare': <%b>, 'result_styles': <%v>, 'style_spectrum_bins': <(%i, %i, %i)>,"
      " 'style_spectrum_dc': <(%d, %d, %d)>, 'window_min': <(%i, %i)>, 'results_hint': <%b>,"
      " 'attention_range': <(%i, %i)>, 'prompt_tokens': <%s>}",
      self->path ? self->path : "", dg_window_get_modified(self), dg_document_undo_depth(m), dg_document_can_redo(m),
      dg_document_width(m), dg_document_height(m), dg_tool_name(dg_canvas_get_tool(self->canvas)),
      dg_canvas_get_class(self->canvas), dg_canvas_get_brush_radius(self->canvas), dg_document_prompt(m),
      dg_document_negative(m), (guint64)dg_document_seed(m), dg_document_seed_random(m), dg_document_steps(m),
      dg_document_guidance(m), dg_document_control_scale(m),
      dg_prompt_panel_get_control_scale_shown(self->prompt_panel), dg_document_result_count(m),
      dg_job_runner_get_running(self->runner),
      dg_prompt_panel_get_progress_text(self->prompt_panel), gtk_label_get_text(GTK_LABEL(self->status)),
      (gint64)areas[DG_UNLABELLED], g_variant_builder_end(&dialogs), dg_document_model(m), q.x + sx, q.y + sy, zoom,
      dg_model_row_get_name(model_row), dg_model_row_get_kind(model_row), self->saves_in_flight > 0,
      dg_document_palette(m), dg_palette_title(self->palette), g_variant_builder_end(&recent),
      g_variant_builder_end(&rows), dg_document_marks(m), heat, dg_document_attn_guidance(m),
      dg_prompt_panel_get_attn_shown(self->prompt_panel), dg_prompt_panel_get_binding(self->prompt_panel),
      dg_document_live(m), lc.frames_started, lc.frames_shown, lc.full_renders, (guint64)dg_live_seed(self->live),
      lc.edits, probe_ticks, probe_max, probe_p99,
      g_action_group_get_action_enabled(G_ACTION_GROUP(gtk_window_get_application(GTK_WINDOW(self))), "generate"),
      preview, t->frames, t->fps, g_variant_builder_end(&stages), (gint32)t->vsp, t->sigma_fine, t->sigma_next,
      t->until, t->keep_layout, dg_timeline_panel_get_selected(self->timeline_panel),
      dg_timeline_panel_get_playhead(self->timeline_panel), dg_timeline_panel_get_playing(self->timeline_panel),
      dg_timeline_panel_get_loop(self->timeline_panel), video ? video->frames.frames : 0, video_size,
      dg_timeline_panel_get_attention_frames(self->timeline_panel),
      dg_timeline_panel_get_strip_frames(self->timeline_panel), viewer, dg_video_exporter_get_running(self->exporter),
      dg_video_exporter_get_text(self->exporter), self->last_export ? self->last_export : "",
      dg_job_runner_get_video(self->runner), tb.x + sx, tb.y + sy, tcell, tb.y + sy + (tbottom - ttop),
      dg_job_runner_video_loads(), t->attention_layer, t->attention_step,
      dg_timeline_panel_get_attention_live(self->timeline_panel), dg_document_video_count(m),
      dg_document_current_video(m), g_variant_builder_end(&badges),
      style->slot[0] ? dg_style_image_source(style->slot[0]) : "",
      style->slot[1] ? dg_style_image_source(style->slot[1]) : "", dg_stylize_method_name(style->method),
      style->strength, style_preview, sps.previews_shown, sps.previews_stale, sps.pending, sps.applying,
      sps.preview_latency_ms, sps.preview_run_ms, dg_style_panel_get_compare(self->style_panel),
      g_variant_builder_end(&result_styles), sbins[0], sbins[1], sbins[2], sdc[0], sdc[1], sdc[2], min_w, min_h,
      dg_results_panel_get_hint_shown(self->results_panel), attention_layers, attention_steps,
      dg_prompt_panel_get_token_count(self->prompt_panel)));
  g_free(preview);
  g_free(style_preview);
  g_free(viewer), g_free(video_size);
  g_free(heat);
  JsonNode *node = json_gvariant_serialize(dict);
  char *text = json_to_string(node, TRUE);
  json_node_unref(node);
  g_variant_unref(dict);
  return text;
}

// ---- construction --------------------------------------------------------------------------------

// The palette panel shows the class the canvas paints with.
static void class_changed(DgCanvas *canvas, GParamSpec *pspec, DgPalettePanel *panel) {
  (void)pspec;
  dg_palette_panel_show_class(panel, dg_canvas_get_class(canvas));
}

static gboolean radius_to_label(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  g_value_take_string(to, g_strdup_printf("Size %.0f", g_value_get_double(from) * 2));
  return TRUE;
}

DgWindow *dg_window_new(GtkApplication *app, GError **error) {
  dg_status st;
  dg_palette *palette = dg_palette_load_default(&st);
  if (!palette) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, dg_last_error());
    return NULL;
  }
  DgWindow *self = g_object_new(DG_TYPE_WINDOW, "application", app, NULL);
  self->palette = palette;
  dg_canvas_set_palette(self->canvas, palette);
  dg_palette_panel_set_palette(self->palette_panel, palette);
  GObject *canvas = G_OBJECT(self->canvas);
  const GBindingFlags sync = G_BINDING_SYNC_CREATE, both = G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE;
  gpointer views[] = {self->palette_panel, self->canvas,         self->prompt_panel,
                      self->results_panel, self->timeline_panel, self->style_panel};
  for (size_t i = 0; i < G_N_ELEMENTS(views); i++)
    g_object_bind_property(self, "document", views[i], "document", sync);
  g_object_bind_property_full(canvas, "brush-radius", self->brush_label, "label", sync, radius_to_label, NULL, NULL,
                              NULL);
  g_object_bind_property(canvas, "overlay-opacity", self->opacity, "value", both);
  g_signal_connect_swapped(self->palette_panel, "class-picked", G_CALLBACK(dg_canvas_set_class), canvas);
  g_signal_connect(self->palette_panel, "palette-chosen", G_CALLBACK(palette_chosen), self);
  g_signal_connect(canvas, "notify::class", G_CALLBACK(class_changed), self->palette_panel);
  class_changed(self->canvas, NULL, self->palette_panel);
  dg_prompt_panel_show_runner(self->prompt_panel, self->runner);
  dg_timeline_panel_show_runner(self->timeline_panel, self->runner);
  dg_timeline_panel_show_exporter(self->timeline_panel, self->exporter);
  g_signal_connect(self->exporter, "finished", G_CALLBACK(export_finished), self);
  g_signal_connect(self->runner, "finished", G_CALLBACK(job_finished), self);
  self->live = dg_live_new(self->runner, GTK_WIDGET(self->canvas), live_status, self);

  DgDocument *doc = dg_document_object_new(dg_document_new(DG_DOC_DEFAULT_HEIGHT, DG_DOC_DEFAULT_WIDTH));
  dg_window_set_document(self, doc, NULL);
  g_object_unref(doc);
  dg_canvas_set_class(self->canvas, 0);
  dg_window_set_status(self, "Ready — pick a class on the left and paint the layout");
  return self;
}

static void dg_window_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  if (id == PROP_DOCUMENT)
    g_value_set_object(value, DG_WINDOW(object)->document);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_window_dispose(GObject *object) {
  DgWindow *self = DG_WINDOW(object);
  dg_live_free(self->live);
  self->live = NULL;
  if (self->runner) dg_job_runner_stop(self->runner);
  if (self->autosave_source) g_source_remove(self->autosave_source);
  self->autosave_source = 0;
  if (self->document) g_signal_handlers_disconnect_by_data(self->document, self);
  gtk_widget_dispose_template(GTK_WIDGET(self), DG_TYPE_WINDOW);
  g_clear_object(&self->document);
  g_clear_object(&self->runner);
  if (self->exporter) {
    dg_video_exporter_cancel(self->exporter);
    dg_video_exporter_wait(self->exporter);
    g_signal_handlers_disconnect_by_data(self->exporter, self);
  }
  g_clear_object(&self->exporter);
  G_OBJECT_CLASS(dg_window_parent_class)->dispose(object);
}

static void dg_window_finalize(GObject *object) {
  DgWindow *self = DG_WINDOW(object);
  dg_palette_free(self->palette);
  g_ptr_array_unref(self->dialog_log);
  g_free(self->path);
  g_free(self->last_export);
  G_OBJECT_CLASS(dg_window_parent_class)->finalize(object);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgWindow, palette_panel), DG_TEMPLATE_CHILD(DgWindow, canvas),
    DG_TEMPLATE_CHILD(DgWindow, prompt_panel),  DG_TEMPLATE_CHILD(DgWindow, results_panel),
    DG_TEMPLATE_CHILD(DgWindow, brush_label),   DG_TEMPLATE_CHILD(DgWindow, status),
    DG_TEMPLATE_CHILD(DgWindow, opacity),       DG_TEMPLATE_CHILD(DgWindow, timeline_panel),
    DG_TEMPLATE_CHILD(DgWindow, style_panel),   DG_TEMPLATE_CHILD(DgWindow, style_expander)};

static void dg_window_class_init(DgWindowClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = dg_window_get_property;
  oc->dispose = dg_window_dispose;
  oc->finalize = dg_window_finalize;
  props[PROP_DOCUMENT] = g_param_spec_object("document", NULL, NULL, DG_TYPE_DOCUMENT,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(oc, N_PROPS, props);
  g_type_ensure(DG_TYPE_CANVAS);
  g_type_ensure(DG_TYPE_PALETTE_PANEL);
  g_type_ensure(DG_TYPE_PROMPT_PANEL);
  g_type_ensure(DG_TYPE_RESULTS_PANEL);
  g_type_ensure(DG_TYPE_TIMELINE_PANEL);
  g_type_ensure(DG_TYPE_STYLE_PANEL);
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_window.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, show_status);
  gtk_widget_class_bind_template_callback(wc, close_request);
}

static void dg_window_init(DgWindow *self) {
  self->dialog_log = g_ptr_array_new_with_free_func(g_free);
  self->runner = dg_job_runner_new();
  self->exporter = dg_video_exporter_new();
  gtk_widget_init_template(GTK_WIDGET(self));
}
