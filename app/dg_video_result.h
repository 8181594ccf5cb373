// A generated video as the document keeps it: the frames (RGBA8) with the timeline and settings that
// made them, and the temporal attention matrix captured on the way (the picture under the timeline).
// The document keeps every one it generated (dg_document_video_at), one of them in the player (dg_document_video).
#pragma once
#include <stdint.h>

#include "dg_media.h"
#include "dg_status.h"
#include "dg_timeline.h"

typedef struct dg_video_result {
  dg_media frames;      // RGBA8, frames.frames == timeline.frames
  dg_timeline timeline; // the stages, fps, VSP and TAR it was generated with
  uint64_t seed;
  int steps;
  double guidance;
  double control_scale;   // the layout ControlNet's scale (the document's layout strength; used with keep_layout)
  char *negative, *model; // owned
  // The [F, F] temporal self-attention probabilities (rows: query frames) of the first temporal
  // transformer at the first step, conditional pass, mean over heads and pixels; NULL when none.
  float *attention;
  int attention_frames;
} dg_video_result;

void dg_video_result_init(dg_video_result *v);
void dg_video_result_clear(dg_video_result *v); // frees everything; leaves an initialised result
// A deep copy into dst (cleared first). DG_ERR_OOM naming the size when memory runs out (dst then clear).
dg_status dg_video_result_copy(dg_video_result *dst, const dg_video_result *src);
// The job JSON an export stores in the file (the same keys as `dirigent-cli video generate` writes:
// task, model, stages, negative, frames, fps, width, height, steps, cfg, seed, vsp, sigma_fine,
// sigma_next, until, keep_layout, control_scale; 0 written as 1). Caller frees with g_free.
char *dg_video_result_job_json(const dg_video_result *v);
