#include "dg_image.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h> // before jpeglib.h, which uses FILE
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "dg_file.h"

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

typedef struct jpeg_err {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
  jpeg_err *e = (jpeg_err *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

// Warnings are silent, except the end of the data before the image's end: a truncated file.
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  jpeg_err *e = (jpeg_err *)cinfo->err;
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    snprintf(e->msg, sizeof e->msg, "the file is truncated");
    longjmp(e->jump, 1);
  }
}

static dg_status check_size(const char *name, unsigned w, unsigned h, const dg_png_limits *lim) {
  if (w < 1 || h < 1 || w > DG_PNG_MAX_SIDE || h > DG_PNG_MAX_SIDE || (uint64_t)w * h > DG_PNG_MAX_PIXELS)
    return dg_fail(DG_ERR_FORMAT, "jpeg: '%s' is %ux%u (WxH), outside what is read (at most %d on a side)", name, w, h,
                   DG_PNG_MAX_SIDE);
  if (lim && ((lim->width > 0 && w != (unsigned)lim->width) || (lim->height > 0 && h != (unsigned)lim->height)))
    return dg_fail(DG_ERR_FORMAT, "jpeg: '%s' is %ux%u (WxH), expected %dx%d", name, w, h, lim->width, lim->height);
  if (lim && lim->max_side > 0 && (w > (unsigned)lim->max_side || h > (unsigned)lim->max_side))
    return dg_fail(DG_ERR_FORMAT, "jpeg: '%s' is %ux%u (WxH), larger than %d on a side (the largest supported)", name, w,
                   h, lim->max_side);
  return DG_OK;
}

// The EXIF orientation (1..8, TIFF tag 0x0112 of IFD0) of an APP1 segment, 1 when absent or unreadable.
static int exif_orientation(const jpeg_saved_marker_ptr markers) {
  for (jpeg_saved_marker_ptr m = markers; m; m = m->next) {
    const uint8_t *d = m->data;
    size_t n = m->data_length;
    if (m->marker != JPEG_APP0 + 1 || n < 14 || memcmp(d, "Exif\0\0", 6)) continue;
    d += 6, n -= 6; // the TIFF header
    bool le = d[0] == 'I' && d[1] == 'I';
    if (!le && !(d[0] == 'M' && d[1] == 'M')) continue;
#define U16(p) (le ? (unsigned)(p)[0] | (unsigned)(p)[1] << 8 : (unsigned)(p)[0] << 8 | (unsigned)(p)[1])
#define U32(p) (le ? U16(p) | (uint32_t)U16((p) + 2) << 16 : (uint32_t)U16(p) << 16 | U16((p) + 2))
    uint32_t ifd = U32(d + 4);
    if (ifd > n - 2) continue;
    unsigned count = U16(d + ifd);
    for (unsigned k = 0; k < count && ifd + 2 + 12 * (size_t)(k + 1) <= n; k++) {
      const uint8_t *e = d + ifd + 2 + 12 * k;
      if (U16(e) == 0x0112 && U16(e + 2) == 3) {
        unsigned v = U16(e + 8);
        return v >= 1 && v <= 8 ? (int)v : 1;
      }
    }
#undef U32
#undef U16
  }
  return 1;
}

// `px` (w x h, c channels) turned upright for EXIF orientation `o` into a new buffer (*w, *h swapped for 5..8);
// NULL when out of memory.
static uint8_t *orient(const uint8_t *px, int *w, int *h, int c, int o) {
  int sw = *w, sh = *h, dw = o >= 5 ? sh : sw, dh = o >= 5 ? sw : sh;
  uint8_t *out = malloc((size_t)dw * dh * c);
  if (!out) return NULL;
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++) {
      int sx = x, sy = y; // the stored pixel shown at (x, y)
      switch (o) {
      case 2: sx = sw - 1 - x; break;
      case 3: sx = sw - 1 - x, sy = sh - 1 - y; break;
      case 4: sy = sh - 1 - y; break;
      case 5: sx = y, sy = x; break;
      case 6: sx = y, sy = sh - 1 - x; break;
      case 7: sx = sw - 1 - y, sy = sh - 1 - x; break;
      case 8: sx = sw - 1 - y, sy = x; break;
      }
      memcpy(out + ((size_t)y * dw + x) * c, px + ((size_t)sy * sw + sx) * c, (size_t)c);
    }
  *w = dw, *h = dh;
  return out;
}

static dg_status read_jpeg(const void *data, size_t size, const char *name, int channels, const dg_png_limits *lim,
                           int *width, int *height, uint8_t **pixels) {
  struct jpeg_decompress_struct cinfo;
  jpeg_err err;
  uint8_t *volatile out = NULL;
  volatile dg_status s = DG_OK;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(out);
    return dg_fail(DG_ERR_FORMAT, "jpeg: '%s': %s", name, err.msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  int orientation = exif_orientation(cinfo.marker_list);
  s = check_size(name, cinfo.image_width, cinfo.image_height, lim);
  if (s == DG_OK && (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK))
    s = dg_fail(DG_ERR_UNSUPPORTED, "jpeg: '%s' is a CMYK JPEG; save it as RGB", name);
  if (s != DG_OK) {
    jpeg_destroy_decompress(&cinfo);
    return s;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  size_t w = cinfo.output_width, h = cinfo.output_height;
  out = malloc(w * h * (size_t)channels);
  if (!out) {
    jpeg_destroy_decompress(&cinfo);
    return dg_fail(DG_ERR_OOM, "jpeg: '%s': out of memory for %zux%zu pixels", name, w, h);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out + (size_t)cinfo.output_scanline * w * (size_t)channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (channels == 4) // spread RGB to RGBA in place, from the row's end
      for (size_t x = w; x-- > 0;) {
        row[4 * x + 3] = 255;
        memmove(row + 4 * x, row + 3 * x, 3);
      }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  int iw = (int)w, ih = (int)h;
  uint8_t *upright = orientation == 1 ? out : orient(out, &iw, &ih, channels, orientation);
  if (upright != out) free(out);
  if (!upright) return dg_fail(DG_ERR_OOM, "jpeg: '%s': out of memory turning %zux%zu pixels upright", name, w, h);
  *width = iw, *height = ih, *pixels = upright;
  return DG_OK;
}

dg_status dg_image_read_mem(const void *data, size_t size, const char *name, int channels,
                            const dg_png_limits *limits, int *width, int *height, uint8_t **pixels) {
  const uint8_t *b = data;
  *pixels = NULL;
  if (channels != 3 && channels != 4) return dg_fail(DG_ERR_ARG, "image: %d channels (3 or 4)", channels);
  if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
    return read_jpeg(data, size, name, channels, limits, width, height, pixels);
  if (size < 8 || memcmp(b, png_magic, 8))
    return dg_fail(DG_ERR_FORMAT, "image: '%s' is neither a PNG nor a JPEG", name);
  return dg_png_read_pixels_mem(data, size, name, channels, limits, width, height, pixels);
}

dg_status dg_image_read(const char *path, int channels, const dg_png_limits *limits, int *width, int *height,
                        uint8_t **pixels) {
  char *data;
  size_t size;
  *pixels = NULL;
  dg_status s = dg_file_read(path, (size_t)1 << 30, &data, &size);
  if (s != DG_OK) return dg_fail(s, "image: %s", dg_last_error());
  s = dg_image_read_mem(data, size, path, channels, limits, width, height, pixels);
  free(data);
  return s;
}
