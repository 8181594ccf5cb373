// What `dirigent-cli eval` measures, accumulated image by image, and how it is reported: a table on a
// stream and a JSON file laid out like tools/train/dgtrain/eval_models.py's report ("real" and "generated"
// groups with clip_sim, attr_acc, attr_items, fd, and for l2i miou, pixel_acc, iou), so the two can be
// compared key by key.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dg_eval_attr.h"
#include "dg_eval_metrics.h"
#include "dg_world.h"

typedef struct dg_eval_settings {
  const char *task; // "t2i" or "l2i"
  const char *split, *data, *model, *controlnet, *sampler;
  int count, steps;
  double cfg;
  uint64_t seed; // image i uses seed + i
  const char *decoder; // the latent decoder: NULL for the VAE's, "tiny" for the live frame's
} dg_eval_settings;

typedef struct dg_eval_item {
  char *id, *prompt;
  uint64_t seed;
  float sim_generated, sim_real;
  int attr;                            // the caption's car colour, DG_ATTR_NONE if it names none
  double share_generated, share_real;  // dg_eval_attr_share (-1: no car or no centroid)
  double miou_generated, miou_real;    // l2i: this image's mIoU
} dg_eval_item;

#define DG_EVAL_K DG_WORLD_NUM_CLASSES

typedef struct dg_eval_report {
  dg_eval_settings settings;
  int n, cap;
  dg_eval_item *items;
  int64_t conf_generated[DG_EVAL_K * DG_EVAL_K], conf_real[DG_EVAL_K * DG_EVAL_K]; // l2i
  dg_eval_moments feat_generated, feat_real;
  double seconds;
} dg_eval_report;

dg_status dg_eval_report_init(dg_eval_report *r, const dg_eval_settings *settings, int feature_dim);
void dg_eval_report_free(dg_eval_report *r);
// A new item (copies id and prompt) with every number undefined.
dg_eval_item *dg_eval_report_add(dg_eval_report *r, const char *id, const char *prompt, uint64_t seed);

// The numbers of one group (real or generated images); NaN where undefined.
typedef struct dg_eval_group {
  int images, attr_items;
  double clip_sim, attr_acc;
  double fd; // generated only: against the real images' features (needs 2 images)
  double miou, pixel_acc, iou[DG_EVAL_K];
} dg_eval_group;
void dg_eval_report_summary(const dg_eval_report *r, dg_eval_group *real, dg_eval_group *generated);

void dg_eval_report_print(const dg_eval_report *r, FILE *f);
dg_status dg_eval_report_write_json(const dg_eval_report *r, const char *path);
