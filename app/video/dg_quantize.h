// Colour quantisation for palette formats (GIF): one palette for a whole clip, made by median cut over a
// 5-bit-per-channel histogram of its pixels (box colours are the means of the pixels in them), and the
// mapping of RGB pixels to palette indices, plain, with an 8x8 ordered (Bayer) dither, or with
// Floyd-Steinberg error diffusion. Nearest colours are looked up in a 6-bit-per-channel table filled on
// first use.
#pragma once
#include <stdint.h>

#include "dg_media.h"
#include "dg_status.h"

typedef enum { DG_DITHER_NONE, DG_DITHER_ORDERED, DG_DITHER_FLOYD_STEINBERG, DG_DITHER_COUNT } dg_dither;
extern const char *const dg_dither_names[DG_DITHER_COUNT]; // "none", "ordered", "floyd-steinberg"

typedef struct dg_quantizer dg_quantizer;

// A palette of at most `max_colours` (2..256) for every frame of `m` (3 or 4 channels; alpha ignored).
dg_status dg_quantizer_new(const dg_media *m, int max_colours, dg_quantizer **out);
void dg_quantizer_free(dg_quantizer *q);
// The palette: *n colours, rgb[3 * i + c].
const uint8_t *dg_quantizer_palette(const dg_quantizer *q, int *n);
// Maps one frame (`channels` 3 or 4, rows packed) to indices: out[y * stride + x]. Not thread-safe (the
// lookup table fills as it goes).
dg_status dg_quantizer_map(dg_quantizer *q, dg_dither dither, const uint8_t *pixels, int channels, int width,
                           int height, uint8_t *out, int stride);
