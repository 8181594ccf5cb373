// The colour-attribute check of text-to-image evaluation: does the region the evaluation segmenter calls
// `cls` (car or building) have the colour a caption names? Every pixel of the region gets the nearest
// (RGB distance) of the base colours objects of that class come in (dg_world_attr_rgb); the check
// passes when the named colour is the most frequent. Lighting (night, fog) shifts colours, so the same
// check on the real images gives the ceiling to compare with.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define DG_EVAL_ATTR_MIN_PIXELS 16 // a smaller region counts as missing

typedef enum dg_eval_attr_result {
  DG_EVAL_ATTR_PASS,
  DG_EVAL_ATTR_WRONG,   // the region's most frequent colour is another one
  DG_EVAL_ATTR_MISSING, // no region of the class (fewer than DG_EVAL_ATTR_MIN_PIXELS pixels)
} dg_eval_attr_result;

// rgb: n pixels x 3; classes: n class ids. *found receives the region's most frequent colour
// (DG_ATTR_NONE when missing). cls must be DG_WORLD_CAR or DG_WORLD_BUILDING, attr one of its colours.
dg_eval_attr_result dg_eval_attr_check(const uint8_t *rgb, const uint8_t *classes, int64_t n, int cls, int attr,
                                       int *found);
// Whether a caption role can be checked (a car or building with a colour objects of that class have).
bool dg_eval_attr_checkable(int cls, int attr);
