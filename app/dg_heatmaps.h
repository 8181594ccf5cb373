// Attention heatmaps of marked words over a generated image, for the CLI's --heatmaps strip and the
// editor: the token maps of dg_attn_maps averaged over the steps (as Attend-and-Excite shows them),
// each word's map the mean of its tokens' (dg_attn_maps_word), upsampled bilinearly to the image,
// scaled from its own minimum to its maximum (A&E scales by the maximum only; the small models' maps are
// flat enough that only the range shows where a word attends), coloured by a perceptual colormap (inferno, from a 9-entry table) and
// blended over the image.
#pragma once
#include <stdint.h>

#include "dg_marks.h"

// The average of the per-step token maps [n, mh, mw] (dg_generate_params.on_attn), fed step by step.
typedef struct dg_heatmaps {
  float *sum; // [n, mh, mw]
  int n, mh, mw, steps;
} dg_heatmaps;
// Adds one step's maps (the first call sets the sizes; a later one of other sizes is an error).
dg_status dg_heatmaps_add(dg_heatmaps *h, const float *maps, int n, int mh, int mw);
void dg_heatmaps_clear(dg_heatmaps *h);

// What to show: the marks' words in dg_marks_list order; with no marks, those of the suggestion (as the
// caller resolved it into *marks). At most max refs.
int dg_heatmaps_refs(const dg_marks *marks, dg_mark_ref *refs, int max);
// The map [mh * mw] of ref (its word's tokens) from the averaged token maps of h.
void dg_heatmaps_word(const dg_heatmaps *h, const dg_marks *marks, const dg_mark_ref *ref, float *map);

// inferno(t) for t in [0, 1] (clamped).
void dg_heatmaps_colour(float t, uint8_t rgb[3]);
// One tile: rgb (w x h, RGB8) with map (mh x mw) upsampled (bilinear, half-pixel centres), scaled from its
// minimum to its maximum, coloured and blended with weight alpha: out w x h RGB8.
void dg_heatmaps_tile(const uint8_t *rgb, int w, int h, const float *map, int mh, int mw, float alpha, uint8_t *out);
// A strip of the tiles of every ref side by side: *out (malloc'd) of (n_refs * w) x h RGB8.
dg_status dg_heatmaps_strip(const dg_heatmaps *hm, const dg_marks *marks, const dg_mark_ref *refs, int n_refs,
                            const uint8_t *rgb, int w, int h, uint8_t **out);
