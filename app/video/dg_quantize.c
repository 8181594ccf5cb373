// Median-cut palette and dithered mapping (dg_quantize.h).
#include "dg_quantize.h"

#include <stdlib.h>
#include <string.h>

const char *const dg_dither_names[DG_DITHER_COUNT] = {"none", "ordered", "floyd-steinberg"};

#define HBITS 5
#define HSIDE (1 << HBITS)
#define LBITS 6
#define LSIDE (1 << LBITS)
#define LUT_EMPTY 0xffff
// At most this many pixels enter the histogram (evenly strided over the clip).
#define MAX_SAMPLES (8u << 20)

typedef struct bin {
  uint8_t c[3]; // histogram coordinates
  int key;      // sort key (the coordinate on the axis being split)
  uint64_t n, sum[3];
} bin;

typedef struct box {
  int start, end; // bins [start, end)
  uint64_t n;
  int axis, range; // longest axis and its extent in bins
} box;

struct dg_quantizer {
  int n;
  uint8_t rgb[256 * 3];
  uint16_t *lut; // LSIDE^3 nearest indices, LUT_EMPTY until used
  int16_t *err;  // Floyd-Steinberg error rows: 2 x (width + 2) x 3
  int err_width;
};

static void box_measure(box *b, const bin *bins) {
  int lo[3] = {HSIDE, HSIDE, HSIDE}, hi[3] = {-1, -1, -1};
  b->n = 0;
  for (int i = b->start; i < b->end; i++) {
    for (int c = 0; c < 3; c++) {
      if (bins[i].c[c] < lo[c]) lo[c] = bins[i].c[c];
      if (bins[i].c[c] > hi[c]) hi[c] = bins[i].c[c];
    }
    b->n += bins[i].n;
  }
  b->axis = 0;
  for (int c = 1; c < 3; c++)
    if (hi[c] - lo[c] > hi[b->axis] - lo[b->axis]) b->axis = c;
  b->range = hi[b->axis] - lo[b->axis];
}

static int by_key(const void *a, const void *b) {
  const bin *x = a, *y = b;
  return x->key - y->key;
}

dg_status dg_quantizer_new(const dg_media *m, int max_colours, dg_quantizer **out) {
  *out = NULL;
  if (max_colours < 2 || max_colours > 256) return dg_fail(DG_ERR_ARG, "quantize: %d colours (2..256)", max_colours);
  if (m->channels != 3 && m->channels != 4) return dg_fail(DG_ERR_ARG, "quantize: %d channels (3 or 4)", m->channels);
  size_t pixels = (size_t)m->frames * m->width * m->height;
  if (pixels == 0) return dg_fail(DG_ERR_ARG, "quantize: no pixels");
  dg_quantizer *q = calloc(1, sizeof *q);
  bin *bins = calloc(HSIDE * HSIDE * HSIDE, sizeof *bins);
  box *boxes = calloc((size_t)max_colours, sizeof *boxes);
  if (q) q->lut = malloc(sizeof(uint16_t) * LSIDE * LSIDE * LSIDE);
  if (!q || !bins || !boxes || !q->lut) {
    if (q) free(q->lut);
    free(q), free(bins), free(boxes);
    return dg_fail(DG_ERR_OOM, "quantize: out of memory");
  }
  memset(q->lut, 0xff, sizeof(uint16_t) * LSIDE * LSIDE * LSIDE);
  size_t step = pixels > MAX_SAMPLES ? (pixels + MAX_SAMPLES - 1) / MAX_SAMPLES : 1;
  for (size_t i = 0; i < pixels; i += step) {
    const uint8_t *p = m->data + i * (size_t)m->channels;
    bin *b = &bins[((p[0] >> 3) << 10) | ((p[1] >> 3) << 5) | (p[2] >> 3)];
    b->n++;
    for (int c = 0; c < 3; c++)
      b->sum[c] += p[c];
  }
  // Occupied bins first, then median cut: split the box with the most pixels times extent at the
  // pixel-weighted median of its longest axis.
  int n_bins = 0;
  for (int i = 0; i < HSIDE * HSIDE * HSIDE; i++)
    if (bins[i].n) {
      bins[n_bins] = bins[i];
      bins[n_bins].c[0] = (uint8_t)(i >> 10), bins[n_bins].c[1] = (uint8_t)((i >> 5) & 31);
      bins[n_bins].c[2] = (uint8_t)(i & 31);
      n_bins++;
    }
  int n_boxes = 1;
  boxes[0] = (box){.start = 0, .end = n_bins};
  box_measure(&boxes[0], bins);
  while (n_boxes < max_colours) {
    int best = -1;
    double score = 0;
    for (int i = 0; i < n_boxes; i++) {
      double s = (double)boxes[i].n * boxes[i].range;
      if (boxes[i].end - boxes[i].start > 1 && boxes[i].range > 0 && s > score) score = s, best = i;
    }
    if (best < 0) break;
    box *b = &boxes[best];
    for (int i = b->start; i < b->end; i++)
      bins[i].key = bins[i].c[b->axis];
    qsort(bins + b->start, (size_t)(b->end - b->start), sizeof *bins, by_key);
    uint64_t acc = 0;
    int cut = b->start + 1;
    for (int i = b->start; i < b->end - 1; i++) {
      acc += bins[i].n;
      cut = i + 1;
      if (2 * acc >= b->n) break;
    }
    boxes[n_boxes] = (box){.start = cut, .end = b->end};
    b->end = cut;
    box_measure(b, bins);
    box_measure(&boxes[n_boxes], bins);
    n_boxes++;
  }
  for (int i = 0; i < n_boxes; i++) {
    uint64_t sum[3] = {0}, n = 0;
    for (int j = boxes[i].start; j < boxes[i].end; j++) {
      n += bins[j].n;
      for (int c = 0; c < 3; c++)
        sum[c] += bins[j].sum[c];
    }
    for (int c = 0; c < 3; c++)
      q->rgb[3 * i + c] = (uint8_t)((sum[c] + n / 2) / n);
  }
  q->n = n_boxes;
  free(bins);
  free(boxes);
  *out = q;
  return DG_OK;
}

void dg_quantizer_free(dg_quantizer *q) {
  if (!q) return;
  free(q->lut);
  free(q->err);
  free(q);
}

const uint8_t *dg_quantizer_palette(const dg_quantizer *q, int *n) {
  *n = q->n;
  return q->rgb;
}

static int clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

// The palette index nearest to (r, g, b), through the table cell of its top 6 bits (filled with the
// colour nearest to the cell's centre).
static int nearest(dg_quantizer *q, int r, int g, int b) {
  int cell = ((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2);
  if (q->lut[cell] == LUT_EMPTY) {
    int cr = (r & ~3) + 2, cg = (g & ~3) + 2, cb = (b & ~3) + 2, best = 0, bd = 1 << 30;
    for (int i = 0; i < q->n; i++) {
      int dr = cr - q->rgb[3 * i], dg = cg - q->rgb[3 * i + 1], db = cb - q->rgb[3 * i + 2];
      int d = 2 * dr * dr + 4 * dg * dg + 3 * db * db; // weighted towards the eye's sensitivity
      if (d < bd) bd = d, best = i;
    }
    q->lut[cell] = (uint16_t)best;
  }
  return q->lut[cell];
}

static const uint8_t bayer8[8][8] = {{0, 32, 8, 40, 2, 34, 10, 42},  {48, 16, 56, 24, 50, 18, 58, 26},
                                     {12, 44, 4, 36, 14, 46, 6, 38}, {60, 28, 52, 20, 62, 30, 54, 22},
                                     {3, 35, 11, 43, 1, 33, 9, 41},  {51, 19, 59, 27, 49, 17, 57, 25},
                                     {15, 47, 7, 39, 13, 45, 5, 37}, {63, 31, 55, 23, 61, 29, 53, 21}};

dg_status dg_quantizer_map(dg_quantizer *q, dg_dither dither, const uint8_t *px, int channels, int width, int height,
                           uint8_t *out, int stride) {
  if (channels != 3 && channels != 4) return dg_fail(DG_ERR_ARG, "quantize: %d channels (3 or 4)", channels);
  if ((unsigned)dither >= DG_DITHER_COUNT) return dg_fail(DG_ERR_ARG, "quantize: unknown dither %d", (int)dither);
  if (dither == DG_DITHER_FLOYD_STEINBERG && q->err_width < width) {
    free(q->err);
    q->err = malloc(sizeof(int16_t) * 2 * 3 * (size_t)(width + 2));
    if (!q->err) {
      q->err_width = 0;
      return dg_fail(DG_ERR_OOM, "quantize: out of memory");
    }
    q->err_width = width;
  }
  if (dither == DG_DITHER_FLOYD_STEINBERG) memset(q->err, 0, sizeof(int16_t) * 2 * 3 * (size_t)(width + 2));
  for (int y = 0; y < height; y++) {
    const uint8_t *row = px + (size_t)y * width * channels;
    uint8_t *o = out + (size_t)y * stride;
    // Error rows (one pixel of margin each side): this row's incoming error and the next row's.
    int16_t *cur = q->err ? q->err + (size_t)(y & 1) * 3 * (width + 2) + 3 : NULL;
    int16_t *next = q->err ? q->err + (size_t)((y + 1) & 1) * 3 * (width + 2) + 3 : NULL;
    if (dither == DG_DITHER_FLOYD_STEINBERG) memset(next - 3, 0, sizeof(int16_t) * 3 * (size_t)(width + 2));
    for (int x = 0; x < width; x++) {
      int v[3];
      for (int c = 0; c < 3; c++)
        v[c] = row[x * channels + c];
      if (dither == DG_DITHER_ORDERED) {
        int d = bayer8[y & 7][x & 7] / 4 - 8; // -8..7
        for (int c = 0; c < 3; c++)
          v[c] = clamp255(v[c] + d);
      } else if (dither == DG_DITHER_FLOYD_STEINBERG) {
        for (int c = 0; c < 3; c++)
          v[c] = clamp255(v[c] + cur[3 * x + c] / 16);
      }
      int i = nearest(q, v[0], v[1], v[2]);
      o[x] = (uint8_t)i;
      if (dither == DG_DITHER_FLOYD_STEINBERG)
        for (int c = 0; c < 3; c++) {
          int e = v[c] - q->rgb[3 * i + c];
          cur[3 * (x + 1) + c] += (int16_t)(7 * e);
          next[3 * (x - 1) + c] += (int16_t)(3 * e);
          next[3 * x + c] += (int16_t)(5 * e);
          next[3 * (x + 1) + c] += (int16_t)e;
        }
    }
  }
  return DG_OK;
}
