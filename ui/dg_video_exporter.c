#include "dg_video_exporter.h"

#include <stdatomic.h>

#include "dg_video_export.h"

// What the worker thread owns while it runs, freed by the main thread when it ended.
typedef struct export_work {
  dg_video_result video;
  char *path, *json;
  dg_video_format format;
  atomic_bool cancel;
  atomic_int done, total;
  dg_status status;
  char *error;
  dg_video_export_info info;
} export_work;

struct _DgVideoExporter {
  GObject parent;
  export_work *work; // NULL: idle
  GThread *thread;
  guint poll_id;
  double fraction;
  char *text;
};

G_DEFINE_FINAL_TYPE(DgVideoExporter, dg_video_exporter, G_TYPE_OBJECT)

enum { PROP_0, PROP_RUNNING, PROP_FRACTION, PROP_TEXT, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void set_progress(DgVideoExporter *self, double fraction, const char *text) {
  if (fraction != self->fraction) {
    self->fraction = fraction;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FRACTION]);
  }
  if (g_strcmp0(text, self->text)) {
    g_free(self->text);
    self->text = g_strdup(text);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TEXT]);
  }
}

static void on_frame(void *user, int done, int total) {
  export_work *w = user;
  atomic_store(&w->total, total);
  atomic_store(&w->done, done);
}

static gpointer run(gpointer data) {
  export_work *w = data;
  dg_video_export_opts o = DG_VIDEO_EXPORT_DEFAULTS;
  o.format = w->format;
  o.fps = w->video.timeline.fps; // fractional rates as they are (dg_video_fps_rational)
  o.job_json = w->json;
  o.progress = on_frame;
  o.user = w;
  o.cancel = &w->cancel;
  dg_clear_error();
  w->status = dg_video_export(w->path, &w->video.frames, &o, &w->info);
  if (w->status != DG_OK) w->error = g_strdup(dg_last_error());
  return NULL;
}

static void finish(DgVideoExporter *self) {
  export_work *w = self->work;
  g_thread_join(self->thread);
  self->thread = NULL;
  self->work = NULL;
  DgVideoExportOutcome outcome;
  char *message;
  if (w->status == DG_OK) {
    outcome = DG_VIDEO_EXPORT_DONE;
    message = g_strdup_printf("Exported %d frames of %dx%d to %s (%s)", w->video.frames.frames, w->info.width,
                              w->info.height, w->path, dg_video_format_names[w->format]);
    set_progress(self, 1, "Exported");
  } else if (w->status == DG_ERR_CANCELLED) {
    outcome = DG_VIDEO_EXPORT_CANCELLED;
    message = g_strdup_printf("Export to %s cancelled; nothing was written", w->path);
    set_progress(self, 0, "Export cancelled");
  } else {
    outcome = DG_VIDEO_EXPORT_FAILED;
    message = g_strdup(w->error ? w->error : dg_status_name(w->status));
    set_progress(self, 0, "Export failed");
  }
  dg_video_result_clear(&w->video);
  g_free(w->path), g_free(w->json), g_free(w->error);
  g_free(w);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RUNNING]);
  g_signal_emit(self, signals[SIGNAL_FINISHED], 0, outcome, message);
  g_free(message);
}

// Progress on the UI thread, every 50 ms while the worker runs.
static gboolean poll(gpointer data) {
  DgVideoExporter *self = data;
  export_work *w = self->work;
  int done = atomic_load(&w->done), total = atomic_load(&w->total);
  if (atomic_load(&w->cancel)) return G_SOURCE_CONTINUE; // "Cancelling…" stays until it ended
  char *text = g_strdup_printf("Exporting frame %d / %d", done, total);
  set_progress(self, total ? (double)done / total : 0, text);
  g_free(text);
  return G_SOURCE_CONTINUE;
}

// The worker signals its end through the main context, so that finish() runs on the UI thread.
static gboolean ended(gpointer data) {
  DgVideoExporter *self = data;
  if (self->poll_id) g_source_remove(self->poll_id);
  self->poll_id = 0;
  finish(self);
  g_object_unref(self);
  return G_SOURCE_REMOVE;
}

static gpointer run_and_report(gpointer data) {
  DgVideoExporter *self = data;
  run(self->work);
  g_idle_add(ended, self);
  return NULL;
}

gboolean dg_video_exporter_start(DgVideoExporter *self, const dg_video_result *video, const char *path,
                                 GError **error) {
  if (self->work) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s: an export is still running", path);
    return FALSE;
  }
  dg_video_format format;
  if (!video || !video->frames.data) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: there is no video to export yet: generate one",
                path);
    return FALSE;
  }
  if (dg_video_format_from_path(path, &format) != DG_OK || !dg_video_format_available(format)) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, dg_last_error());
    return FALSE;
  }
  export_work *w = g_new0(export_work, 1);
  dg_video_result_init(&w->video);
  if (dg_video_result_copy(&w->video, video) != DG_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s: %s", path, dg_last_error());
    g_free(w);
    return FALSE;
  }
  w->path = g_strdup(path);
  w->json = dg_video_result_job_json(video);
  w->format = format;
  atomic_init(&w->cancel, false);
  atomic_init(&w->done, 0);
  atomic_init(&w->total, video->frames.frames);
  self->work = w;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RUNNING]);
  set_progress(self, 0, "Exporting…");
  self->poll_id = g_timeout_add(50, poll, self);
  self->thread = g_thread_new("dg-video-export", run_and_report, g_object_ref(self));
  return TRUE;
}

void dg_video_exporter_cancel(DgVideoExporter *self) {
  if (!self->work) return;
  atomic_store(&self->work->cancel, true);
  set_progress(self, self->fraction, "Cancelling the export…");
}

void dg_video_exporter_wait(DgVideoExporter *self) {
  while (self->work)
    g_main_context_iteration(NULL, TRUE); // until ended() ran
}

gboolean dg_video_exporter_get_running(DgVideoExporter *self) { return self->work != NULL; }
const char *dg_video_exporter_get_text(DgVideoExporter *self) { return self->text; }
double dg_video_exporter_get_fraction(DgVideoExporter *self) { return self->fraction; }

DgVideoExporter *dg_video_exporter_new(void) { return g_object_new(DG_TYPE_VIDEO_EXPORTER, NULL); }

static void dg_video_exporter_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgVideoExporter *self = DG_VIDEO_EXPORTER(object);
  switch (id) {
  case PROP_RUNNING: g_value_set_boolean(value, self->work != NULL); break;
  case PROP_FRACTION: g_value_set_double(value, self->fraction); break;
  case PROP_TEXT: g_value_set_string(value, self->text); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_video_exporter_finalize(GObject *object) {
  DgVideoExporter *self = DG_VIDEO_EXPORTER(object);
  g_free(self->text); // a running export holds a reference: none runs here
  G_OBJECT_CLASS(dg_video_exporter_parent_class)->finalize(object);
}

static void dg_video_exporter_class_init(DgVideoExporterClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = dg_video_exporter_get_property;
  oc->finalize = dg_video_exporter_finalize;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_RUNNING] = g_param_spec_boolean("running", NULL, NULL, FALSE, ro);
  props[PROP_FRACTION] = g_param_spec_double("fraction", NULL, NULL, 0, 1, 0, ro);
  props[PROP_TEXT] = g_param_spec_string("text", NULL, NULL, "", ro);
  g_object_class_install_properties(oc, N_PROPS, props);
  // (DgVideoExportOutcome outcome, const char *message)
  signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void dg_video_exporter_init(DgVideoExporter *self) { self->text = g_strdup(""); }
