// Live mode in the editor: app/dg_live_session's policy (debounce, cancelling stale jobs, the settle timer,
// the full render; see there) driving the window's DgJobRunner, a failing live job said once per streak in
// the status line, and a probe of the UI thread while live mode is on: a 16 ms timer whose gaps between
// firings show any stall of the main loop (the engine runs on the job's worker thread, never here).
#pragma once
#include <stdint.h>

#include "dg_job_runner.h"
#include "dg_live_session.h"

typedef struct dg_live dg_live;

// Drives `runner` for the document shown (follow it with dg_live_set_document), polling on clock;
// status(user, text) shows a failure (text NULL: the failure streak ended).
dg_live *dg_live_new(DgJobRunner *runner, GtkWidget *clock, void (*status)(void *user, const char *text),
                     void *user);
void dg_live_free(dg_live *l);
void dg_live_set_document(dg_live *l, DgDocument *doc);
// Every job of the runner ended (its "finished" outcome): TRUE when it was live mode's, which then shows
// nothing more (no dialog, no result message).
gboolean dg_live_job_ended(dg_live *l, DgJobOutcome outcome, const char *message);
void dg_live_get_counts(const dg_live *l, dg_live_counts *out);
uint64_t dg_live_seed(const dg_live *l);
// The UI probe since live mode last went on: timer firings, the largest gap between two (ms) and the 99th
// percentile gap.
void dg_live_ui_probe(const dg_live *l, int *ticks, double *max_gap_ms, double *p99_gap_ms);
