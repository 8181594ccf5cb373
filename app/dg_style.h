// The style panel's state in a document (issue #20, style exemplars): the content slot and the exemplar
// slot, each an image with where it came from ("result 3", "file /x/y.png", "world 12345"), the method
// (FDA or the Masked Noise Encoder, render/pipelines/dg_stylize.h) and the strength. Images are immutable
// and reference-counted (atomically: a save copies the document on the UI thread and writes it on a worker),
// so an undo step that keeps the whole state before and after costs two pointers per slot.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_status.h"
#include "dg_stylize.h"

// An RGBA8 image (rows packed) and its source. Never changed once made.
typedef struct dg_style_image dg_style_image;
// Copies rgba (width x height, 1..DG_STYLE_MAX_SIDE a side); NULL (error set) on a bad size or no memory.
#define DG_STYLE_MAX_SIDE 4096
dg_style_image *dg_style_image_new(int width, int height, const uint8_t *rgba, const char *source);
dg_style_image *dg_style_image_ref(dg_style_image *img);
void dg_style_image_unref(dg_style_image *img); // NULL is fine
int dg_style_image_width(const dg_style_image *img);
int dg_style_image_height(const dg_style_image *img);
const uint8_t *dg_style_image_rgba(const dg_style_image *img);
const char *dg_style_image_source(const dg_style_image *img);
// RGB (3 channels) of the image as engine media (data malloc'd; dg_media_clear frees it); DG_ERR_OOM.
dg_status dg_style_image_media(const dg_style_image *img, dg_media *out);

typedef enum dg_style_slot { DG_STYLE_CONTENT = 0, DG_STYLE_EXEMPLAR = 1 } dg_style_slot;

typedef struct dg_style {
  dg_style_image *slot[2]; // content, exemplar; NULL: empty (each holds a reference)
  dg_stylize_method method;
  double strength; // 0 .. 1
} dg_style;

// Empty slots, FDA, DG_STYLIZE_DEFAULT_STRENGTH.
void dg_style_init(dg_style *s);
void dg_style_clear(dg_style *s); // drops the references; leaves an initialised state
// dst (initialised) takes references to src's images.
void dg_style_copy(dg_style *dst, const dg_style *src);
bool dg_style_equal(const dg_style *a, const dg_style *b);
// DG_ERR_ARG naming the value: a strength outside 0..1 or another method.
dg_status dg_style_check(const dg_style *s);
// "content" / "exemplar".
const char *dg_style_slot_name(dg_style_slot slot);
// What a styled result records: "fda 0.8 of world 12345" (method, strength, exemplar's source). g_free.
char *dg_style_describe(const dg_style *s);
