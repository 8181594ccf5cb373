// What `dirigent-cli eval` measures, accumulated image by image, and how it is reported: a table on a
// stream and a JSON file. t2i: text-image similarity of generated and of real images with their
// caption, and the colour-attribute check on both; l2i: the evaluation segmenter's confusion against the
// input layouts for generated and real images (mIoU, per-class IoU, pixel accuracy), the Frechet
// distance between their CLIP image features, and their text-image similarity.
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
} dg_eval_settings;

typedef struct dg_eval_attr_item {
  int cls, attr;
  dg_eval_attr_result generated, real;
  int found_generated, found_real;
} dg_eval_attr_item;

typedef struct dg_eval_item {
  char *id, *prompt;
  uint64_t seed;
  float sim_generated, sim_real;
  double miou_generated, miou_real; // l2i: this image's mIoU
  int n_attrs;
  dg_eval_attr_item attrs[DG_WORLD_MAX_ROLES];
} dg_eval_item;

typedef struct dg_eval_report {
  dg_eval_settings settings;
  int n, cap;
  dg_eval_item *items;
  int k; // classes
  int64_t conf_generated[DG_WORLD_NUM_CLASSES * DG_WORLD_NUM_CLASSES], conf_real[DG_WORLD_NUM_CLASSES * DG_WORLD_NUM_CLASSES];
  dg_eval_moments feat_generated, feat_real; // l2i
  double seconds;
} dg_eval_report;

dg_status dg_eval_report_init(dg_eval_report *r, const dg_eval_settings *settings, int feature_dim);
void dg_eval_report_free(dg_eval_report *r);
// A new item (copies id and prompt); NULL when memory runs out.
dg_eval_item *dg_eval_report_add(dg_eval_report *r, const char *id, const char *prompt, uint64_t seed);

// The summary numbers (NaN where undefined).
typedef struct dg_eval_summary {
  double sim_generated, sim_real;
  int attr_checks[3];                 // car, building, all
  double attr_generated[3], attr_real[3]; // pass rates
  double miou_generated, miou_real, acc_generated, acc_real;
  double iou_generated[DG_WORLD_NUM_CLASSES], iou_real[DG_WORLD_NUM_CLASSES];
  double frechet; // NaN with fewer than 2 images
} dg_eval_summary;
void dg_eval_report_summary(const dg_eval_report *r, dg_eval_summary *s);

void dg_eval_report_print(const dg_eval_report *r, FILE *f);
dg_status dg_eval_report_write_json(const dg_eval_report *r, const char *path);
