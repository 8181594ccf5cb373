#include "dg_eval_attr.h"

#include <stdbool.h>

#include "dg_world.h"

bool dg_eval_attr_checkable(int cls, int attr) {
  return (cls == DG_WORLD_CAR || cls == DG_WORLD_BUILDING) && attr >= 0 && attr < DG_ATTR_COUNT &&
         dg_world_attr_used(cls, attr);
}

dg_eval_attr_result dg_eval_attr_check(const uint8_t *rgb, const uint8_t *classes, int64_t n, int cls, int attr,
                                       int *found) {
  int cand[DG_ATTR_COUNT], nc = 0;
  uint8_t ref[DG_ATTR_COUNT][3];
  for (int a = 0; a < DG_ATTR_COUNT; a++)
    if (dg_world_attr_used(cls, a)) {
      dg_world_attr_rgb(a, cls == DG_WORLD_CAR, ref[nc]);
      cand[nc++] = a;
    }
  int64_t votes[DG_ATTR_COUNT] = {0}, region = 0;
  for (int64_t i = 0; i < n && nc; i++) {
    if (classes[i] != cls) continue;
    region++;
    int best = 0, best_d = 1 << 30;
    for (int k = 0; k < nc; k++) {
      int dr = rgb[3 * i] - ref[k][0], dg = rgb[3 * i + 1] - ref[k][1], db = rgb[3 * i + 2] - ref[k][2];
      int d = dr * dr + dg * dg + db * db;
      if (d < best_d) best_d = d, best = k;
    }
    votes[best]++;
  }
  *found = DG_ATTR_NONE;
  if (region < DG_EVAL_ATTR_MIN_PIXELS) return DG_EVAL_ATTR_MISSING;
  int top = 0;
  for (int k = 1; k < nc; k++)
    if (votes[k] > votes[top]) top = k;
  *found = cand[top];
  return cand[top] == attr ? DG_EVAL_ATTR_PASS : DG_EVAL_ATTR_WRONG;
}
