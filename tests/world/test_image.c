// app/image/dg_image: PNG and JPEG told apart by their bytes; JPEGs (made here with libjpeg) decoded to RGB
// and RGBA close to what was encoded, greyscale expanded, and refused with the file named when truncated,
// CMYK, too large or neither format.
#include <setjmp.h>
#include <stdio.h> // before jpeglib.h
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "dg_check.h"
#include "dg_image.h"

#define W 48
#define H 24

// A JPEG of `comps` components (1 grey, 3 RGB, 4 CMYK) of a smooth picture, at quality 95.
static unsigned char *encode_oriented(int comps, J_COLOR_SPACE space, bool progressive, int orientation,
                                      unsigned long *size, unsigned char *pixels) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  *size = 0;
  jpeg_mem_dest(&c, &out, size);
  c.image_width = W, c.image_height = H, c.input_components = comps, c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int k = 0; k < comps; k++)
        pixels[(y * W + x) * comps + k] = (unsigned char)(20 + 2 * x + 2 * y + 30 * k);
  jpeg_start_compress(&c, TRUE);
  if (orientation) { // an EXIF APP1 segment, big-endian TIFF, IFD0 with the one Orientation entry
    const unsigned char exif[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3,
                                  0, 0, 0, 1, 0, (unsigned char)orientation, 0, 0, 0, 0, 0, 0};
    jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof exif);
  }
  while (c.next_scanline < H) {
    JSAMPROW row = pixels + (size_t)c.next_scanline * W * comps;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return out;
}

static unsigned char *encode(int comps, J_COLOR_SPACE space, bool progressive, unsigned long *size,
                             unsigned char *pixels) {
  return encode_oriented(comps, space, progressive, 0, size, pixels);
}

static int max_diff(const uint8_t *a, int a_step, const unsigned char *b, int b_step, int comps) {
  int m = 0;
  for (int i = 0; i < W * H; i++)
    for (int k = 0; k < 3; k++) {
      int d = abs(a[i * a_step + k] - b[i * b_step + (comps == 1 ? 0 : k)]);
      m = d > m ? d : m;
    }
  return m;
}

int main(void) {
  unsigned char src[W * H * 4];
  unsigned long n;
  int w, h;
  uint8_t *px;
  for (int prog = 0; prog < 2; prog++) {
    unsigned char *jpg = encode(3, JCS_RGB, prog, &n, src);
    dg_check(dg_image_read_mem(jpg, n, "rgb.jpg", 3, NULL, &w, &h, &px) == DG_OK && w == W && h == H,
             "RGB JPEG (progressive %d) decodes: %s", prog, dg_last_error());
    if (px) dg_check(max_diff(px, 3, src, 3, 3) <= 12, "  ... close to what was encoded (%d)", max_diff(px, 3, src, 3, 3));
    free(px);
    dg_check(dg_image_read_mem(jpg, n, "rgb.jpg", 4, NULL, &w, &h, &px) == DG_OK, "as RGBA");
    if (px) {
      bool opaque = true;
      for (int i = 0; i < W * H; i++)
        opaque &= px[4 * i + 3] == 255;
      dg_check(opaque && max_diff(px, 4, src, 3, 3) <= 12, "  ... opaque, the same colours");
    }
    free(px);
    if (!prog) {
      // truncated: an error naming the file, nothing returned
      px = (uint8_t *)"untouched";
      dg_check_error(dg_image_read_mem(jpg, n / 2, "cut.jpg", 3, NULL, &w, &h, &px), DG_ERR_FORMAT, "cut.jpg",
                     "a truncated JPEG");
      dg_check(px == NULL, "  ... no pixels");
      dg_png_limits lim = {.max_side = 32};
      dg_check_error(dg_image_read_mem(jpg, n, "big.jpg", 3, &lim, &w, &h, &px), DG_ERR_FORMAT,
                     "'big.jpg' is 48x24 (WxH), larger than 32 on a side", "a JPEG over the size limit");
      dg_png_limits exact = {.width = 24, .height = 48};
      dg_check_error(dg_image_read_mem(jpg, n, "size.jpg", 3, &exact, &w, &h, &px), DG_ERR_FORMAT, "expected 24x48",
                     "a JPEG of another size than asked");
    }
    free(jpg);
  }
  // EXIF orientation: 6 (a phone's portrait photo: turn 90 degrees clockwise to show) and 3 (180).
  for (int o = 3; o <= 6; o += 3) {
    unsigned char *jpg = encode_oriented(3, JCS_RGB, false, o, &n, src);
    dg_check(dg_image_read_mem(jpg, n, "phone.jpg", 3, NULL, &w, &h, &px) == DG_OK, "EXIF orientation %d reads", o);
    if (px) {
      dg_check(o == 6 ? (w == H && h == W) : (w == W && h == H), "  ... %d: shown as %dx%d", o, w, h);
      int worst = 0; // shown (x, y) holds stored (y, H-1-x) for 6, (W-1-x, H-1-y) for 3
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
          int sx = o == 6 ? y : W - 1 - x, sy = o == 6 ? H - 1 - x : H - 1 - y;
          for (int k = 0; k < 3; k++) {
            int d = abs(px[(y * w + x) * 3 + k] - src[(sy * W + sx) * 3 + k]);
            worst = d > worst ? d : worst;
          }
        }
      dg_check(worst <= 12, "  ... %d: every pixel where the orientation puts it (worst %d)", o, worst);
    }
    free(px);
    free(jpg);
  }
  unsigned char *grey = encode(1, JCS_GRAYSCALE, false, &n, src);
  dg_check(dg_image_read_mem(grey, n, "grey.jpg", 3, NULL, &w, &h, &px) == DG_OK, "greyscale JPEG");
  if (px) dg_check(max_diff(px, 3, src, 1, 1) <= 8 && px[0] == px[1] && px[1] == px[2], "  ... expanded to RGB");
  free(px);
  free(grey);
  unsigned char *cmyk = encode(4, JCS_CMYK, false, &n, src);
  dg_check_error(dg_image_read_mem(cmyk, n, "print.jpg", 3, NULL, &w, &h, &px), DG_ERR_UNSUPPORTED,
                 "'print.jpg' is a CMYK JPEG", "a CMYK JPEG");
  free(cmyk);
  const char junk[] = "GIF89a not an image we read";
  dg_check_error(dg_image_read_mem(junk, sizeof junk, "anim.gif", 3, NULL, &w, &h, &px), DG_ERR_FORMAT,
                 "'anim.gif' is neither a PNG nor a JPEG", "another format");
  // A PNG goes to dg_png, with the limits
  uint8_t rgb[W * H * 3] = {0};
  uint8_t *png = NULL;
  size_t png_size = 0;
  uint8_t rgba[W * H * 4];
  for (int i = 0; i < W * H; i++)
    memcpy(rgba + 4 * i, rgb + 3 * i, 3), rgba[4 * i + 3] = 255;
  dg_check_status(dg_png_encode_rgba8("a.png", W, H, rgba, NULL, &png, &png_size), "encode a PNG");
  dg_check(dg_image_read_mem(png, png_size, "a.png", 3, NULL, &w, &h, &px) == DG_OK && w == W && h == H, "a PNG reads");
  free(px);
  dg_png_limits lim = {.max_side = 32};
  dg_check_error(dg_image_read_mem(png, png_size, "a.png", 3, &lim, &w, &h, &px), DG_ERR_FORMAT, "larger than 32",
                 "a PNG over the size limit");
  free(png);
  dg_check_error(dg_image_read("/nonexistent/x.jpg", 3, NULL, &w, &h, &px), DG_ERR_IO, "/nonexistent/x.jpg",
                 "a missing file");
  return dg_check_finish("test_image");
}
