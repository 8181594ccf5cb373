#include "dg_live_session.h"

struct dg_live_session {
  dg_live_driver d;
  void *user;
  DgDocument *doc;
  bool on;
  uint64_t seed;                      // the session's seed for a random-seed document
  bool pending;                       // an edit since the last job started
  bool failing;                       // the last live job failed (reported once per streak)
  int running;                        // -1: no session job runs, else its dg_live_job_kind
  guint debounce, settle, flush;      // timeout and idle sources
  gint64 last_edit_us;                // when the last edit came
  bool was_editing;                   // the last edit came inside an open document edit (a stroke in progress)
  dg_live_counts n;
};

static void stop_timer(guint *id) {
  if (*id) g_source_remove(*id);
  *id = 0;
}

static void failed(dg_live_session *s, const char *message) {
  if (!s->failing && s->d.failure) s->d.failure(s->user, message ? message : "live mode: the job failed");
  s->failing = true;
}

static void start_job(dg_live_session *s, dg_live_job_kind kind) {
  if (!s->doc || s->d.busy(s->user)) return; // started when the running one ends
  GError *err = NULL;
  if (!s->d.start(s->user, s->doc, kind, s->seed, &err)) { // no model, a size the model refuses: the preview
    failed(s, err ? err->message : NULL);                  // stays; the next edit tries again
    g_clear_error(&err);
    return;
  }
  s->pending = false;
  s->running = (int)kind;
  s->n.job_edits = s->n.edits;
  if (kind == DG_LIVE_JOB_FRAME) s->n.frames_started++;
}

static gboolean debounce_fired(gpointer data) {
  dg_live_session *s = data;
  s->debounce = 0;
  if (s->pending) start_job(s, DG_LIVE_JOB_FRAME);
  return G_SOURCE_REMOVE;
}

static gboolean settle_fired(gpointer data) {
  dg_live_session *s = data;
  s->settle = 0;
  if (!s->pending) start_job(s, DG_LIVE_JOB_FULL);
  return G_SOURCE_REMOVE;
}

// An edit: the running live job is stale. The first edit after a pause starts its frame at once (as soon
// as the stale job stopped); edits in a burst (typing) wait for the burst's pause. The changes of one
// action (a stroke's segments, a field and its undo step) reach us as several signals in one main-loop
// dispatch: they are one edit, handled when the dispatch is over. Changes while a document edit is open (a
// stroke being drawn) are a burst; the edit's end (its undo step) is the end of the stroke and starts the
// frame at once.
static gboolean flush_edit(gpointer data) {
  dg_live_session *s = data;
  s->flush = 0;
  if (!s->on) return G_SOURCE_REMOVE;
  gint64 now = g_get_monotonic_time();
  bool editing = dg_document_editing(dg_document_object_get_model(s->doc));
  bool stroke_ended = s->was_editing && !editing;
  bool burst = editing || (!stroke_ended && (s->debounce || now - s->last_edit_us < DG_LIVE_DEBOUNCE_MS * (gint64)1000));
  s->was_editing = editing;
  s->last_edit_us = now;
  s->pending = true;
  s->n.edits++;
  stop_timer(&s->settle);
  if (s->running >= 0) s->d.cancel(s->user);
  stop_timer(&s->debounce);
  if (burst) s->debounce = g_timeout_add(DG_LIVE_DEBOUNCE_MS, debounce_fired, s);
  else start_job(s, DG_LIVE_JOB_FRAME); // or when the stale job ends (dg_live_session_job_ended)
  return G_SOURCE_REMOVE;
}

static void edited(dg_live_session *s) {
  if (s->on && !s->flush) s->flush = g_idle_add_full(G_PRIORITY_HIGH, flush_edit, s, NULL);
}

gboolean dg_live_session_job_ended(dg_live_session *s, dg_live_end end, const char *message) {
  int was = s->running;
  s->running = -1;
  if (!s->on) return was >= 0;
  if (was >= 0 && end == DG_LIVE_END_DONE) {
    if (was == DG_LIVE_JOB_FRAME) s->n.frames_shown++;
    else s->n.full_renders++;
    if (s->failing && s->d.failure) s->d.failure(s->user, NULL);
    s->failing = false;
  } else if (was >= 0 && end == DG_LIVE_END_FAILED) {
    failed(s, message);
  }
  if (s->pending) {
    if (!s->debounce) start_job(s, DG_LIVE_JOB_FRAME); // the edits paused while the stale job stopped
  } else if (was == DG_LIVE_JOB_FRAME && end == DG_LIVE_END_DONE) {
    stop_timer(&s->settle);
    s->settle = g_timeout_add(DG_LIVE_SETTLE_MS, settle_fired, s);
  }
  return was >= 0;
}

static void set_on(dg_live_session *s, bool on) {
  if (on == s->on) return;
  s->on = on;
  stop_timer(&s->debounce);
  stop_timer(&s->settle);
  stop_timer(&s->flush);
  if (on) {
    dg_document *m = dg_document_object_get_model(s->doc);
    s->seed = dg_document_seed_random(m) ? ((uint64_t)g_random_int() << 32 | g_random_int()) >> 11
                                         : dg_document_seed(m);
    s->n = (dg_live_counts){0};
    s->failing = false;
    s->last_edit_us = 0;
    s->was_editing = false;
    edited(s); // the first frame shows the document as it is
  } else {
    if (s->running >= 0) s->d.cancel(s->user);
    s->pending = false;
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
// Only the end of a stroke matters here (other undo steps come with their own change signals; the
// timeline's, for one, do not affect the image).
static void history_changed(DgDocument *doc, gpointer data) {
  (void)doc;
  dg_live_session *s = data;
  if (s->was_editing) edited(s);
}
static void live_changed(GObject *obj, GParamSpec *pspec, gpointer data) {
  (void)pspec;
  set_on(data, dg_document_live(dg_document_object_get_model(DG_DOCUMENT(obj))));
}

dg_live_session *dg_live_session_new(const dg_live_driver *driver, void *user) {
  dg_live_session *s = g_new0(dg_live_session, 1);
  s->d = *driver, s->user = user, s->running = -1;
  return s;
}

void dg_live_session_set_document(dg_live_session *s, DgDocument *doc) {
  if (s->doc) g_signal_handlers_disconnect_by_data(s->doc, s);
  set_on(s, false);
  s->running = -1; // the old document's job is abandoned by whoever replaces it
  g_set_object(&s->doc, doc);
  if (!doc) return;
  static const char *const fields[] = {"prompt", "negative-prompt", "marks",        "attn-guidance",
                                       "seed",   "seed-random",     "steps",        "guidance",
                                       "model",  "palette",         "control-scale"};
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    char *signal = g_strconcat("notify::", fields[i], NULL);
    g_signal_connect(doc, signal, G_CALLBACK(doc_edited), s);
    g_free(signal);
  }
  g_signal_connect(doc, "layout-changed", G_CALLBACK(layout_edited), s);
  g_signal_connect(doc, "history-changed", G_CALLBACK(history_changed), s);
  g_signal_connect(doc, "notify::live", G_CALLBACK(live_changed), s);
  live_changed(G_OBJECT(doc), NULL, s);
}

void dg_live_session_free(dg_live_session *s) {
  if (!s) return;
  dg_live_session_set_document(s, NULL);
  g_free(s);
}

gboolean dg_live_session_running(const dg_live_session *s, dg_live_job_kind *kind) {
  if (s->running >= 0 && kind) *kind = (dg_live_job_kind)s->running;
  return s->running >= 0;
}

void dg_live_session_counts(const dg_live_session *s, dg_live_counts *out) { *out = s->n; }

uint64_t dg_live_session_seed(const dg_live_session *s) { return s->seed; }
