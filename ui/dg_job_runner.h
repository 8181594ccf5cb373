// Generation from the editor, and the editor's only contact with the engine: the job function it
// registers at start (app/dg_runner's, or a test stand-in from DIRIGENT_TEST_RUNNER), a dg_job
// started from a document's settings on a worker thread, its one-slot mailbox polled on a widget's
// frame clock for progress and previews, and the final image added to that document's results.
// Properties for the progress display: running, progress-text, progress-fraction, preview
// (a GdkPaintable). "finished" (DgJobOutcome, message) when a job ends.
#pragma once
#include <gtk/gtk.h>

#include "dg_document_object.h"
#include "dg_job.h"

G_BEGIN_DECLS

typedef enum {
  DG_JOB_OUTCOME_DONE,      // the result was added to the document (a video: became its video)
  DG_JOB_OUTCOME_CANCELLED, // the document is as it was
  DG_JOB_OUTCOME_FAILED,    // message: why
  DG_JOB_OUTCOME_DISCARDED, // another document replaced the job's own
  DG_JOB_OUTCOME_FRAME,     // a live frame: shown as the preview, not added to the results
} DgJobOutcome;

#define DG_JOB_RUNNER_ERROR (dg_job_runner_error_quark())
GQuark dg_job_runner_error_quark(void);
typedef enum {
  DG_JOB_RUNNER_ERROR_NO_MODEL, // nothing to generate with: no pipeline, no default model, a model gone
  DG_JOB_RUNNER_ERROR_SETTINGS, // the model's rule refuses the canvas size (dg_settings), stated in the message
  DG_JOB_RUNNER_ERROR_FAILED,   // the job could not be started
} DgJobRunnerError;

#define DG_TYPE_JOB_RUNNER (dg_job_runner_get_type())
G_DECLARE_FINAL_TYPE(DgJobRunner, dg_job_runner, DG, JOB_RUNNER, GObject)

// Registers the application's job function, app/dg_runner (once, before the first job), and frees it.
void dg_job_runner_load_runner(void);
void dg_job_runner_unload_runner(void);
// How many times app/dg_runner loaded a video UNet (dg_runner_video_loads): 0 until the first video job.
int dg_job_runner_video_loads(void);

DgJobRunner *dg_job_runner_new(void);
// Starts generating from doc's settings, polling on clock's frame clock; FALSE (and *error) when no
// job was started. Does nothing while a job runs.
gboolean dg_job_runner_start(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, GError **error);
// A live frame (ui/dg_live): the sampling of `sampling` (dg_job_start_sampling) with `seed` for a
// random-seed document; its image becomes the preview and never reaches the document's results
// (outcome DG_JOB_OUTCOME_FRAME).
gboolean dg_job_runner_start_frame(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, uint64_t seed,
                                   const dg_job_sampling *sampling, GError **error);
// The same as dg_job_runner_start with `seed` for a random-seed document (the live session's seed).
gboolean dg_job_runner_start_seeded(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, uint64_t seed,
                                    GError **error);
// A video of doc's timeline (dg_job_start_video) previewing frame `playhead`; its frames become the
// document's newest video (dg_document_add_video) with outcome DG_JOB_OUTCOME_DONE.
gboolean dg_job_runner_start_video(DgJobRunner *self, DgDocument *doc, GtkWidget *clock, int playhead, GError **error);
// The running video job previews frame `frame` from its next step on (the playhead moved).
void dg_job_runner_set_playhead(DgJobRunner *self, int frame);
// Whether the running job is a video.
gboolean dg_job_runner_get_video(DgJobRunner *self);
// Asks the job to stop at its next step; the document stays as it was (also when the job finished
// before it saw the request: its result is dropped).
void dg_job_runner_cancel(DgJobRunner *self);
// Cancels for good: the job's document is being replaced, so a result that still arrives goes nowhere.
void dg_job_runner_abandon(DgJobRunner *self);
// Abandons the job and waits for its worker (the window is closing).
void dg_job_runner_stop(DgJobRunner *self);
gboolean dg_job_runner_get_running(DgJobRunner *self);
// Shows the attention heatmap of a marks item ("car#2", "red:car": its attribute) over the newest preview
// as the "heatmap" property, updated with every step while the job reports maps (marked words); NULL
// item or no such map: no heatmap.
void dg_job_runner_show_heatmap(DgJobRunner *self, const char *item);
const char *dg_job_runner_get_progress_text(DgJobRunner *self);
// The running (or last) video job's temporal attention [frames, frames] as soon as its capture step has run
// (NULL before; a new job clears it); property "attention-frames" notifies each change.
const float *dg_job_runner_get_attention(DgJobRunner *self, int *frames);

G_END_DECLS
