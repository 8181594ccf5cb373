// PNG files: RGB8/RGBA8 images, 8-bit palette-indexed label maps, tEXt/iTXt text chunks (the A1111
// `parameters` chunk, JSON job chunks), and a strict label-map reader. Only regular files are read (at
// most 1 GiB); image sizes are checked from the header before decoding. Reading uses libpng, whose errors
// are caught (setjmp), except for text chunks, read without decoding the image; writing uses libdeflate.
// Errors are returned as a dg_status whose message names the file and the problem.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

// Largest accepted width or height and pixel count on read, so a hostile header cannot exhaust memory.
#define DG_PNG_MAX_SIDE 32768
#define DG_PNG_MAX_PIXELS (1 << 28)
#define DG_PNG_UNLABELLED 255

typedef struct dg_png_text {
  const char *key;  // 1..79 Latin-1 characters
  const char *text; // written as tEXt when plain ASCII, else as iTXt (UTF-8)
} dg_png_text;

typedef struct dg_png_write_opts {
  int level; // deflate level 1..9 (libdeflate's, like zlib's); 0 = 6
  const dg_png_text *texts;
  int n_texts;
} dg_png_write_opts;

// A label palette: class id i has colour rgb[i]; pixels of colour `unlabelled_rgb` read as 255.
typedef struct dg_png_palette {
  int n_classes; // 1..255
  uint8_t rgb[255][3];
  uint8_t unlabelled_rgb[3];
} dg_png_palette;

// `opts` may be NULL (default level, no text).
dg_status dg_png_write_rgb8(const char *path, int width, int height, const uint8_t *rgb, const dg_png_write_opts *opts);
dg_status dg_png_write_rgba8(const char *path, int width, int height, const uint8_t *rgba,
                             const dg_png_write_opts *opts);
// RGB (channels 3) or RGBA (4) written to a temporary name beside `path` and renamed, so a failure leaves
// neither a partial file nor the temporary one.
dg_status dg_png_write_atomic(const char *path, int width, int height, const uint8_t *pixels, int channels,
                              const dg_png_write_opts *opts);
// An 8-bit palette PNG: pixel value = class id (< n_classes) or 255; the PLTE chunk holds the class
// colours (256 entries, unused ones and 255 get the unlabelled colour) so viewers show the colours.
dg_status dg_png_write_label(const char *path, int width, int height, const uint8_t *ids, const dg_png_palette *pal,
                             const dg_png_write_opts *opts);

// The same PNGs in memory (`name` for messages): *png is malloc'd, *size its length.
dg_status dg_png_encode_rgba8(const char *name, int width, int height, const uint8_t *rgba,
                              const dg_png_write_opts *opts, uint8_t **png, size_t *size);
dg_status dg_png_encode_label(const char *name, int width, int height, const uint8_t *ids, const dg_png_palette *pal,
                              const dg_png_write_opts *opts, uint8_t **png, size_t *size);

// Size limits checked from the IHDR header, before any pixel is decoded or allocated.
typedef struct dg_png_limits {
  int width, height; // > 0: the image must be exactly this wide / high
  int max_side;      // > 0: neither side may exceed it (DG_PNG_MAX_SIDE and DG_PNG_MAX_PIXELS always apply)
} dg_png_limits;

// Reads any PNG as RGB8 (palette and grey expanded, 16-bit reduced, alpha dropped). *rgb is malloc'd.
dg_status dg_png_read_rgb8(const char *path, int *width, int *height, uint8_t **rgb);
dg_status dg_png_read_rgb8_mem(const void *data, size_t size, const char *name, int *width, int *height, uint8_t **rgb);
// The same within `limits` (may be NULL).
dg_status dg_png_read_rgb8_limited(const char *path, const dg_png_limits *limits, int *width, int *height,
                                   uint8_t **rgb);
// Width and height from the header alone (signature and IHDR); nothing is decoded.
dg_status dg_png_read_size_mem(const void *data, size_t size, const char *name, int *width, int *height);
// Reads any PNG as RGBA8 (as above, alpha kept; opaque where the file has none). *rgba is malloc'd.
dg_status dg_png_read_rgba8_mem(const void *data, size_t size, const char *name, int *width, int *height,
                                uint8_t **rgba);
dg_status dg_png_read_rgba8_limited(const char *path, const dg_png_limits *limits, int *width, int *height,
                                    uint8_t **rgba);
// RGB8 (channels 3) or RGBA8 (4) from memory within `limits` (may be NULL).
dg_status dg_png_read_pixels_mem(const void *data, size_t size, const char *name, int channels,
                                 const dg_png_limits *limits, int *width, int *height, uint8_t **pixels);

// Reads a label map strictly. Accepted: 8-bit palette or 8-bit grey (pixel value = class id, < n_classes
// or 255), or 8-bit RGB/RGBA colour-coded in `pal` (fully transparent pixels read as unlabelled).
// Anything else (other bit depths, unknown colours or ids, partial alpha, truncated or corrupt data,
// a size different from a non-zero *width/*height given on entry, checked from the header before
// decoding) is an error. *ids is malloc'd.
dg_status dg_png_read_label(const char *path, const dg_png_palette *pal, int *width, int *height, uint8_t **ids);
dg_status dg_png_read_label_mem(const void *data, size_t size, const char *name, const dg_png_palette *pal, int *width,
                                int *height, uint8_t **ids);
// The same within `limits` (may be NULL) instead of the size given on entry.
dg_status dg_png_read_label_limited(const char *path, const dg_png_palette *pal, const dg_png_limits *limits,
                                    int *width, int *height, uint8_t **ids);

// Largest text of one chunk after decompression, and of all of a file's text chunks together.
#define DG_PNG_MAX_TEXT (16u << 20)
#define DG_PNG_MAX_TEXTS (64u << 20)

// The text chunks of a PNG in file order, as UTF-8, read from the chunk stream without decoding any
// pixel: tEXt and zTXt hold Latin-1 (PNG specification) and are converted; iTXt holds UTF-8 and is
// validated. A chunk whose text cannot be read (invalid UTF-8, a NUL byte, bad compression, a damaged
// CRC) keeps its key with a NULL text and a message in `problems`; dg_png_text_find passes over it.
typedef struct dg_png_text_list {
  int n;
  char **keys;
  char **texts;
  char **problems; // NULL where the text was read
} dg_png_text_list;
dg_status dg_png_read_texts(const char *path, dg_png_text_list *out);
// The text for `key`, or NULL.
const char *dg_png_text_find(const dg_png_text_list *list, const char *key);
// Why the chunk with `key` could not be read ("'KEY' iTXt chunk: not valid UTF-8"), or NULL.
const char *dg_png_text_problem(const dg_png_text_list *list, const char *key);
void dg_png_text_list_free(dg_png_text_list *list);
