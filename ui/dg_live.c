#include "dg_live.h"

#include "dg_eval_metrics.h"
#include "dg_settings.h"

#define PROBE_MS 16

struct dg_live {
  DgJobRunner *runner;
  GtkWidget *clock;
  dg_live_session *session;
  void (*status)(void *user, const char *text);
  void *user;
  DgDocument *doc;
  guint probe;      // the UI probe's timeout source while live mode is on
  int64_t last_us;  // its last firing
  GArray *gaps_ms;  // double, gaps between firings
};

static gboolean start(void *user, DgDocument *doc, dg_live_job_kind kind, uint64_t seed, GError **error) {
  dg_live *l = user;
  return kind == DG_LIVE_JOB_FULL
             ? dg_job_runner_start_seeded(l->runner, doc, l->clock, seed, error)
             : dg_job_runner_start_frame(l->runner, doc, l->clock, seed, &DG_SETTINGS_LIVE_SAMPLING, error);
}
static gboolean busy(void *user) { return dg_job_runner_get_running(((dg_live *)user)->runner); }
static void cancel(void *user) { dg_job_runner_cancel(((dg_live *)user)->runner); }
static void failure(void *user, const char *message) {
  dg_live *l = user;
  char *text = message ? g_strdup_printf("Live mode: %s (it tries again after the next edit)", message) : NULL;
  l->status(l->user, text ? text : "Live mode: rendering again");
  g_free(text);
}

static gboolean probe_fired(gpointer data) {
  dg_live *l = data;
  int64_t now = g_get_monotonic_time();
  double gap = (double)(now - l->last_us) / 1000.0;
  g_array_append_val(l->gaps_ms, gap);
  l->last_us = now;
  return G_SOURCE_CONTINUE;
}

static void live_changed(GObject *obj, GParamSpec *pspec, gpointer data) {
  (void)pspec;
  dg_live *l = data;
  bool on = obj && dg_document_live(dg_document_object_get_model(DG_DOCUMENT(obj)));
  if (on && !l->probe) {
    g_array_set_size(l->gaps_ms, 0);
    l->last_us = g_get_monotonic_time();
    l->probe = g_timeout_add(PROBE_MS, probe_fired, l);
  } else if (!on && l->probe) {
    g_source_remove(l->probe);
    l->probe = 0;
  }
}

dg_live *dg_live_new(DgJobRunner *runner, GtkWidget *clock, void (*status)(void *user, const char *text),
                     void *user) {
  static const dg_live_driver driver = {.start = start, .busy = busy, .cancel = cancel, .failure = failure};
  dg_live *l = g_new0(dg_live, 1);
  l->runner = runner, l->clock = clock, l->status = status, l->user = user;
  l->gaps_ms = g_array_new(FALSE, FALSE, sizeof(double));
  l->session = dg_live_session_new(&driver, l);
  return l;
}

void dg_live_set_document(dg_live *l, DgDocument *doc) {
  if (l->doc) g_signal_handlers_disconnect_by_data(l->doc, l);
  g_set_object(&l->doc, doc);
  dg_live_session_set_document(l->session, doc);
  if (doc) g_signal_connect(doc, "notify::live", G_CALLBACK(live_changed), l);
  live_changed(G_OBJECT(doc), NULL, l);
}

void dg_live_free(dg_live *l) {
  if (!l) return;
  dg_live_set_document(l, NULL);
  dg_live_session_free(l->session);
  g_array_free(l->gaps_ms, TRUE);
  g_free(l);
}

gboolean dg_live_job_ended(dg_live *l, DgJobOutcome outcome, const char *message) {
  dg_live_end end = outcome == DG_JOB_OUTCOME_DONE || outcome == DG_JOB_OUTCOME_FRAME ? DG_LIVE_END_DONE
                    : outcome == DG_JOB_OUTCOME_FAILED                                 ? DG_LIVE_END_FAILED
                                                                                        : DG_LIVE_END_CANCELLED;
  dg_live_job_kind kind = DG_LIVE_JOB_FRAME;
  bool frame = dg_live_session_running(l->session, &kind) && kind == DG_LIVE_JOB_FRAME;
  gboolean own = dg_live_session_job_ended(l->session, end, message);
  return own && (frame || outcome != DG_JOB_OUTCOME_DONE); // a full render that landed is announced
}

void dg_live_get_counts(const dg_live *l, dg_live_counts *out) { dg_live_session_counts(l->session, out); }

uint64_t dg_live_seed(const dg_live *l) { return dg_live_session_seed(l->session); }

void dg_live_ui_probe(const dg_live *l, int *ticks, double *max_gap_ms, double *p99_gap_ms) {
  guint n = l->gaps_ms->len;
  double *g = g_memdup2(l->gaps_ms->data, n * sizeof(double));
  *ticks = (int)n;
  *p99_gap_ms = dg_eval_quantile(g, (int)n, 0.99);
  *max_gap_ms = n ? g[n - 1] : 0;
  g_free(g);
}
