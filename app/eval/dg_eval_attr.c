#include "dg_eval_attr.h"

#include <stdlib.h>
#include <string.h>

#include "dg_layout_read.h"
#include "dg_png.h"

void dg_eval_colours_add(dg_eval_colours *c, unsigned colours, const uint8_t *rgb, const uint8_t *label, int64_t n) {
  if (!colours || (colours & (colours - 1))) return; // none or several colours
  int a = __builtin_ctz(colours);
  double sum[3] = {0};
  int64_t count = 0;
  for (int64_t i = 0; i < n; i++)
    if (label[i] == DG_EVAL_ATTR_CLASS) {
      for (int k = 0; k < 3; k++)
        sum[k] += rgb[3 * i + k] / 127.5 - 1.0;
      count++;
    }
  if (count < DG_EVAL_ATTR_MIN_PIXELS) return;
  for (int k = 0; k < 3; k++)
    c->rgb[a][k] += sum[k] / (double)count;
  c->images[a]++;
}

void dg_eval_colours_finish(dg_eval_colours *c) {
  for (int a = 0; a < DG_ATTR_COUNT; a++)
    for (int k = 0; k < 3 && c->images[a]; k++)
      c->rgb[a][k] /= c->images[a];
}

dg_status dg_eval_colours_from_dataset(const dg_world_index *ix, dg_eval_colours *out) {
  memset(out, 0, sizeof *out);
  dg_status s;
  dg_palette *world = dg_palette_load_named("world", &s); // label maps read as dg_layout_read_file reads them
  for (int i = 0; i < ix->n && s == DG_OK; i++) {
    const dg_world_index_entry *e = &ix->entries[i];
    unsigned colours;
    bool uncoloured;
    s = dg_world_index_object_colours(e, DG_EVAL_ATTR_CLASS, &colours, &uncoloured);
    if (s != DG_OK || uncoloured || !colours || (colours & (colours - 1))) continue;
    int w = 0, h = 0, lw = e->width, lh = e->height;
    uint8_t *rgb = NULL, *label = NULL;
    dg_png_limits size = {e->width, e->height, 0}; // the index's size, checked from the header
    s = dg_png_read_rgb8_limited(e->image, &size, &w, &h, &rgb);
    dg_png_limits label_size = {e->width, e->height, 0};
    if (s == DG_OK) s = dg_layout_read_file(e->label, world, &label_size, &lw, &lh, &label, NULL);
    if (s == DG_OK) dg_eval_colours_add(out, colours, rgb, label, (int64_t)w * h);
    free(rgb);
    free(label);
  }
  dg_palette_free(world);
  dg_eval_colours_finish(out);
  return s;
}

int dg_eval_attr_wanted(const dg_world_index_caption *cap) {
  for (int r = 0; r < cap->n_roles; r++)
    if (cap->roles[r].cls == DG_EVAL_ATTR_CLASS && cap->roles[r].attr != DG_ATTR_NONE) return cap->roles[r].attr;
  return DG_ATTR_NONE;
}

double dg_eval_attr_share(const dg_eval_colours *c, const uint8_t *rgb, const uint8_t *classes, int64_t n, int attr) {
  if (attr < 0 || attr >= DG_ATTR_COUNT || !c->images[attr]) return -1;
  // Candidates in the order of their names (the reference sorts them; it decides exact ties).
  int cand[DG_ATTR_COUNT], nc = 0;
  for (int a = 0; a < DG_ATTR_COUNT; a++)
    if (c->images[a]) {
      int j = nc++;
      while (j > 0 && strcmp(dg_world_attr_names[cand[j - 1]], dg_world_attr_names[a]) > 0)
        cand[j] = cand[j - 1], j--;
      cand[j] = a;
    }
  int64_t region = 0, hits = 0;
  for (int64_t i = 0; i < n; i++) {
    if (classes[i] != DG_EVAL_ATTR_CLASS) continue;
    region++;
    double px[3], best_d = 1e30;
    int best = -1;
    for (int k = 0; k < 3; k++)
      px[k] = rgb[3 * i + k] / 127.5 - 1.0;
    for (int j = 0; j < nc; j++) {
      const double *q = c->rgb[cand[j]];
      double d = (px[0] - q[0]) * (px[0] - q[0]) + (px[1] - q[1]) * (px[1] - q[1]) + (px[2] - q[2]) * (px[2] - q[2]);
      if (d < best_d) best_d = d, best = cand[j];
    }
    hits += best == attr;
  }
  return region < DG_EVAL_ATTR_MIN_PIXELS ? -1 : (double)hits / (double)region;
}

bool dg_eval_attr_pass(double share) { return share >= DG_EVAL_ATTR_SHARE; }
