#include "dg_heatmaps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attn_maps.h"

dg_status dg_heatmaps_add(dg_heatmaps *h, const float *maps, int n, int mh, int mw) {
  size_t count = (size_t)n * mh * mw;
  if (!h->sum) {
    h->sum = calloc(count ? count : 1, sizeof *h->sum);
    if (!h->sum) return dg_fail(DG_ERR_OOM, "heatmaps: out of memory for %d maps of %dx%d", n, mh, mw);
    h->n = n, h->mh = mh, h->mw = mw;
  } else if (n != h->n || mh != h->mh || mw != h->mw) {
    return dg_fail(DG_ERR_ARG, "heatmaps: %d maps of %dx%d after %d of %dx%d", n, mh, mw, h->n, h->mh, h->mw);
  }
  for (size_t i = 0; i < count; i++)
    h->sum[i] += maps[i];
  h->steps++;
  return DG_OK;
}

void dg_heatmaps_clear(dg_heatmaps *h) {
  free(h->sum);
  memset(h, 0, sizeof *h);
}

int dg_heatmaps_refs(const dg_marks *marks, dg_mark_ref *refs, int max) { return dg_marks_list(marks, refs, max); }

void dg_heatmaps_word(const dg_heatmaps *h, const dg_marks *marks, const dg_mark_ref *ref, float *map) {
  int hw = h->mh * h->mw;
  const dg_mark_word *w = ref->is_attr ? &marks->attrs[ref->index] : &marks->objects[ref->index];
  dg_attn_maps_word(h->sum, h->n, hw, w->tokens, w->n_tokens, map);
  for (int i = 0; h->steps > 1 && i < hw; i++)
    map[i] /= (float)h->steps;
}

// matplotlib's inferno at 0, 1/8, ..., 1.
static const uint8_t inferno[9][3] = {{0, 0, 4},      {31, 12, 72},   {85, 15, 109},  {136, 34, 106}, {186, 54, 85},
                                      {227, 89, 51},  {249, 140, 10}, {249, 201, 50}, {252, 255, 164}};

void dg_heatmaps_colour(float t, uint8_t rgb[3]) {
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  if (isnan(t)) t = 0;
  float x = t * 8;
  int i = x >= 8 ? 7 : (int)x;
  float f = x - (float)i;
  for (int c = 0; c < 3; c++)
    rgb[c] = (uint8_t)lrintf((float)inferno[i][c] * (1 - f) + (float)inferno[i + 1][c] * f);
}

// Bilinear sample of map at image pixel (x, y), half-pixel centres, edges clamped (torch's
// interpolate(mode='bilinear', align_corners=False)).
static float sample(const float *map, int mh, int mw, int w, int h, int x, int y) {
  float sy = ((float)y + 0.5f) * (float)mh / (float)h - 0.5f, sx = ((float)x + 0.5f) * (float)mw / (float)w - 0.5f;
  sy = sy < 0 ? 0 : sy, sx = sx < 0 ? 0 : sx;
  int y0 = (int)sy, x0 = (int)sx;
  if (y0 > mh - 1) y0 = mh - 1;
  if (x0 > mw - 1) x0 = mw - 1;
  int y1 = y0 + 1 < mh ? y0 + 1 : y0, x1 = x0 + 1 < mw ? x0 + 1 : x0;
  float fy = sy - (float)y0, fx = sx - (float)x0;
  fy = fy > 1 ? 1 : fy, fx = fx > 1 ? 1 : fx;
  return (map[y0 * mw + x0] * (1 - fx) + map[y0 * mw + x1] * fx) * (1 - fy) +
         (map[y1 * mw + x0] * (1 - fx) + map[y1 * mw + x1] * fx) * fy;
}

void dg_heatmaps_tile(const uint8_t *rgb, int w, int h, const float *map, int mh, int mw, float alpha, uint8_t *out) {
  float mn = map[0], mx = map[0];
  for (int i = 0; i < mh * mw; i++)
    mn = map[i] < mn ? map[i] : mn, mx = map[i] > mx ? map[i] : mx;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t c[3];
      dg_heatmaps_colour(mx > mn ? (sample(map, mh, mw, w, h, x, y) - mn) / (mx - mn) : 0, c);
      const uint8_t *src = rgb + ((size_t)y * w + x) * 3;
      uint8_t *dst = out + ((size_t)y * w + x) * 3;
      for (int k = 0; k < 3; k++)
        dst[k] = (uint8_t)lrintf((1 - alpha) * (float)src[k] + alpha * (float)c[k]);
    }
}

dg_status dg_heatmaps_strip(const dg_heatmaps *hm, const dg_marks *marks, const dg_mark_ref *refs, int n_refs,
                            const uint8_t *rgb, int w, int h, uint8_t **out) {
  *out = NULL;
  if (!hm->steps || n_refs < 1) return dg_fail(DG_ERR_ARG, "heatmaps: no maps or no words to show");
  size_t tile = (size_t)w * h * 3;
  uint8_t *strip = malloc(tile * n_refs), *t = malloc(tile);
  float *map = malloc((size_t)hm->mh * hm->mw * sizeof *map);
  if (!strip || !t || !map) {
    free(strip), free(t), free(map);
    return dg_fail(DG_ERR_OOM, "heatmaps: out of memory for %d tiles of %dx%d", n_refs, w, h);
  }
  for (int r = 0; r < n_refs; r++) {
    dg_heatmaps_word(hm, marks, &refs[r], map);
    dg_heatmaps_tile(rgb, w, h, map, hm->mh, hm->mw, 0.6f, t);
    for (int y = 0; y < h; y++)
      memcpy(strip + ((size_t)y * n_refs * w + (size_t)r * w) * 3, t + (size_t)y * w * 3, (size_t)w * 3);
  }
  free(t), free(map);
  *out = strip;
  return DG_OK;
}
