#include "dg_layout_read.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_image.h"

#define SURE 8 // within this of a class colour a pixel is that class, wherever it is
#define OPAQUE(p) ((p)[3] >= 128)

typedef struct colours { // a palette's class colours, the unlabelled colour last
  int n;
  uint8_t rgb[256][3];
  uint8_t id[256];
} colours;

static void colours_of(const dg_palette *p, colours *c) {
  c->n = dg_palette_count(p);
  for (int k = 0; k < c->n; k++) {
    const dg_palette_class *cl = dg_palette_class_at(p, k);
    memcpy(c->rgb[k], cl->rgb, 3);
    c->id[k] = (uint8_t)cl->id;
  }
  dg_palette_color(p, DG_UNLABELLED, c->rgb[c->n]);
  c->id[c->n++] = DG_UNLABELLED;
}

static int dist2(const uint8_t *a, const uint8_t *b) {
  int d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return d0 * d0 + d1 * d1 + d2 * d2;
}

// The nearest class colour (the first of equals, as exact lookup takes it), through a small cache: a
// layout has few distinct colours.
typedef struct nearest_cache {
  uint32_t key[4096]; // rgb + 1 (0: empty)
  uint8_t index[4096];
  int d2[4096];
} nearest_cache;

static int nearest(const colours *c, nearest_cache *cache, const uint8_t *rgb, int *d2) {
  uint32_t key = ((uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2]) + 1;
  uint32_t slot = (key * 2654435761u) >> 20;
  if (cache->key[slot] != key) {
    int best = 0, best_d = dist2(rgb, c->rgb[0]);
    for (int k = 1; k < c->n && best_d; k++) {
      int d = dist2(rgb, c->rgb[k]);
      if (d < best_d) best = k, best_d = d;
    }
    cache->key[slot] = key, cache->index[slot] = (uint8_t)best, cache->d2[slot] = best_d;
  }
  *d2 = cache->d2[slot];
  return cache->index[slot];
}

typedef struct coverage {
  size_t opaque, exact, near;
  long first_far; // the first opaque pixel far from every colour, -1 if none
} coverage;

static void measure(const colours *c, nearest_cache *cache, const uint8_t *rgba, size_t n, coverage *cv) {
  *cv = (coverage){.first_far = -1};
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = rgba + 4 * i;
    if (!OPAQUE(p)) continue;
    int d2;
    nearest(c, cache, p, &d2);
    cv->opaque++;
    cv->exact += d2 == 0;
    if (d2 <= DG_LAYOUT_NEAR * DG_LAYOUT_NEAR) cv->near++;
    else if (cv->first_far < 0) cv->first_far = (long)i;
  }
}

// Labels every pixel in `c`'s classes (indices into c, not ids). Pixel states: SURE_OR_DONE (resolved from
// the start), TRANSPARENT (unlabelled, offers no class to its neighbours), UNSURE (near a class colour but
// not within SURE), PENDING (to be filled), or the fill pass that resolved it.
enum { SURE_OR_DONE = 0, TRANSPARENT = 1, FIRST_PASS = 2, UNSURE = 254, PENDING = 255 };

static bool beside_other_class(const uint8_t *state, const uint8_t *index, int w, int h, size_t i) {
  int x = (int)(i % (size_t)w), y = (int)(i / (size_t)w);
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      int nx = x + dx, ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      size_t q = (size_t)ny * w + nx;
      if (state[q] == SURE_OR_DONE && index[q] != index[i]) return true;
    }
  return false;
}

// The class of a resolved 8-neighbour (resolved before `pass`) whose colour is nearest pixel i's; -1 if none.
static int neighbour_class(const colours *c, const uint8_t *rgba, const uint8_t *state, const uint8_t *index, int w,
                           int h, size_t i, int pass) {
  int x = (int)(i % (size_t)w), y = (int)(i / (size_t)w), best = -1, best_d = 0;
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      int nx = x + dx, ny = y + dy;
      if ((!dx && !dy) || nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      size_t q = (size_t)ny * w + nx;
      if (state[q] == TRANSPARENT || (state[q] != SURE_OR_DONE && state[q] >= pass)) continue;
      int d = dist2(rgba + 4 * i, c->rgb[index[q]]);
      if (best < 0 || d < best_d) best = index[q], best_d = d;
    }
  return best;
}

static dg_status label(const colours *c, nearest_cache *cache, const uint8_t *rgba, int w, int h, uint8_t *index,
                       dg_layout_read_report *r) {
  size_t n = (size_t)w * h, n_pending = 0;
  uint8_t *state = calloc(n ? n : 1, 1);
  size_t *pending = malloc((n ? n : 1) * sizeof *pending);
  if (!state || !pending) {
    free(state), free(pending);
    return dg_fail(DG_ERR_OOM, "the layout's labels (%zu pixels)", n);
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = rgba + 4 * i;
    int d2, k = nearest(c, cache, p, &d2);
    index[i] = (uint8_t)k;
    if (!OPAQUE(p)) {
      index[i] = (uint8_t)(c->n - 1), state[i] = TRANSPARENT;
      r->snapped += p[3] != 0;
    } else if (d2 <= SURE * SURE) {
      r->snapped += d2 != 0 || p[3] != 255;
    } else if (d2 <= DG_LAYOUT_NEAR * DG_LAYOUT_NEAR) {
      state[i] = UNSURE;
    } else {
      state[i] = PENDING, pending[n_pending++] = i;
    }
  }
  // An unsure pixel beside a sure one of another class is on an edge, where noise on a blend may bring it
  // near a third class's colour (a seam of mountain between the world's sky and road): filled like the
  // blends. Elsewhere it is noise on its region's colour.
  for (size_t i = 0; i < n; i++)
    if (state[i] == UNSURE && beside_other_class(state, index, w, h, i)) state[i] = PENDING, pending[n_pending++] = i;
  for (size_t i = 0; i < n; i++)
    if (state[i] == UNSURE) state[i] = SURE_OR_DONE, r->snapped++;
  for (int pass = FIRST_PASS; pass < UNSURE && n_pending; pass++) {
    size_t kept = 0;
    for (size_t j = 0; j < n_pending; j++) {
      size_t i = pending[j];
      int k = neighbour_class(c, rgba, state, index, w, h, i, pass);
      if (k >= 0) index[i] = (uint8_t)k, state[i] = (uint8_t)pass, r->filled++;
      else pending[kept++] = i;
    }
    n_pending = kept;
  }
  r->snapped += n_pending; // cut off from every region (e.g. enclosed by transparency): their nearest colour
  free(state), free(pending);
  return DG_OK;
}

dg_status dg_layout_from_rgba(const char *name, const dg_palette *target, const uint8_t *rgba, int width, int height,
                              uint8_t **ids, dg_layout_read_report *r) {
  memset(r, 0, sizeof *r);
  *ids = NULL;
  size_t n = (size_t)width * height;
  r->pixels = n;
  r->painted_in = dg_palette_title(target);
  // Candidates: the target, then the shipped palettes that are not it.
  const dg_palette *cand[1 + DG_PALETTE_BUILTIN_COUNT] = {target};
  dg_palette *owned[DG_PALETTE_BUILTIN_COUNT] = {0};
  const char *cand_name[1 + DG_PALETTE_BUILTIN_COUNT] = {dg_palette_title(target)};
  int n_cand = 1;
  for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT; b++) {
    if (!strcmp(dg_palette_builtin[b], dg_palette_title(target))) continue;
    dg_status ls;
    if ((owned[b] = dg_palette_load_named(dg_palette_builtin[b], &ls)))
      cand_name[n_cand] = dg_palette_builtin[b], cand[n_cand++] = owned[b];
  }
  colours *c = malloc(sizeof *c);
  nearest_cache *cache = malloc(sizeof *cache);
  uint8_t *index = malloc(n ? n : 1);
  dg_status s = c && cache && index ? DG_OK : dg_fail(DG_ERR_OOM, "%s: the layout's labels (%zu pixels)", name, n);
  // The palette: the first whose colours every opaque pixel has exactly; else `target` when enough pixels
  // are near its colours (another palette may have colours nearer the blends along the edges: Cityscapes'
  // wall lies between the world's sky and road); else the one most pixels are near.
  int best = -1;
  coverage best_cv = {0}, target_cv = {0};
  for (int k = 0; s == DG_OK && k < n_cand; k++) {
    coverage cv;
    colours_of(cand[k], c);
    memset(cache->key, 0, sizeof cache->key);
    measure(c, cache, rgba, n, &cv);
    if (k == 0) target_cv = cv;
    if (cv.exact == cv.opaque) {
      best = k, best_cv = cv;
      break;
    }
    if (best < 0 || cv.near > best_cv.near) best = k, best_cv = cv;
  }
  if (s == DG_OK && best_cv.exact != best_cv.opaque && target_cv.near >= DG_LAYOUT_MIN_NEAR * (double)target_cv.opaque)
    best = 0, best_cv = target_cv;
  if (s == DG_OK && best_cv.near < DG_LAYOUT_MIN_NEAR * (double)best_cv.opaque) {
    long f = target_cv.first_far;
    const uint8_t *p = rgba + 4 * f;
    s = dg_fail(DG_ERR_FORMAT,
                "%s is not a colour-coded layout: pixel (%ld, %ld) has colour (%u, %u, %u), not in the palette, and only "
                "%.0f%% of its pixels are within %d of a class colour (%s, the nearest palette; at least %.0f%% needed)",
                name, f % width, f / width, p[0], p[1], p[2], 100.0 * best_cv.near / (double)best_cv.opaque,
                DG_LAYOUT_NEAR, cand_name[best], 100.0 * DG_LAYOUT_MIN_NEAR);
  }
  if (s == DG_OK) {
    colours_of(cand[best], c);
    memset(cache->key, 0, sizeof cache->key);
    s = label(c, cache, rgba, width, height, index, r);
  }
  if (s == DG_OK) {
    for (size_t i = 0; i < n; i++)
      index[i] = c->id[index[i]];
    r->painted_in = cand_name[best];
    if (best) dg_palette_convert_ids(cand[best], target, index, n, &r->conversion);
    *ids = index, index = NULL;
  }
  free(index), free(cache), free(c);
  for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT; b++)
    dg_palette_free(owned[b]);
  return s;
}

dg_status dg_layout_read_file(const char *path, const dg_palette *target, const dg_png_limits *limits, int *width,
                             int *height, uint8_t **ids, dg_layout_read_report *report) {
  dg_layout_read_report unused, *r = report ? report : &unused;
  memset(r, 0, sizeof *r);
  r->painted_in = dg_palette_title(target);
  dg_png_palette pal;
  dg_palette_to_png(target, &pal);
  int w0 = *width, h0 = *height;
  dg_status s = dg_png_read_label_limited(path, &pal, limits, width, height, ids);
  if (s == DG_OK) r->pixels = (size_t)*width * *height;
  if (s != DG_ERR_FORMAT) return s; // read exactly, or unreadable (a missing file, too large, ...)
  // Not exactly `target`'s ids or colours: read by colour (an indexed PNG by its PLTE colours; a JPEG).
  uint8_t *rgba = NULL;
  *width = w0, *height = h0;
  s = dg_image_read(path, 4, limits, width, height, &rgba);
  if (s == DG_OK) s = dg_layout_from_rgba(path, target, rgba, *width, *height, ids, r);
  free(rgba);
  return s;
}

void dg_layout_resize(const uint8_t *ids, int w, int h, uint8_t *out, int tw, int th) {
  uint32_t count[256] = {0};
  for (int ty = 0; ty < th; ty++) {
    int y0 = (int)((int64_t)ty * h / th), y1 = (int)(((int64_t)ty + 1) * h / th);
    if (y1 <= y0) y1 = y0 + 1; // enlarging: the one source row under it
    for (int tx = 0; tx < tw; tx++) {
      int x0 = (int)((int64_t)tx * w / tw), x1 = (int)(((int64_t)tx + 1) * w / tw);
      if (x1 <= x0) x1 = x0 + 1;
      int best = ids[(size_t)((y0 + y1) / 2) * w + (x0 + x1) / 2];
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          count[ids[(size_t)y * w + x]]++;
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
          int c = ids[(size_t)y * w + x];
          if (count[c] > count[best]) best = c;
        }
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          count[ids[(size_t)y * w + x]] = 0;
      out[(size_t)ty * tw + tx] = (uint8_t)best;
    }
  }
}

void dg_layout_read_summary(const dg_layout_read_report *r, const dg_palette *target, char *out, size_t size) {
  size_t used = 0;
  out[0] = 0;
  if (strcmp(r->painted_in, dg_palette_title(target))) {
    used += (size_t)snprintf(out, size, "painted in %s colours, converted to %s by class name", r->painted_in,
                             dg_palette_title(target));
    if (r->conversion.unmatched_count && used < size)
      used += (size_t)snprintf(out + used, size - used, " (%d classes without one, now unlabelled, %d pixels: %s)",
                               r->conversion.unmatched_count, r->conversion.unmatched_pixels, r->conversion.unmatched);
  }
  if ((r->snapped || r->filled) && used < size)
    snprintf(out + used, size - used,
             "%s%zu of %zu pixels (%.1f%%) not exactly a class colour (anti-aliasing, soft brushes or compression): "
             "%zu taken as the nearest class colour, %zu from their neighbours",
             used ? "; " : "", r->snapped + r->filled, r->pixels,
             r->pixels ? 100.0 * (double)(r->snapped + r->filled) / (double)r->pixels : 0.0, r->snapped, r->filled);
}
