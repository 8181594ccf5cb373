// Live mode's policy (issue 22), shared by the editor (ui/dg_live) and `dirigent-cli live --replay`: while
// the document's `live` field is on, every edit that affects the result (the layout, prompt, negative
// prompt, marks, attention guidance, seed, steps, guidance, layout strength, model, palette) schedules a live
// frame: at once for an edit after a pause of DG_LIVE_DEBOUNCE_MS, else DG_LIVE_DEBOUNCE_MS after the last
// edit of the burst (typing). A live job still running is cancelled at once (it stops at its next step; its result
// never reaches the document; the next frame starts when it stopped); the frame runs with the session's seed (the
// document's, or for a random-seed document one seed drawn when live mode went on). DG_LIVE_SETTLE_MS
// after the last frame with no edit pending, the full-quality render (the document's steps and guidance,
// the same seed) runs and lands in the results. A job the session did not start (Generate) is never
// cancelled; frames wait for it. A failing live job is reported once per streak of failures.
//
// The session knows no engine: a driver starts, cancels and reports jobs (the editor's DgJobRunner, the
// CLI's dg_job), and tells the session when any job ends. Timers run on the thread-default GMainContext.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_document_object.h"

#define DG_LIVE_DEBOUNCE_MS 250
#define DG_LIVE_SETTLE_MS 1500

typedef enum { DG_LIVE_JOB_FRAME, DG_LIVE_JOB_FULL } dg_live_job_kind;

typedef enum {
  DG_LIVE_END_DONE,      // a frame shown or a full render landed
  DG_LIVE_END_CANCELLED, // stopped (or finished after being asked to stop: dropped)
  DG_LIVE_END_FAILED,
} dg_live_end;

typedef struct dg_live_driver {
  // Starts a job on doc: a frame (DG_SETTINGS_LIVE_STEPS steps at DG_SETTINGS_LIVE_GUIDANCE, or what the
  // driver chooses) or the full render, with `seed` for a random-seed document. FALSE and *error when none
  // started.
  gboolean (*start)(void *user, DgDocument *doc, dg_live_job_kind kind, uint64_t seed, GError **error);
  gboolean (*busy)(void *user); // any job runs, the session's or another
  void (*cancel)(void *user);   // asks the running job to stop
  // Optional: a live job failed (or could not start) after none had, with why; NULL once a live job
  // succeeds again.
  void (*failure)(void *user, const char *message);
} dg_live_driver;

typedef struct dg_live_session dg_live_session;

dg_live_session *dg_live_session_new(const dg_live_driver *driver, void *user);
void dg_live_session_free(dg_live_session *s);
// Follows doc (NULL: none) and its `live` field; the old document's session ends.
void dg_live_session_set_document(dg_live_session *s, DgDocument *doc);
// The driver's job ended (every job, the session's or not): TRUE when it was the session's.
gboolean dg_live_session_job_ended(dg_live_session *s, dg_live_end end, const char *message);
// The running session job's kind; FALSE when none runs.
gboolean dg_live_session_running(const dg_live_session *s, dg_live_job_kind *kind);

typedef struct dg_live_counts {
  int frames_started, frames_shown, full_renders;
  int edits;     // edits seen since live mode went on
  int job_edits; // of them, how many the running (or the last started) session job includes
} dg_live_counts;
void dg_live_session_counts(const dg_live_session *s, dg_live_counts *out);
uint64_t dg_live_session_seed(const dg_live_session *s);
