// The VSTAR evaluation of issue 19 (`dirigent-cli eval video`, docs/evaluation.md): for each test
// timeline of a world video dataset (DIR/index.jsonl from `dirigent-cli world dataset --video`), one
// video per variant from the same seed, its stages placed at their ground-truth start frames scaled to
// the asked frame count, each measured by the evaluation models (dg_eval_models) with
// dg_eval_video_metrics: stage following, transition position, temporal coherence, layout stability and
// the band mass of the finest level's temporal attention at step 0. The real clip is measured the same
// way when it has the asked frame count.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dg_eval_models.h"
#include "dg_model_set.h"
#include "dg_video.h"

typedef enum dg_eval_video_variant {
  DG_EVAL_VIDEO_BASE,  // the overall caption on every frame, no TAR
  DG_EVAL_VIDEO_VSP,   // the stage prompts interpolated (VSP linear), no TAR
  DG_EVAL_VIDEO_TAR,   // the overall caption with TAR
  DG_EVAL_VIDEO_VSTAR, // both
  DG_EVAL_VIDEO_VARIANTS
} dg_eval_video_variant;
extern const char *const dg_eval_video_variant_names[DG_EVAL_VIDEO_VARIANTS]; // "base", "vsp", "tar", "vstar"
// DG_ERR_ARG naming the value unless it is one of the names.
dg_status dg_eval_video_variant_parse(const char *name, dg_eval_video_variant *out);

#define DG_EVAL_VIDEO_MAX_STAGES 8

// One line of a video dataset's index.
typedef struct dg_eval_video_timeline {
  char *id, *caption, *transition;
  int width, height, frames; // the clip's
  char **frame_images;       // [frames] paths, prefixed with the dataset folder
  int n_stages;
  char *stage_text[DG_EVAL_VIDEO_MAX_STAGES];
  int start[DG_EVAL_VIDEO_MAX_STAGES], end[DG_EVAL_VIDEO_MAX_STAGES]; // inclusive, in the clip's frames
} dg_eval_video_timeline;

// The first `max` lines of DIR/index.jsonl (fewer is an error naming the count). A missing file or field
// is an error naming the file and line.
dg_status dg_eval_video_timelines_load(const char *dir, int max, dg_eval_video_timeline **out, int *n);
void dg_eval_video_timelines_free(dg_eval_video_timeline *t, int n);

// The numbers of one clip (NaN where undefined: stage numbers for a single stage, attention for a
// real clip).
typedef struct dg_eval_video_clip {
  double stage_acc;      // share of the stage frames judged to their stage (dg_eval_video_stage_accuracy)
  double transition_err; // frames (dg_eval_video_transition_error)
  double transition_width; // frames from 10% to 90% of the change of preference (dg_eval_video_transition_width)
  double clip_cos;       // adjacent-frame CLIP image cosine
  double l1;             // adjacent-frame mean absolute difference, 0..255
  double layout_miou;    // segmenter mIoU between consecutive frames
  double band_mass;      // temporal attention mass within |i - j| <= 2
  double seconds;        // generation
  signed char judged[DG_VIDEO_MAX_FRAMES]; // per frame the most similar stage
} dg_eval_video_clip;

typedef struct dg_eval_video_settings {
  const char *data, *model;
  int count, frames, steps, until; // until: TAR's last regularised step
  double cfg;
  uint64_t seed; // timeline i uses seed + i in every variant
  int n_variants;
  dg_eval_video_variant variants[DG_EVAL_VIDEO_VARIANTS];
  const char *frames_out; // NULL, or a folder for a PNG grid of each video (ID_VARIANT.png)
} dg_eval_video_settings;

typedef struct dg_eval_video_report {
  dg_eval_video_settings settings;
  const dg_eval_video_timeline *timelines;
  int n;                     // timelines done
  dg_eval_video_clip *clips; // [count][DG_EVAL_VIDEO_VARIANTS], the asked variants filled
  dg_eval_video_clip *real;  // [count]; has_real[i] when the real clip has the asked frames
  bool *has_real;
  double seconds;
} dg_eval_video_report;

dg_status dg_eval_video_report_init(dg_eval_video_report *r, const dg_eval_video_settings *s,
                                    const dg_eval_video_timeline *timelines);
void dg_eval_video_report_free(dg_eval_video_report *r);

// Progress: timeline i, variant v, sampling step (of total).
typedef void (*dg_eval_video_progress_fn)(void *user, int timeline, dg_eval_video_variant v, int step, int total);
// Called after each timeline (e.g. to write the report so far).
typedef dg_status (*dg_eval_video_done_fn)(void *user, const dg_eval_video_report *r);

// Runs the settings' variants on timeline after timeline into r (r->n counts them). gen needs a video UNet.
dg_status dg_eval_video_run(dg_model_set *gen, dg_eval_models *ev, dg_eval_video_report *r,
                            dg_eval_video_progress_fn progress, dg_eval_video_done_fn done, void *user);

// Per variant (and the real clips) each number's mean over the timelines with its 95% bootstrap interval,
// and each variant's paired difference to base: a table on f, the same with every clip's numbers as JSON.
void dg_eval_video_report_print(const dg_eval_video_report *r, FILE *f);
dg_status dg_eval_video_report_write_json(const dg_eval_video_report *r, const char *path);
// Reads back a report that write_json wrote, into r (initialised with this run's settings and timelines):
// its done timelines and seconds, so that dg_eval_video_run goes on after them. The settings other than the
// count (data, model, frames, steps, until, cfg, seed, variants in order) and the timelines' ids must match;
// an error names what differs and leaves r empty.
dg_status dg_eval_video_report_read_json(dg_eval_video_report *r, const char *path);
