// The colour-attribute check, as tools/train/dgtrain/eval_models.py defines it: the caption names a car colour;
// the evaluation segmenter finds car pixels in the image, and at least a fifth of them are nearest (RGB
// distance) that colour's centroid. The centroids are the mean colours of ground-truth car pixels in the
// dataset's real images whose cars all share one colour (each image's mean, averaged over images). A
// missing car (fewer than 20 pixels) or a colour without a centroid fails. Lighting, windows and other
// cars make pixel colours noisy, so the rate on the real images is the reference to read it against.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_world.h"
#include "dg_world_index.h"

#define DG_EVAL_ATTR_CLASS DG_WORLD_CAR // buildings: scenes mix facade colours, so no clean centroids
#define DG_EVAL_ATTR_MIN_PIXELS 20
#define DG_EVAL_ATTR_SHARE 0.2

typedef struct dg_eval_colours {
  int images[DG_ATTR_COUNT]; // images averaged into each centroid (0: none)
  double rgb[DG_ATTR_COUNT][3]; // centroids in [-1, 1]
} dg_eval_colours;

// Centroids of DG_EVAL_ATTR_CLASS from all entries of the index (their scene graphs, images and labels).
dg_status dg_eval_colours_from_dataset(const dg_world_index *ix, dg_eval_colours *out);
// Adds one image to the centroids when `colours` (a dg_world_index_object_colours bit set) has exactly
// one colour and the label map has at least DG_EVAL_ATTR_MIN_PIXELS pixels of the class. Finish with
// dg_eval_colours_finish.
void dg_eval_colours_add(dg_eval_colours *c, unsigned colours, const uint8_t *rgb, const uint8_t *label, int64_t n);
void dg_eval_colours_finish(dg_eval_colours *c);
// The colour the caption asks of the class (its first role naming one), or DG_ATTR_NONE.
int dg_eval_attr_wanted(const dg_world_index_caption *cap);
// The share of the pixels `classes` assigns to the class whose nearest centroid is `attr`'s; -1 when
// the class covers fewer than DG_EVAL_ATTR_MIN_PIXELS pixels or `attr` has no centroid.
double dg_eval_attr_share(const dg_eval_colours *c, const uint8_t *rgb, const uint8_t *classes, int64_t n, int attr);
// The check: share >= DG_EVAL_ATTR_SHARE.
bool dg_eval_attr_pass(double share);
