#include "dg_style.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"

struct dg_style_image {
  atomic_int refs;
  int width, height;
  uint8_t *rgba;
  char *source;
};

dg_style_image *dg_style_image_new(int width, int height, const uint8_t *rgba, const char *source) {
  if (width < 1 || height < 1 || width > DG_STYLE_MAX_SIDE || height > DG_STYLE_MAX_SIDE) {
    dg_fail(DG_ERR_ARG, "style image %s: %dx%d is outside 1..%d a side", source ? source : "", width, height,
            DG_STYLE_MAX_SIDE);
    return NULL;
  }
  size_t bytes = (size_t)width * height * 4;
  dg_style_image *img = calloc(1, sizeof *img);
  uint8_t *px = img ? malloc(bytes) : NULL;
  if (!px) {
    free(img);
    dg_memory_fail("a style image", bytes);
    return NULL;
  }
  memcpy(px, rgba, bytes);
  atomic_init(&img->refs, 1);
  img->width = width, img->height = height, img->rgba = px;
  img->source = strdup(source ? source : "");
  return img;
}

dg_style_image *dg_style_image_ref(dg_style_image *img) {
  if (img) atomic_fetch_add(&img->refs, 1);
  return img;
}

void dg_style_image_unref(dg_style_image *img) {
  if (!img || atomic_fetch_sub(&img->refs, 1) != 1) return;
  free(img->rgba);
  free(img->source);
  free(img);
}

int dg_style_image_width(const dg_style_image *img) { return img->width; }
int dg_style_image_height(const dg_style_image *img) { return img->height; }
const uint8_t *dg_style_image_rgba(const dg_style_image *img) { return img->rgba; }
const char *dg_style_image_source(const dg_style_image *img) { return img->source; }

dg_status dg_style_image_media(const dg_style_image *img, dg_media *out) {
  size_t n = (size_t)img->width * img->height;
  uint8_t *rgb = malloc(n * 3);
  if (!rgb) return dg_memory_fail("a style image as RGB", n * 3);
  for (size_t p = 0; p < n; p++)
    memcpy(rgb + 3 * p, img->rgba + 4 * p, 3);
  *out = (dg_media){.frames = 1, .width = img->width, .height = img->height, .channels = 3, .data = rgb};
  return DG_OK;
}

void dg_style_init(dg_style *s) { *s = (dg_style){{NULL, NULL}, DG_STYLIZE_FDA, DG_STYLIZE_DEFAULT_STRENGTH}; }

void dg_style_clear(dg_style *s) {
  dg_style_image_unref(s->slot[0]);
  dg_style_image_unref(s->slot[1]);
  dg_style_init(s);
}

void dg_style_copy(dg_style *dst, const dg_style *src) {
  dg_style_image *a = dg_style_image_ref(src->slot[0]), *b = dg_style_image_ref(src->slot[1]);
  dg_style_clear(dst);
  *dst = *src;
  dst->slot[0] = a, dst->slot[1] = b;
}

bool dg_style_equal(const dg_style *a, const dg_style *b) {
  return a->slot[0] == b->slot[0] && a->slot[1] == b->slot[1] && a->method == b->method && a->strength == b->strength;
}

dg_status dg_style_check(const dg_style *s) {
  if (s->method != DG_STYLIZE_FDA && s->method != DG_STYLIZE_MNE)
    return dg_fail(DG_ERR_ARG, "style: method %d is neither fda nor mne", (int)s->method);
  if (!(s->strength >= 0 && s->strength <= 1))
    return dg_fail(DG_ERR_ARG, "style: strength %g is outside 0..1", s->strength);
  return DG_OK;
}

const char *dg_style_slot_name(dg_style_slot slot) { return slot == DG_STYLE_CONTENT ? "content" : "exemplar"; }

char *dg_style_describe(const dg_style *s) {
  return g_strdup_printf("%s %.2f of %s", dg_stylize_method_name(s->method), s->strength,
                         s->slot[1] ? s->slot[1]->source : "nothing");
}
