// A generation job: a snapshot of the document's inputs (layout, prompts, seed, steps, guidance,
// layout strength, model) run by a job function on a worker thread (app/dg_runner's, which runs the task pipelines of
// render/pipelines). The function reports each step through dg_job_report (step index, total, an
// RGBA8 preview), which posts into a one-slot mailbox: a newer report replaces an unread older one,
// so a slow reader never slows the job. The UI polls the mailbox on its frame clock. Cancel raises
// an atomic flag the function checks between steps. The result is media: an image or a sequence of
// frames.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dg_document.h"
#include "dg_guidance.h"
#include "dg_media.h"

typedef struct dg_job dg_job;

// What the job function gets: a copy taken when the job was made, so later edits do not race it.
typedef struct dg_job_params {
  int width, height;
  const uint8_t *layout; // height*width class ids, DG_UNLABELLED = 255
  const char *prompt, *negative, *model;
  const char *palette; // the layout's class palette (dg_palette_load_named); NULL: "world"
  const char *marks; // the marked words (render/pipelines/dg_marks.h), "" for none
  dg_guidance_kind attn_guidance; // the marked objects' attention guidance (dg_guidance.h)
  uint64_t seed; // already resolved when the document asks for a random seed
  int steps;
  double guidance;
  // The layout ControlNet's residual scale: the document's layout strength (dg_document_control_scale), a live
  // frame's DG_SETTINGS_LIVE_CONTROL_SCALE times it; jobs started here always set it (0 reads as 1, as trained).
  double control_scale;
  bool fast_decode;     // the model's tiny decoder where it has one (a live frame), else the VAE's
  // A video job (dg_job_start_video): the document's timeline (render/pipelines/dg_video.h runs it; the
  // layout conditions every frame when timeline->keep_layout); NULL for an image.
  const dg_timeline *timeline;
  // The frame a video job previews at first (the editor's playhead); dg_job_preview_frame follows later moves.
  int preview_frame;
} dg_job_params;

// What a live frame changes of the document's sampling settings: steps <= 0 and guidance < 0 keep the
// document's; control_scale is a factor on the document's layout strength (the person's setting is felt in
// live frames too), <= 0 keeps the layout strength as it is; fast_decode decodes with the model's tiny decoder
// where it has one (dg_generate_params.fast_decode).
typedef struct dg_job_sampling {
  int steps;
  double guidance, control_scale;
  bool fast_decode;
} dg_job_sampling;

// The job function: runs on the worker thread; calls dg_job_report after each step, returns early
// with DG_ERR_CANCELLED when dg_job_cancelled is true, and on success fills *out (RGBA8: one frame for
// an image, more for a video; the job takes its data) and returns DG_OK. Any other status fails the
// job with dg_last_error's message.
typedef dg_status (*dg_job_fn)(dg_job *job, const dg_job_params *params, void *user, dg_media *out);

typedef enum dg_job_state {
  DG_JOB_RUNNING,
  DG_JOB_DONE,
  DG_JOB_FAILED,
  DG_JOB_CANCELLED,
} dg_job_state;

// A progress message taken from the mailbox. `preview` is owned by the update (free with
// dg_job_update_clear); NULL when the job function reported no preview.
typedef struct dg_job_update {
  int step, total;
  int preview_width, preview_height;
  uint8_t *preview;
  double elapsed_s; // since the job started, at the time of the report
  // The marked words' attention maps of the newest step (dg_job_report_maps), owned like preview; NULL
  // when none were reported: map_count maps [map_h, map_w], named by map_labels ("red\ncar\ncar#2").
  float *maps;
  int map_count, map_h, map_w;
  char *map_labels;
  // A video job's temporal attention [frames, frames] once its capture step has run (dg_job_set_attention),
  // owned like preview; NULL in the other updates.
  float *attention;
  int attention_frames;
} dg_job_update;

// Lowers the priority (raises the niceness by `increment`, up to 19) of every job's worker thread and of
// the threads it starts (the Vulkan driver's, when the first job opens the device): the editor keeps its
// UI thread ahead of the engine on a CPU device. 0 (the default) leaves them alone.
void dg_job_set_worker_nice(int increment);
// Applies that increment to the calling thread (a worker of its own, such as the style panel's).
void dg_job_lower_this_thread(void);

// The job function the application was built with, or NULL ("no model loaded").
void dg_job_set_default_fn(dg_job_fn fn, void *user);
dg_job_fn dg_job_default_fn(void **user);

// Copies the inputs from doc (resolving a random seed from `random_seed`) and starts the worker.
// NULL with DG_ERR_UNSUPPORTED "no model loaded" when fn is NULL.
dg_job *dg_job_start(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed, dg_status *status);
// The same with the sampling of `sampling` where it is set (a live frame: DG_SETTINGS_LIVE_SAMPLING, whose
// control scale multiplies the document's layout strength); NULL takes the document's.
dg_job *dg_job_start_sampling(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed,
                              const dg_job_sampling *sampling, dg_status *status);
// A video of the document's timeline (dg_document_timeline; DG_ERR_ARG when it has no stage), with the
// document's prompt settings (negative prompt, seed, steps, guidance, model, layout and its strength),
// previewing frame `playhead` (dg_job_set_preview_frame moves it while the job runs). The result is media of
// timeline->frames frames.
dg_job *dg_job_start_video(const dg_document *doc, dg_job_fn fn, void *user, uint64_t random_seed, int playhead,
                           dg_status *status);
// The frame a video job's previews show from its next step on (the playhead was moved); any thread.
void dg_job_set_preview_frame(dg_job *job, int frame);
// The flag itself, for job functions that read it every step (dg_video_params.preview_frame_at).
const atomic_int *dg_job_preview_frame(dg_job *job);
// Raises the cancel flag (returns at once; the worker stops at its next check).
void dg_job_cancel(dg_job *job);
dg_job_state dg_job_state_get(dg_job *job);
// Takes the newest unread progress report; false if none arrived since the last call.
bool dg_job_poll(dg_job *job, dg_job_update *out);
void dg_job_update_clear(dg_job_update *u);
// Waits for the worker to finish and returns the final state.
dg_job_state dg_job_wait(dg_job *job);
// After DG_JOB_DONE: moves the result media into *out. False otherwise (or when taken already).
bool dg_job_take_media(dg_job *job, dg_media *out);
// After DG_JOB_DONE: the result as the document keeps it, with the job's settings (an image: the
// first frame of a sequence), moved into *out. False otherwise.
bool dg_job_take_result(dg_job *job, dg_result *out);
// After DG_JOB_DONE of a video job: its frames with the job's timeline and settings, and the temporal
// attention the job function posted (dg_job_set_attention), moved into *out. False otherwise.
bool dg_job_take_video(dg_job *job, dg_video_result *out);
const char *dg_job_error(dg_job *job); // the failure message after DG_JOB_FAILED
// A note of the job function for the person, shown with its result (a prompt cut at the text encoder's
// length); a copy to free, NULL when none. Any thread.
char *dg_job_note(dg_job *job);
const dg_job_params *dg_job_params_get(const dg_job *job);
// Waits for the worker (cancelling it first) and frees everything.
void dg_job_free(dg_job *job);

// For job functions, from the worker thread.
bool dg_job_cancelled(dg_job *job);
// The flag itself, for job functions that poll it deeper down (dg_generate checks it every step).
const atomic_bool *dg_job_cancel_flag(dg_job *job);
// Sets (replaces; NULL clears) the note dg_job_note returns; copied.
void dg_job_set_note(dg_job *job, const char *note);
// Posts progress; `preview` (RGBA8, width*height*4) is copied, may be NULL.
void dg_job_report(dg_job *job, int step, int total, const uint8_t *preview, int width, int height);
// Keeps a video job's [frames, frames] temporal attention matrix (copied) for dg_job_take_video, and posts a
// copy into the mailbox with the step's report that follows, so the editor shows it while the job runs.
void dg_job_set_attention(dg_job *job, const float *matrix, int frames);
// Posts the marked words' maps [n, mh, mw] (copied) with their labels ('\n'-separated) into the mailbox,
// kept with the step's report that follows.
void dg_job_report_maps(dg_job *job, const float *maps, int n, int mh, int mw, const char *labels);
