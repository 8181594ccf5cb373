// A video timeline: the frame count and rate, the prompt stages placed on it, and VSTAR's settings
// (render/pipelines/dg_video.h) as a person chooses them in the editor or the CLI. Plain data; the
// document keeps one (dg_document_timeline), every change one undo step (dg_document_set_timeline), and
// a video job gets a copy (dg_job_params.timeline).
#pragma once
#include <stdbool.h>

#include "dg_status.h"
#include "dg_video.h"

#define DG_TIMELINE_MAX_STAGES DG_VIDEO_MAX_STAGES
#define DG_TIMELINE_MIN_FRAMES 2
#define DG_TIMELINE_MAX_FRAMES DG_VIDEO_MAX_FRAMES
#define DG_TIMELINE_MAX_FPS 60.0
#define DG_TIMELINE_MAX_SIGMA 64.0
#define DG_TIMELINE_MAX_ATTENTION_LAYER 63 // above any model's temporal transformers; the job checks the model's
#define DG_TIMELINE_MAX_ATTENTION_STEP 999 // the job checks the run's steps

typedef struct dg_timeline_stage {
  int frame;    // where the stage's prompt starts holding (0-based)
  char *prompt; // owned, valid UTF-8
} dg_timeline_stage;

typedef struct dg_timeline {
  int frames;
  double fps;
  int n_stages; // 0: no video yet
  dg_timeline_stage stages[DG_TIMELINE_MAX_STAGES]; // frames strictly increasing, all < frames
  dg_vsp_mode vsp;
  // TAR: the Gaussian band's sigma at the model's finest latent level and at the next one (0: that level
  // not regularised; both 0: TAR off), for sampler steps 0..until.
  double sigma_fine, sigma_next;
  int until;
  bool keep_layout; // condition every frame on the document's layout through the layout ControlNet
  // The attention picture: the temporal self-attention of temporal transformer attention_layer (0: the first
  // of the video UNet's, which all have temporal attention) at sampler step attention_step.
  int attention_layer, attention_step;
} dg_timeline;

// 16 frames at 8 fps, no stages, VSP linear, TAR at the finest level with sigma 1 until step 13
// (VSTAR's defaults), the layout kept.
void dg_timeline_init(dg_timeline *t);
void dg_timeline_clear(dg_timeline *t); // frees the prompts; leaves an initialised timeline
// A deep copy into dst (its old prompts freed). DG_ERR_OOM naming the size when memory runs out, and dst
// unchanged.
dg_status dg_timeline_copy(dg_timeline *dst, const dg_timeline *src);
bool dg_timeline_equal(const dg_timeline *a, const dg_timeline *b);
// DG_ERR_ARG naming the value: frames outside 2..DG_TIMELINE_MAX_FRAMES, fps outside (0, 60], a stage
// frame outside 0..frames-1 or not after the previous one, a prompt that is NULL or not valid UTF-8 of
// at most 64 KiB, an unknown VSP mode, a sigma outside [0, 64] or NaN, until < 0, an attention layer outside
// 0..DG_TIMELINE_MAX_ATTENTION_LAYER or step outside 0..DG_TIMELINE_MAX_ATTENTION_STEP.
dg_status dg_timeline_check(const dg_timeline *t);
// Inserts a stage at `frame` (kept in order); DG_ERR_ARG when a stage is already there or the
// timeline is full.
dg_status dg_timeline_add_stage(dg_timeline *t, int frame, const char *prompt);
dg_status dg_timeline_remove_stage(dg_timeline *t, int index);
// Moves stage `index` to start at `frame`, clamped after the previous stage and before the next one (and
// into 0..frames-1); returns the frame it got (-1: no such stage). Dragging a block on the timeline.
int dg_timeline_move_stage(dg_timeline *t, int index, int frame);
// Replaces stage `index`'s prompt; DG_ERR_ARG for no such stage, DG_ERR_OOM naming the size.
dg_status dg_timeline_set_prompt(dg_timeline *t, int index, const char *prompt);
// Sets the frame count (DG_TIMELINE_MIN_FRAMES..DG_TIMELINE_MAX_FRAMES) with the stages at the same place
// in time: each stage frame scaled by (frames - 1) / (old - 1), rounded, kept in order one frame apart.
// DG_ERR_ARG naming the value when the count is out of range or fewer than the stages.
dg_status dg_timeline_set_frames(dg_timeline *t, int frames);
// VSTAR's TAR preset for a clip of `frames` (as `dirigent-cli video generate` defaults): sigma 1 at the finest
// level, and with more than 32 frames also sigma 8 at the next.
void dg_timeline_tar_preset(int frames, double *sigma_fine, double *sigma_next);
// The render-side stages (pointers into t) and TAR settings for a model whose levels with temporal attention
// have the latent widths `widths` (n of them, finest first: dg_video_attention_widths): sigma_fine at the
// first, sigma_next at the second; n_res 0 when TAR is off.
void dg_timeline_video_stages(const dg_timeline *t, dg_video_stage *out);
dg_status dg_timeline_tar(const dg_timeline *t, const int64_t *widths, int n, dg_tar *out);
