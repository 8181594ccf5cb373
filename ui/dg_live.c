#include "dg_live.h"

#include "dg_settings.h"

struct dg_live {
  DgJobRunner *runner;
  GtkWidget *clock;
  DgDocument *doc;
  bool on;
  uint64_t seed;        // the session's seed for a random-seed document
  bool pending;         // an edit since the last job started
  enum { NONE, FRAME, FULL } running; // the job live mode started, while it runs
  guint debounce, settle; // timeout sources
  int frames_started, frames_shown, full_renders;
};

static void stop_timer(guint *id) {
  if (*id) g_source_remove(*id);
  *id = 0;
}

static void start_job(dg_live *l, bool full) {
  if (!l->doc || dg_job_runner_get_running(l->runner)) return; // started when the running one finishes
  GError *err = NULL;
  gboolean ok = full ? dg_job_runner_start_seeded(l->runner, l->doc, l->clock, l->seed, &err)
                     : dg_job_runner_start_frame(l->runner, l->doc, l->clock, l->seed, DG_SETTINGS_LIVE_STEPS, &err);
  if (!ok) { // no model, a size the model refuses: the preview stays; the next edit tries again
    g_clear_error(&err);
    return;
  }
  l->pending = false;
  l->running = full ? FULL : FRAME;
  if (!full) l->frames_started++;
}

static gboolean debounce_fired(gpointer data) {
  dg_live *l = data;
  l->debounce = 0;
  if (l->pending) start_job(l, false);
  return G_SOURCE_REMOVE;
}

static gboolean settle_fired(gpointer data) {
  dg_live *l = data;
  l->settle = 0;
  if (!l->pending) start_job(l, true);
  return G_SOURCE_REMOVE;
}

// An edit: the running live job is stale; a frame follows the edits' pause.
static void edited(dg_live *l) {
  if (!l->on) return;
  l->pending = true;
  stop_timer(&l->settle);
  if (l->running != NONE) dg_job_runner_cancel(l->runner);
  stop_timer(&l->debounce);
  l->debounce = g_timeout_add(DG_LIVE_DEBOUNCE_MS, debounce_fired, l);
}

static void finished(DgJobRunner *runner, int outcome, const char *message, gpointer data) {
  (void)runner, (void)message;
  dg_live *l = data;
  int was = l->running;
  l->running = NONE;
  if (!l->on) return;
  if (outcome == DG_JOB_OUTCOME_FRAME) l->frames_shown++;
  if (was == FULL && outcome == DG_JOB_OUTCOME_DONE) l->full_renders++;
  if (l->pending) {
    if (!l->debounce) start_job(l, false); // the edits paused while the stale job stopped
  } else if (outcome == DG_JOB_OUTCOME_FRAME) {
    stop_timer(&l->settle);
    l->settle = g_timeout_add(DG_LIVE_SETTLE_MS, settle_fired, l);
  }
}

static void set_on(dg_live *l, bool on) {
  if (on == l->on) return;
  l->on = on;
  stop_timer(&l->debounce);
  stop_timer(&l->settle);
  if (on) {
    dg_document *m = dg_document_object_get_model(l->doc);
    l->seed = dg_document_seed_random(m) ? ((uint64_t)g_random_int() << 32 | g_random_int()) >> 11
                                         : dg_document_seed(m);
    l->frames_started = l->frames_shown = l->full_renders = 0;
    edited(l); // the first frame shows the document as it is
  } else {
    if (l->running != NONE) dg_job_runner_cancel(l->runner);
    l->pending = false;
  }
}

static void doc_edited(GObject *obj, GParamSpec *pspec, gpointer data) {
  (void)obj, (void)pspec;
  edited(data);
}
static void layout_edited(DgDocument *doc, int x, int y, int w, int h, gpointer data) {
  (void)doc, (void)x, (void)y, (void)w, (void)h;
  edited(data);
}
static void live_changed(GObject *obj, GParamSpec *pspec, gpointer data) {
  (void)pspec;
  set_on(data, dg_document_live(dg_document_object_get_model(DG_DOCUMENT(obj))));
}

dg_live *dg_live_new(DgJobRunner *runner, GtkWidget *clock) {
  dg_live *l = g_new0(dg_live, 1);
  l->runner = runner, l->clock = clock;
  g_signal_connect(runner, "finished", G_CALLBACK(finished), l);
  return l;
}

void dg_live_set_document(dg_live *l, DgDocument *doc) {
  if (l->doc) g_signal_handlers_disconnect_by_data(l->doc, l);
  set_on(l, false);
  l->running = NONE; // the window abandons the old document's job
  g_set_object(&l->doc, doc);
  if (!doc) return;
  static const char *const fields[] = {"prompt", "negative-prompt", "marks", "attn-guidance", "seed", "seed-random",
                                       "steps", "guidance", "model", "palette"};
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    char *signal = g_strconcat("notify::", fields[i], NULL);
    g_signal_connect(doc, signal, G_CALLBACK(doc_edited), l);
    g_free(signal);
  }
  g_signal_connect(doc, "layout-changed", G_CALLBACK(layout_edited), l);
  g_signal_connect(doc, "notify::live", G_CALLBACK(live_changed), l);
  live_changed(G_OBJECT(doc), NULL, l);
}

void dg_live_free(dg_live *l) {
  if (!l) return;
  dg_live_set_document(l, NULL);
  g_signal_handlers_disconnect_by_data(l->runner, l);
  g_free(l);
}

void dg_live_counts(const dg_live *l, int *frames_started, int *frames_shown, int *full_renders) {
  *frames_started = l->frames_started, *frames_shown = l->frames_shown, *full_renders = l->full_renders;
}

uint64_t dg_live_seed(const dg_live *l) { return l->seed; }
