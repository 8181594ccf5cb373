#include "dg_media.h"

#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"

dg_status dg_media_alloc(dg_media *out, int frames, int width, int height, int channels) {
  memset(out, 0, sizeof *out);
  if (frames < 1 || width < 1 || height < 1 || (channels != 3 && channels != 4))
    return dg_fail(DG_ERR_ARG, "media: %d frames of %dx%d with %d channels", frames, width, height, channels);
  size_t bytes = (size_t)frames * width * height * channels;
  out->data = calloc(bytes, 1);
  if (!out->data) return dg_memory_fail("the result", bytes);
  *out = (dg_media){frames, width, height, channels, out->data};
  return DG_OK;
}

void dg_media_clear(dg_media *m) {
  free(m->data);
  memset(m, 0, sizeof *m);
}

size_t dg_media_frame_bytes(const dg_media *m) { return (size_t)m->width * m->height * m->channels; }

uint8_t *dg_media_frame(const dg_media *m, int i) { return m->data + (size_t)i * dg_media_frame_bytes(m); }
