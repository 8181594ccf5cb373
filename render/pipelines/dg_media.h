// What a generation task produces, and what jobs and results carry: an image (one frame) or a
// sequence of frames (a video), 8 bits per channel, channels interleaved, frame after frame.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

typedef struct dg_media {
  int frames, width, height;
  int channels;  // 3 (RGB) or 4 (RGBA)
  uint8_t *data; // frames * height * width * channels bytes (malloc'd; dg_media_clear frees it)
} dg_media;

// A zeroed media of that size; `out` is cleared first on failure.
dg_status dg_media_alloc(dg_media *out, int frames, int width, int height, int channels);
void dg_media_clear(dg_media *m);
size_t dg_media_frame_bytes(const dg_media *m);
uint8_t *dg_media_frame(const dg_media *m, int i);
