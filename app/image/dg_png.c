#include "dg_png.h"

#include <errno.h>
#include <glib.h>
#include <libdeflate.h>
#include <limits.h>
#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dg_file.h"

// ---------------------------------------------------------------------------------------------
// Shared error plumbing: libpng reports through on_error, which records the message and jumps back.

typedef struct png_ctx {
  const char *name;
  char msg[256];
  // reading from memory
  const uint8_t *data;
  size_t size, pos;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
  png_ctx *c = png_get_error_ptr(png);
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void on_read(png_structp png, png_bytep out, size_t n) {
  png_ctx *c = png_get_io_ptr(png);
  if (n > c->size - c->pos) png_error(png, "file is truncated");
  memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

// Only regular files (a FIFO or device is refused at once, never waited on or read without end).
static dg_status read_file(const char *path, char **data, size_t *size) {
  dg_status s = dg_file_read(path, (size_t)1 << 30, data, size);
  return s == DG_OK ? s : dg_fail(s, "png: %s", dg_last_error());
}

// ---------------------------------------------------------------------------------------------
// Reading

enum read_mode { READ_RGB8, READ_RGBA8, READ_LABEL };

typedef struct decoded {
  int width, height, channels; // channels of `pixels`
  int color_type;              // as in the file
  uint8_t *pixels;
} decoded;

void dg_png_text_list_free(dg_png_text_list *list) {
  if (!list) return;
  for (int i = 0; i < list->n; i++) {
    free(list->keys[i]);
    free(list->texts[i]);
    free(list->problems[i]);
  }
  free(list->keys);
  free(list->texts);
  free(list->problems);
  memset(list, 0, sizeof *list);
}

const char *dg_png_text_find(const dg_png_text_list *list, const char *key) {
  for (int i = 0; i < list->n; i++)
    if (list->texts[i] && !strcmp(list->keys[i], key)) return list->texts[i];
  return NULL;
}

const char *dg_png_text_problem(const dg_png_text_list *list, const char *key) {
  for (int i = 0; i < list->n; i++)
    if (list->problems[i] && !strcmp(list->keys[i], key)) return list->problems[i];
  return NULL;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// The signature, then chunk lengths that fit in the file (libpng would otherwise allocate, and clear, a
// corrupt length before noticing that the data is missing), the first chunk IHDR. False with c->msg set.
static bool check_chunks(png_ctx *c) {
  if (c->size < 8 || png_sig_cmp(c->data, 0, 8)) {
    snprintf(c->msg, sizeof c->msg, c->size < 8 ? "file is too short to be a PNG (%zu bytes)" : "not a PNG file",
             c->size);
    return false;
  }
  for (size_t p = 8; p + 8 <= c->size;) {
    uint32_t len = be32(c->data + p);
    if ((uint64_t)len + 12 > c->size - p) {
      char type[5] = {0};
      for (int k = 0; k < 4; k++) {
        char ch = (char)c->data[p + 4 + k];
        type[k] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ? ch : '?';
      }
      snprintf(c->msg, sizeof c->msg,
               "file is truncated or corrupt: chunk '%s' at byte %zu claims %u bytes, %zu remain", type, p, len,
               c->size - p - 8);
      return false;
    }
    p += (size_t)len + 12;
  }
  if (c->size < 8 + 12 + 13 || be32(c->data + 8) != 13 || memcmp(c->data + 12, "IHDR", 4)) {
    snprintf(c->msg, sizeof c->msg, "file is corrupt: it does not start with an IHDR chunk");
    return false;
  }
  return true;
}

// The size in the IHDR header against `lim`: refused before anything is decoded.
static dg_status check_size(const png_ctx *c, const char *what, const dg_png_limits *lim) {
  uint32_t w = be32(c->data + 16), h = be32(c->data + 20);
  if (!lim) return DG_OK;
  if ((lim->width > 0 && w != (uint32_t)lim->width) || (lim->height > 0 && h != (uint32_t)lim->height))
    return dg_fail(DG_ERR_FORMAT, "png: %s '%s' is %ux%u (WxH), expected %dx%d", what, c->name, w, h, lim->width,
                   lim->height);
  if (lim->max_side > 0 && (w > (uint32_t)lim->max_side || h > (uint32_t)lim->max_side))
    return dg_fail(DG_ERR_FORMAT, "png: %s '%s' is %ux%u (WxH), larger than %d on a side (the largest supported)", what,
                   c->name, w, h, lim->max_side);
  return DG_OK;
}

// Decodes `c`'s memory buffer, which passed check_chunks. On error returns false with c->msg set and
// nothing allocated in *out.
static bool decode(png_ctx *c, enum read_mode mode, decoded *out) {
  memset(out, 0, sizeof *out);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  png_infop end_info = info ? png_create_info_struct(png) : NULL;
  if (!end_info) {
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    snprintf(c->msg, sizeof c->msg, "out of memory");
    return false;
  }
  // Everything allocated after setjmp lives in `out` (not a local), so the error path can free it.
  volatile decoded *vo = out;
  png_bytep *volatile rows = NULL;
  if (setjmp(png_jmpbuf(png))) {
    free(rows);
    free(vo->pixels);
    vo->pixels = NULL;
    png_destroy_read_struct(&png, &info, &end_info);
    return false;
  }
  png_set_user_limits(png, DG_PNG_MAX_SIDE, DG_PNG_MAX_SIDE);
  // No chunk can be longer than the file: a corrupt length must not allocate more than that.
  png_set_chunk_malloc_max(png, c->size < (64u << 20) ? c->size + 64 : 64u << 20);
  png_set_read_fn(png, c, on_read);
  png_read_info(png, info);
  png_uint_32 w, h;
  int depth, color, interlace;
  png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
  if ((uint64_t)w * h > DG_PNG_MAX_PIXELS)
    png_error(png, "image is too large"); // message completed below with the size
  // Deflate expands at most ~1032:1, so a header claiming more raw bytes than the file could hold is
  // corrupt; refusing it avoids allocating for pixels that cannot exist.
  int ch = color == PNG_COLOR_TYPE_RGB          ? 3
           : color == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
           : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                : 1;
  uint64_t raw = (((uint64_t)w * ch * depth + 7) / 8 + 1) * h;
  if (raw > 1100ull * c->size + 65536) {
    snprintf(c->msg, sizeof c->msg, "header claims %ux%u pixels, more than %zu bytes of data can hold (corrupt size)",
             (unsigned)w, (unsigned)h, c->size);
    png_longjmp(png, 1);
  }
  out->width = (int)w;
  out->height = (int)h;
  out->color_type = color;
  int channels;
  if (mode == READ_LABEL) {
    if (depth != 8 || (color != PNG_COLOR_TYPE_PALETTE && color != PNG_COLOR_TYPE_GRAY && color != PNG_COLOR_TYPE_RGB &&
                       color != PNG_COLOR_TYPE_RGB_ALPHA)) {
      snprintf(c->msg, sizeof c->msg,
               "a label map must be 8-bit indexed, grey, RGB or RGBA; this one has bit depth %d and colour type %d",
               depth, color);
      png_longjmp(png, 1);
    }
    channels = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
  } else {
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (depth == 16) png_set_strip_16(png);
    if (mode == READ_RGBA8) {
      if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
      else if (!(color & PNG_COLOR_MASK_ALPHA))
        png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
      channels = 4;
    } else {
      if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
      channels = 3;
    }
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  size_t stride = (size_t)w * channels;
  if (png_get_rowbytes(png, info) != stride) png_error(png, "unexpected row size after conversion");
  vo->pixels = malloc(stride * h);
  rows = malloc(h * sizeof *rows);
  if (!vo->pixels || !rows) png_error(png, "out of memory for the pixels");
  for (png_uint_32 y = 0; y < h; y++)
    rows[y] = vo->pixels + y * stride;
  png_read_image(png, rows);
  png_read_end(png, end_info);
  free(rows);
  out->channels = channels;
  png_destroy_read_struct(&png, &info, &end_info);
  return true;
}

static dg_status decode_failed(png_ctx *c, const char *what) {
  if (!strcmp(c->msg, "image is too large"))
    return dg_fail(DG_ERR_FORMAT, "png: '%s': %s: more than %d pixels or a side over %d", c->name, c->msg,
                   DG_PNG_MAX_PIXELS, DG_PNG_MAX_SIDE);
  return dg_fail(strstr(c->msg, "out of memory") ? DG_ERR_OOM : DG_ERR_FORMAT, "png: cannot read %s '%s': %s", what,
                 c->name, c->msg);
}

// Structure, then the header size against `lim`, then the pixels.
static dg_status read_mem(png_ctx *c, enum read_mode mode, const char *what, const dg_png_limits *lim, decoded *d) {
  memset(d, 0, sizeof *d);
  if (!check_chunks(c)) return decode_failed(c, what);
  DG_TRY(check_size(c, what, lim));
  return decode(c, mode, d) ? DG_OK : decode_failed(c, what);
}

dg_status dg_png_read_size_mem(const void *data, size_t size, const char *name, int *width, int *height) {
  png_ctx c = {.name = name, .data = data, .size = size};
  if (!check_chunks(&c)) return decode_failed(&c, "image");
  uint32_t w = be32(c.data + 16), h = be32(c.data + 20);
  if (!w || !h || w > DG_PNG_MAX_SIDE || h > DG_PNG_MAX_SIDE || (uint64_t)w * h > DG_PNG_MAX_PIXELS)
    return dg_fail(DG_ERR_FORMAT, "png: '%s': header claims %ux%u pixels: none, more than %d or a side over %d", name,
                   w, h, DG_PNG_MAX_PIXELS, DG_PNG_MAX_SIDE);
  *width = (int)w;
  *height = (int)h;
  return DG_OK;
}

static dg_status read_pixels_mem(const void *data, size_t size, const char *name, enum read_mode mode,
                                 const dg_png_limits *lim, int *width, int *height, uint8_t **pixels) {
  png_ctx c = {.name = name, .data = data, .size = size};
  decoded d;
  DG_TRY(read_mem(&c, mode, "image", lim, &d));
  *width = d.width;
  *height = d.height;
  *pixels = d.pixels;
  return DG_OK;
}

dg_status dg_png_read_rgb8_mem(const void *data, size_t size, const char *name, int *width, int *height,
                               uint8_t **rgb) {
  return read_pixels_mem(data, size, name, READ_RGB8, NULL, width, height, rgb);
}

dg_status dg_png_read_rgba8_mem(const void *data, size_t size, const char *name, int *width, int *height,
                                uint8_t **rgba) {
  return read_pixels_mem(data, size, name, READ_RGBA8, NULL, width, height, rgba);
}

dg_status dg_png_read_pixels_mem(const void *data, size_t size, const char *name, int channels,
                                 const dg_png_limits *limits, int *width, int *height, uint8_t **pixels) {
  if (channels != 3 && channels != 4) return dg_fail(DG_ERR_ARG, "png: %d channels (3 or 4)", channels);
  return read_pixels_mem(data, size, name, channels == 3 ? READ_RGB8 : READ_RGBA8, limits, width, height, pixels);
}

static int find_color(const dg_png_palette *pal, const uint8_t *p) {
  for (int k = 0; k < pal->n_classes; k++)
    if (pal->rgb[k][0] == p[0] && pal->rgb[k][1] == p[1] && pal->rgb[k][2] == p[2]) return k;
  if (pal->unlabelled_rgb[0] == p[0] && pal->unlabelled_rgb[1] == p[1] && pal->unlabelled_rgb[2] == p[2])
    return DG_PNG_UNLABELLED;
  return -1;
}

static dg_status read_label(const void *data, size_t size, const char *name, const dg_png_palette *pal,
                            const dg_png_limits *lim, int *width, int *height, uint8_t **ids) {
  if (!pal || pal->n_classes < 1 || pal->n_classes > 255)
    return dg_fail(DG_ERR_ARG, "png: label palette for '%s' must have 1..255 classes", name);
  png_ctx c = {.name = name, .data = data, .size = size};
  decoded d;
  DG_TRY(read_mem(&c, READ_LABEL, "label map", lim, &d));
  const char *kind = d.channels == 1 ? (d.color_type == PNG_COLOR_TYPE_PALETTE ? "indexed" : "grey") : "colour";
  dg_status s = DG_OK;
  size_t n = (size_t)d.width * d.height;
  uint8_t *out = d.pixels; // converted in place: the output is never wider than the input
  int last = -1;           // colour-coded images repeat colours; remember the last lookup
  uint8_t last_rgb[3] = {0};
  for (size_t i = 0; s == DG_OK && i < n; i++) {
    int x = (int)(i % d.width), y = (int)(i / d.width);
    if (d.channels == 1) {
      uint8_t v = d.pixels[i];
      if (v >= pal->n_classes && v != DG_PNG_UNLABELLED)
        s = dg_fail(DG_ERR_FORMAT,
                    "png: %s label map '%s': pixel (%d, %d) has value %u, not a class id (0..%d) or %d (unlabelled)",
                    kind, name, x, y, v, pal->n_classes - 1, DG_PNG_UNLABELLED);
      continue;
    }
    const uint8_t *p = d.pixels + i * d.channels;
    if (d.channels == 4 && p[3] != 255) {
      if (p[3] == 0) {
        out[i] = DG_PNG_UNLABELLED;
        continue;
      }
      s = dg_fail(DG_ERR_FORMAT, "png: colour label map '%s': pixel (%d, %d) is partly transparent (alpha %u)", name, x,
                  y, p[3]);
      break;
    }
    if (last < 0 || memcmp(p, last_rgb, 3)) {
      memcpy(last_rgb, p, 3);
      last = find_color(pal, p);
    }
    if (last < 0) {
      s = dg_fail(DG_ERR_FORMAT,
                  "png: colour label map '%s': pixel (%d, %d) has colour (%u, %u, %u), not in the palette", name, x, y,
                  p[0], p[1], p[2]);
      break;
    }
    out[i] = (uint8_t)last;
  }
  if (s != DG_OK) {
    free(d.pixels);
    return s;
  }
  uint8_t *shrunk = d.channels > 1 ? realloc(d.pixels, n ? n : 1) : NULL;
  *ids = shrunk ? shrunk : d.pixels;
  *width = d.width;
  *height = d.height;
  return DG_OK;
}

dg_status dg_png_read_label_mem(const void *data, size_t size, const char *name, const dg_png_palette *pal, int *width,
                                int *height, uint8_t **ids) {
  dg_png_limits lim = {*width, *height, 0};
  return read_label(data, size, name, pal, &lim, width, height, ids);
}

// The file at `path` (a regular file, capped) decoded in `mode` within `limits`; label maps with `pal`.
static dg_status read_path(const char *path, enum read_mode mode, const dg_png_palette *pal,
                           const dg_png_limits *limits, int *width, int *height, uint8_t **out) {
  char *data;
  size_t size;
  DG_TRY(read_file(path, &data, &size));
  dg_status s = mode == READ_LABEL ? read_label(data, size, path, pal, limits, width, height, out)
                                   : read_pixels_mem(data, size, path, mode, limits, width, height, out);
  free(data);
  return s;
}

dg_status dg_png_read_rgb8_limited(const char *path, const dg_png_limits *limits, int *width, int *height,
                                   uint8_t **rgb) {
  return read_path(path, READ_RGB8, NULL, limits, width, height, rgb);
}

dg_status dg_png_read_rgba8_limited(const char *path, const dg_png_limits *limits, int *width, int *height,
                                    uint8_t **rgba) {
  return read_path(path, READ_RGBA8, NULL, limits, width, height, rgba);
}

dg_status dg_png_read_rgb8(const char *path, int *width, int *height, uint8_t **rgb) {
  return dg_png_read_rgb8_limited(path, NULL, width, height, rgb);
}

dg_status dg_png_read_label_limited(const char *path, const dg_png_palette *pal, const dg_png_limits *limits,
                                    int *width, int *height, uint8_t **ids) {
  return read_path(path, READ_LABEL, pal, limits, width, height, ids);
}

dg_status dg_png_read_label(const char *path, const dg_png_palette *pal, int *width, int *height, uint8_t **ids) {
  dg_png_limits lim = {*width, *height, 0};
  return dg_png_read_label_limited(path, pal, &lim, width, height, ids);
}

// ---------------------------------------------------------------------------------------------
// Text chunks, from the chunk stream: the image is not decoded to read them.

// Latin-1 to UTF-8: each byte from 0x80 becomes two.
static char *latin1_to_utf8(const uint8_t *s, size_t n) {
  size_t high = 0;
  for (size_t i = 0; i < n; i++)
    high += s[i] >> 7;
  char *out = malloc(n + high + 1), *o = out;
  for (size_t i = 0; out && i < n; i++) {
    if (s[i] < 0x80) {
      *o++ = (char)s[i];
    } else {
      *o++ = (char)(0xC0 | s[i] >> 6);
      *o++ = (char)(0x80 | (s[i] & 0x3F));
    }
  }
  if (out) *o = 0;
  return out;
}

// A zlib stream inflated to at most `max` bytes (+ a NUL): NULL with *why set when it is damaged or larger.
static uint8_t *inflate_text(const uint8_t *z, size_t n, size_t max, size_t *len, const char **why) {
  z_stream zs = {.next_in = (Bytef *)z, .avail_in = (uInt)n};
  if (n > UINT_MAX || inflateInit(&zs) != Z_OK) return *why = "cannot decompress", NULL;
  size_t cap = n < max / 4 ? 4 * n + 64 : max + 1;
  uint8_t *out = malloc(cap + 1);
  int r = out ? Z_OK : Z_MEM_ERROR;
  while (r == Z_OK) {
    if (zs.total_out == cap) {
      if (cap > max) break; // more than max: refused below
      size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
      uint8_t *grown = realloc(out, bigger + 1);
      if (!grown) {
        r = Z_MEM_ERROR;
        break;
      }
      out = grown, cap = bigger;
    }
    zs.next_out = out + zs.total_out;
    zs.avail_out = (uInt)(cap - zs.total_out);
    r = inflate(&zs, Z_NO_FLUSH);
  }
  *len = zs.total_out;
  inflateEnd(&zs);
  if (r != Z_STREAM_END || *len > max) {
    *why = r == Z_MEM_ERROR ? "out of memory"
           : *len > max     ? "more than the text limit when decompressed"
                            : "damaged compressed data";
    free(out);
    return NULL;
  }
  out[*len] = 0;
  return out;
}

// One tEXt, zTXt or iTXt chunk (data[0..n)) into *text, or *why. *key is set when the keyword is valid.
static void read_text_chunk(const char *type, const uint8_t *data, size_t n, size_t max, char **key, char **text,
                            const char **why) {
  const uint8_t *nul = memchr(data, 0, n < 80 ? n : 80);
  if (!nul || nul == data) {
    *why = "no keyword of 1 to 79 bytes";
    return;
  }
  *key = latin1_to_utf8(data, (size_t)(nul - data));
  const uint8_t *p = nul + 1, *end = data + n;
  bool itxt = !strcmp(type, "iTXt"), compressed = !strcmp(type, "zTXt");
  if (itxt) { // compression flag and method, language tag, translated keyword, text
    const uint8_t *lang = p + 2 <= end ? memchr(p + 2, 0, (size_t)(end - p - 2)) : NULL;
    const uint8_t *tkey = lang ? memchr(lang + 1, 0, (size_t)(end - lang - 1)) : NULL;
    if (!tkey || p[0] > 1 || (p[0] && p[1])) {
      *why = "malformed iTXt header";
      return;
    }
    compressed = p[0] == 1;
    p = tkey + 1;
  } else if (compressed) {
    if (p >= end || *p != 0) {
      *why = "unknown compression method";
      return;
    }
    p++;
  }
  size_t len = (size_t)(end - p);
  uint8_t *raw = compressed ? inflate_text(p, len, max, &len, why) : (uint8_t *)p;
  if (!raw) return;
  if (len > max) *why = "more than the text limit";
  else if (memchr(raw, 0, len)) *why = "a NUL byte in the text";
  else if (!itxt) *text = latin1_to_utf8(raw, len);
  else if (!g_utf8_validate((const char *)raw, (gssize)len, NULL)) *why = "not valid UTF-8";
  else if ((*text = malloc(len + 1))) memcpy(*text, raw, len), (*text)[len] = 0;
  if (!*why && !*text) *why = "out of memory";
  if (raw != p) free(raw);
}

static bool list_add(dg_png_text_list *list, char *key, char *text, char *problem) {
  int n = list->n + 1;
  char **k = realloc(list->keys, n * sizeof *k);
  if (k) list->keys = k;
  char **t = k ? realloc(list->texts, n * sizeof *t) : NULL;
  if (t) list->texts = t;
  char **p = t ? realloc(list->problems, n * sizeof *p) : NULL;
  if (p) list->problems = p;
  if (!p || !key || (!text && !problem)) {
    free(key), free(text), free(problem);
    return false;
  }
  k[list->n] = key, t[list->n] = text, p[list->n] = problem;
  list->n = n;
  return true;
}

dg_status dg_png_read_texts(const char *path, dg_png_text_list *out) {
  memset(out, 0, sizeof *out);
  char *data;
  size_t size;
  DG_TRY(read_file(path, &data, &size));
  const uint8_t *bytes = (const uint8_t *)data;
  png_ctx c = {.name = path, .data = bytes, .size = size};
  dg_status s = check_chunks(&c) ? DG_OK : decode_failed(&c, "image");
  size_t budget = DG_PNG_MAX_TEXTS, p = 8;
  bool end = false;
  for (; s == DG_OK && !end && p + 12 <= size; p += (size_t)be32(bytes + p) + 12) {
    size_t len = be32(bytes + p);
    char type[5] = {0};
    memcpy(type, bytes + p + 4, 4);
    end = !strcmp(type, "IEND");
    if (strcmp(type, "tEXt") && strcmp(type, "zTXt") && strcmp(type, "iTXt")) continue;
    char *key = NULL, *text = NULL, *problem = NULL;
    const char *why = NULL;
    read_text_chunk(type, bytes + p + 8, len, budget < DG_PNG_MAX_TEXT ? budget : DG_PNG_MAX_TEXT, &key, &text, &why);
    if (be32(bytes + p + 8 + len) != (uint32_t)crc32(crc32(0, bytes + p + 4, 4), bytes + p + 8, (uInt)len)) {
      free(text);
      text = NULL, why = "damaged (CRC mismatch)";
    }
    if (!key) continue; // no keyword: nothing could ask for it
    if (why) {
      size_t n = strlen(key) + strlen(why) + 32;
      if ((problem = malloc(n))) snprintf(problem, n, "'%s' %s chunk: %s", key, type, why);
    }
    size_t used = text ? strlen(text) : 0;
    budget = used < budget ? budget - used : 0;
    if (!list_add(out, key, text, problem))
      s = dg_fail(DG_ERR_OOM, "png: out of memory for the text chunks of '%s'", path);
  }
  if (s == DG_OK && !end)
    s = dg_fail(DG_ERR_FORMAT, "png: cannot read image '%s': file is truncated (no IEND chunk)", path);
  free(data);
  if (s != DG_OK) dg_png_text_list_free(out);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Writing, with libdeflate: the whole image is filtered and compressed in one call, into buffers (and a
// compressor) kept per thread, so a dataset writer does not allocate, fault in and free them per file.

typedef struct write_job {
  int width, height, color_type, channels;
  const uint8_t *pixels;
  const dg_png_palette *pal; // palette images only
} write_job;

typedef struct write_scratch {
  struct libdeflate_compressor *z;
  int level;
  size_t raw_cap, out_cap;
  uint8_t *raw, *out;
} write_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *p) {
  write_scratch *s = p;
  libdeflate_free_compressor(s->z);
  free(s->raw);
  free(s->out);
  free(s);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

// The calling thread's compressor for `level` and buffers for `raw` filtered and compressed bytes.
static write_scratch *scratch_get(int level, size_t raw) {
  pthread_once(&scratch_once, scratch_init);
  write_scratch *s = pthread_getspecific(scratch_key);
  if (!s && (!(s = calloc(1, sizeof *s)) || pthread_setspecific(scratch_key, s) != 0)) {
    free(s);
    return NULL;
  }
  if (!s->z || s->level != level) {
    libdeflate_free_compressor(s->z);
    s->level = level;
    if (!(s->z = libdeflate_alloc_compressor(level))) return NULL;
  }
  size_t out = libdeflate_zlib_compress_bound(s->z, raw);
  if (s->raw_cap < raw) {
    free(s->raw);
    s->raw_cap = (s->raw = malloc(raw)) ? raw : 0;
  }
  if (s->out_cap < out) {
    free(s->out);
    s->out_cap = (s->out = malloc(out)) ? out : 0;
  }
  return s->raw && s->out ? s : NULL;
}

static bool is_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 128) return false;
  return true;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

// One chunk whose data is the concatenation of `n` parts.
static void chunk(FILE *f, const char *type, int n, const void *const *parts, const size_t *sizes) {
  uint8_t head[8], tail[4];
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += sizes[i];
  put32(head, (uint32_t)len);
  memcpy(head + 4, type, 4);
  uint32_t crc = libdeflate_crc32(0, type, 4);
  fwrite(head, 1, 8, f);
  for (int i = 0; i < n; i++) {
    crc = libdeflate_crc32(crc, parts[i], sizes[i]);
    fwrite(parts[i], 1, sizes[i], f);
  }
  put32(tail, crc);
  fwrite(tail, 1, 4, f);
}

static void chunk1(FILE *f, const char *type, const void *data, size_t size) {
  chunk(f, type, 1, (const void *const[]){data}, (const size_t[]){size});
}

static inline uint8_t filter_byte(int type, const uint8_t *cur, const uint8_t *prev, size_t i, int bpp) {
  int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= (size_t)bpp ? prev[i - bpp] : 0;
  switch (type) {
  case 0: return cur[i];
  case 1: return (uint8_t)(cur[i] - a);
  case 2: return (uint8_t)(cur[i] - b);
  case 3: return (uint8_t)(cur[i] - ((a + b) >> 1));
  default: {
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (uint8_t)(cur[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
  }
  }
}

// Each row as a filter type byte and the filtered bytes. `adaptive` picks, per row, the filter with the
// smallest sum of absolute (signed) values, as libpng does; otherwise rows are stored unfiltered.
static void filter_rows(const write_job *job, uint8_t *raw, bool adaptive) {
  size_t stride = (size_t)job->width * job->channels;
  for (int y = 0; y < job->height; y++) {
    const uint8_t *cur = job->pixels + y * stride, *prev = y ? cur - stride : NULL;
    uint8_t *out = raw + y * (stride + 1);
    int best = 0;
    if (adaptive) {
      unsigned long best_sum = ~0ul;
      for (int t = 0; t < 5; t++) {
        unsigned long sum = 0;
        for (size_t i = 0; i < stride && sum < best_sum; i++) {
          uint8_t v = filter_byte(t, cur, prev, i, job->channels);
          sum += v < 128 ? v : 256 - v;
        }
        if (sum < best_sum) best_sum = sum, best = t;
      }
    }
    out[0] = (uint8_t)best;
    if (!best) memcpy(out + 1, cur, stride);
    for (size_t i = 0; best && i < stride; i++)
      out[1 + i] = filter_byte(best, cur, prev, i, job->channels);
  }
}

// The file: signature, IHDR, PLTE (label maps), text chunks, one IDAT with the compressed rows, IEND.
// `mem` set: into a malloc'd buffer (*mem, *mem_size) instead of the file at `path`.
static dg_status write_file(const char *path, const write_job *job, const dg_png_write_opts *opts, const uint8_t *z,
                            size_t z_size, uint8_t **mem, size_t *mem_size) {
  char *buf = NULL;
  FILE *f = mem ? open_memstream(&buf, mem_size) : fopen(path, "wb");
  if (!f) return dg_fail(DG_ERR_IO, "png: cannot create '%s': %s", path, strerror(errno));
  fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
  uint8_t ihdr[13] = {0};
  put32(ihdr, (uint32_t)job->width);
  put32(ihdr + 4, (uint32_t)job->height);
  ihdr[8] = 8;
  ihdr[9] = (uint8_t)job->color_type;
  chunk1(f, "IHDR", ihdr, sizeof ihdr);
  if (job->pal) {
    uint8_t plte[256][3];
    for (int i = 0; i < 256; i++)
      memcpy(plte[i], i < job->pal->n_classes ? job->pal->rgb[i] : job->pal->unlabelled_rgb, 3);
    chunk1(f, "PLTE", plte, sizeof plte);
  }
  for (int i = 0; opts && i < opts->n_texts; i++) {
    const char *k = opts->texts[i].key, *t = opts->texts[i].text;
    // tEXt: key, 0, text. iTXt: key, 0, no compression (0, 0), empty language and translated key, text.
    bool ascii = is_ascii(t);
    chunk(f, ascii ? "tEXt" : "iTXt", 3, (const void *const[]){k, "\0\0\0\0", t},
          (const size_t[]){strlen(k), ascii ? 1 : 5, strlen(t)});
  }
  chunk1(f, "IDAT", z, z_size);
  chunk1(f, "IEND", "", 0);
  if (ferror(f) | (fclose(f) != 0)) {
    if (mem)
      free(buf);
    else
      remove(path);
    return dg_fail(DG_ERR_IO, "png: cannot write '%s': %s", path, strerror(errno));
  }
  if (mem) *mem = (uint8_t *)buf;
  return DG_OK;
}

static dg_status write_png(const char *path, const write_job *job, const dg_png_write_opts *opts, uint8_t **mem,
                           size_t *mem_size) {
  if (job->width <= 0 || job->height <= 0 || job->width > DG_PNG_MAX_SIDE || job->height > DG_PNG_MAX_SIDE)
    return dg_fail(DG_ERR_ARG, "png: cannot write '%s': bad size %dx%d", path, job->width, job->height);
  if (!job->pixels) return dg_fail(DG_ERR_ARG, "png: cannot write '%s': no pixels", path);
  for (int i = 0; opts && i < opts->n_texts; i++) {
    size_t kl = opts->texts[i].key ? strlen(opts->texts[i].key) : 0;
    if (kl < 1 || kl > 79 || !opts->texts[i].text)
      return dg_fail(DG_ERR_ARG, "png: cannot write '%s': text chunk %d needs a 1..79 character key and a text", path,
                     i);
  }
  int level = opts && opts->level > 0 ? (opts->level > 9 ? 9 : opts->level) : 6;
  size_t raw_size = ((size_t)job->width * job->channels + 1) * job->height;
  write_scratch *s = scratch_get(level, raw_size);
  if (!s) return dg_fail(DG_ERR_OOM, "png: out of memory writing '%s'", path);
  // Fast levels (1..3) and label maps (long runs of one id): unfiltered; filtering costs more time than
  // its 1-2% size gain at these levels.
  filter_rows(job, s->raw, job->color_type != PNG_COLOR_TYPE_PALETTE && level > 3);
  size_t z_size = libdeflate_zlib_compress(s->z, s->raw, raw_size, s->out, s->out_cap);
  dg_status st = z_size ? write_file(path, job, opts, s->out, z_size, mem, mem_size)
                        : dg_fail(DG_ERR_FORMAT, "png: cannot compress '%s'", path);
  if (s->raw_cap > (8u << 20)) { // the buffers of a large image are not kept
    free(s->raw);
    free(s->out);
    s->raw = s->out = NULL;
    s->raw_cap = s->out_cap = 0;
  }
  return st;
}

dg_status dg_png_write_rgb8(const char *path, int width, int height, const uint8_t *rgb,
                            const dg_png_write_opts *opts) {
  write_job job = {width, height, PNG_COLOR_TYPE_RGB, 3, rgb, NULL};
  return write_png(path, &job, opts, NULL, NULL);
}

dg_status dg_png_write_rgba8(const char *path, int width, int height, const uint8_t *rgba,
                             const dg_png_write_opts *opts) {
  write_job job = {width, height, PNG_COLOR_TYPE_RGB_ALPHA, 4, rgba, NULL};
  return write_png(path, &job, opts, NULL, NULL);
}

dg_status dg_png_write_atomic(const char *path, int width, int height, const uint8_t *pixels, int channels,
                              const dg_png_write_opts *opts) {
  if (channels != 3 && channels != 4) return dg_fail(DG_ERR_ARG, "png: %d channels (3 or 4)", channels);
  char *tmp = g_strdup_printf("%s.%d.tmp", path, (int)getpid());
  dg_status s = channels == 3 ? dg_png_write_rgb8(tmp, width, height, pixels, opts)
                              : dg_png_write_rgba8(tmp, width, height, pixels, opts);
  if (s == DG_OK && rename(tmp, path) != 0)
    s = dg_fail(DG_ERR_IO, "png: cannot write %s: %s", path, g_strerror(errno));
  if (s != DG_OK) unlink(tmp);
  g_free(tmp);
  return s;
}

dg_status dg_png_encode_rgba8(const char *name, int width, int height, const uint8_t *rgba,
                              const dg_png_write_opts *opts, uint8_t **png, size_t *size) {
  write_job job = {width, height, PNG_COLOR_TYPE_RGB_ALPHA, 4, rgba, NULL};
  return write_png(name, &job, opts, png, size);
}

static dg_status write_label(const char *path, int width, int height, const uint8_t *ids, const dg_png_palette *pal,
                             const dg_png_write_opts *opts, uint8_t **mem, size_t *mem_size) {
  if (!pal || pal->n_classes < 1 || pal->n_classes > 255)
    return dg_fail(DG_ERR_ARG, "png: cannot write label map '%s': palette must have 1..255 classes", path);
  size_t n = (size_t)(width > 0 ? width : 0) * (height > 0 ? height : 0);
  for (size_t i = 0; ids && i < n; i++)
    if (ids[i] >= pal->n_classes && ids[i] != DG_PNG_UNLABELLED)
      return dg_fail(DG_ERR_ARG, "png: cannot write label map '%s': pixel (%d, %d) has id %u (classes 0..%d, 255)",
                     path, (int)(i % width), (int)(i / width), ids[i], pal->n_classes - 1);
  write_job job = {width, height, PNG_COLOR_TYPE_PALETTE, 1, ids, pal};
  return write_png(path, &job, opts, mem, mem_size);
}

dg_status dg_png_write_label(const char *path, int width, int height, const uint8_t *ids, const dg_png_palette *pal,
                             const dg_png_write_opts *opts) {
  return write_label(path, width, height, ids, pal, opts, NULL, NULL);
}

dg_status dg_png_encode_label(const char *name, int width, int height, const uint8_t *ids, const dg_png_palette *pal,
                              const dg_png_write_opts *opts, uint8_t **png, size_t *size) {
  return write_label(name, width, height, ids, pal, opts, png, size);
}
