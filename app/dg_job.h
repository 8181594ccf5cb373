// A generation job: a snapshot of the document's inputs (layout, prompts, seed, steps, guidance,
// model) run by a pipeline function on a worker thread. The pipeline reports each step through
// dg_job_report (step index, total, an RGBA8 preview), which posts into a one-slot mailbox: a newer
// report replaces an unread older one, so a slow reader never slows the pipeline. The UI polls the
// mailbox on its frame clock. Cancel raises an atomic flag the pipeline checks between steps.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dg_document.h"

typedef struct dg_job dg_job;

// What the pipeline gets: a copy taken when the job was made, so later edits do not race it.
typedef struct dg_job_params {
  int width, height;
  const uint8_t *layout; // height*width class ids, DG_UNLABELLED = 255
  const char *prompt, *negative, *model;
  uint64_t seed; // already resolved when the document asks for a random seed
  int steps;
  double guidance;
} dg_job_params;

// The pipeline: runs on the worker thread; calls dg_job_report after each step, returns early with
// DG_ERR_CANCELLED when dg_job_cancelled is true, and on success fills *out (RGBA8, malloc'd,
// width*height*4) and returns DG_OK. Any other status fails the job with dg_last_error's message.
typedef dg_status (*dg_pipeline_fn)(dg_job *job, const dg_job_params *params, void *user, int *out_width,
                                    int *out_height, uint8_t **out_rgba);

typedef enum dg_job_state {
  DG_JOB_RUNNING,
  DG_JOB_DONE,
  DG_JOB_FAILED,
  DG_JOB_CANCELLED,
} dg_job_state;

// A progress message taken from the mailbox. `preview` is owned by the update (free with
// dg_job_update_clear); NULL when the pipeline reported no preview.
typedef struct dg_job_update {
  int step, total;
  int preview_width, preview_height;
  uint8_t *preview;
  double elapsed_s; // since the job started, at the time of the report
} dg_job_update;

// The pipeline the application was built with, or NULL ("no model loaded").
void dg_job_set_default_pipeline(dg_pipeline_fn fn, void *user);
dg_pipeline_fn dg_job_default_pipeline(void **user);

// Copies the inputs from doc (resolving a random seed from `random_seed`) and starts the worker.
// NULL with DG_ERR_UNSUPPORTED "no model loaded" when fn is NULL.
dg_job *dg_job_start(const dg_document *doc, dg_pipeline_fn fn, void *user, uint64_t random_seed, dg_status *status);
// Raises the cancel flag (returns at once; the worker stops at its next check).
void dg_job_cancel(dg_job *job);
dg_job_state dg_job_state_get(dg_job *job);
// Takes the newest unread progress report; false if none arrived since the last call.
bool dg_job_poll(dg_job *job, dg_job_update *out);
void dg_job_update_clear(dg_job_update *u);
// Waits for the worker to finish and returns the final state.
dg_job_state dg_job_wait(dg_job *job);
// After DG_JOB_DONE: moves the result (with the job's settings) into *out. False otherwise.
bool dg_job_take_result(dg_job *job, dg_result *out);
const char *dg_job_error(dg_job *job); // the failure message after DG_JOB_FAILED
const dg_job_params *dg_job_params_get(const dg_job *job);
// Waits for the worker (cancelling it first) and frees everything.
void dg_job_free(dg_job *job);

// For pipelines, from the worker thread.
bool dg_job_cancelled(dg_job *job);
// The flag itself, for pipelines that poll it deeper down (dg_generate checks it every step).
const atomic_bool *dg_job_cancel_flag(dg_job *job);
// Posts progress; `preview` (RGBA8, width*height*4) is copied, may be NULL.
void dg_job_report(dg_job *job, int step, int total, const uint8_t *preview, int width, int height);
