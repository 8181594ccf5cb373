// dg_png: round trips of RGB8, RGBA8, indexed labels and text chunks; strict label reading with clear
// errors for every kind of bad file.
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dg_png.h"
#include "dg_test_png.h"
#include "dg_world.h"
#include "world_test.h"

static char dir[256];

static const char *tmp(const char *name) {
  return dg_check_path(dir, name);
}

static void spit(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

// Writes a PNG in any libpng format with the simplified API (for grey and 16-bit inputs).
static void write_simple(const char *path, int w, int h, uint32_t format, const void *pixels) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  im.width = (png_uint_32)w;
  im.height = (png_uint_32)h;
  im.format = format;
  png_image_write_to_file(&im, path, 0, pixels, 0, NULL);
}

static void test_rgb_roundtrip(void) {
  enum { W = 37, H = 21 };
  uint8_t rgb[W * H * 3], rgba[W * H * 4];
  for (int i = 0; i < W * H * 3; i++)
    rgb[i] = (uint8_t)(i * 7 + (i / 5));
  for (int i = 0; i < W * H; i++) {
    memcpy(rgba + 4 * i, rgb + 3 * i, 3);
    rgba[4 * i + 3] = (uint8_t)i;
  }
  const char *json = "{\"job\": \"txt2img\", \"prompt\": \"caf\xc3\xa9 at night\"}"; // UTF-8: goes to iTXt
  dg_png_text texts[] = {{"parameters", "a red car\nSteps: 25, Sampler: DDIM, CFG scale: 7.5, Seed: 42"},
                         {"dirigent", json}};
  for (int level = 1; level <= 9; level += 4) {
    dg_png_write_opts o = {.level = level, .texts = texts, .n_texts = 2};
    dg_check(dg_png_write_rgb8(tmp("rgb.png"), W, H, rgb, &o) == DG_OK, "write rgb level %d: %s", level,
             dg_last_error());
    int w, h;
    uint8_t *got = NULL;
    dg_check(dg_png_read_rgb8(tmp("rgb.png"), &w, &h, &got) == DG_OK, "read rgb: %s", dg_last_error());
    dg_check(got && w == W && h == H && !memcmp(got, rgb, sizeof rgb), "rgb round trip at level %d", level);
    free(got);
    dg_png_text_list list;
    dg_check(dg_png_read_texts(tmp("rgb.png"), &list) == DG_OK, "read texts: %s", dg_last_error());
    const char *p = dg_png_text_find(&list, "parameters"), *j = dg_png_text_find(&list, "dirigent");
    dg_check(p && !strcmp(p, texts[0].text), "parameters chunk round trip: '%s'", p ? p : "(missing)");
    dg_check(j && !strcmp(j, json), "UTF-8 JSON chunk round trip: '%s'", j ? j : "(missing)");
    dg_check(list.n == 2 && !dg_png_text_find(&list, "nothing"), "exactly two text chunks, got %d", list.n);
    dg_png_text_list_free(&list);
  }
  // The iTXt chunk really is iTXt and the ASCII one tEXt.
  size_t n;
  uint8_t *file = (uint8_t *)wt_read_file(tmp("rgb.png"), &n);
  dg_check(file && memmem(file, n, "iTXtdirigent", 12) && memmem(file, n, "tEXtparameters", 14), "chunk types");
  free(file);

  dg_check(dg_png_write_rgba8(tmp("rgba.png"), W, H, rgba, NULL) == DG_OK, "write rgba: %s", dg_last_error());
  int w, h;
  uint8_t *got = NULL;
  dg_check(dg_png_read_rgb8(tmp("rgba.png"), &w, &h, &got) == DG_OK && !memcmp(got, rgb, sizeof rgb),
           "rgba read as rgb drops alpha: %s", dg_last_error());
  free(got);
  dg_png_text bad_key[] = {{"", "x"}};
  dg_png_write_opts o = {.texts = bad_key, .n_texts = 1};
  dg_check_error(dg_png_write_rgb8(tmp("bad.png"), W, H, rgb, &o), DG_ERR_ARG, "key", "empty text key");
  dg_check_error(dg_png_write_rgb8(tmp("bad.png"), 0, H, rgb, NULL), DG_ERR_ARG, "size", "zero width");
  dg_check_error(dg_png_write_rgb8("/nonexistent-dir/x.png", W, H, rgb, NULL), DG_ERR_IO, "nonexistent-dir",
                 "unwritable path");
  dg_png_text_list none;
  dg_check(dg_png_read_texts(tmp("rgba.png"), &none) == DG_OK && none.n == 0, "no text chunks");
  dg_png_text_list_free(&none);
}

static void test_labels(void) {
  const dg_png_palette *pal = dg_world_palette();
  enum { W = 40, H = 24 };
  uint8_t ids[W * H], rgb[W * H * 3], rgba[W * H * 4];
  for (int i = 0; i < W * H; i++) {
    ids[i] = i % 17 == 0 ? DG_PNG_UNLABELLED : (uint8_t)((i / 3) % DG_WORLD_NUM_CLASSES);
    const uint8_t *c = ids[i] == DG_PNG_UNLABELLED ? pal->unlabelled_rgb : pal->rgb[ids[i]];
    memcpy(rgb + 3 * i, c, 3);
    memcpy(rgba + 4 * i, c, 3);
    rgba[4 * i + 3] = ids[i] == DG_PNG_UNLABELLED ? 0 : 255;
  }
  // Indexed.
  dg_check(dg_png_write_label(tmp("lab.png"), W, H, ids, pal, NULL) == DG_OK, "write label: %s", dg_last_error());
  int w = 0, h = 0;
  uint8_t *got = NULL;
  dg_check(dg_png_read_label(tmp("lab.png"), pal, &w, &h, &got) == DG_OK, "read indexed label: %s", dg_last_error());
  dg_check(got && w == W && h == H && !memcmp(got, ids, sizeof ids), "indexed label round trip");
  free(got);
  // The palette makes the indexed file viewable: read as RGB it shows the class colours.
  dg_check(dg_png_read_rgb8(tmp("lab.png"), &w, &h, &got) == DG_OK && !memcmp(got, rgb, sizeof rgb),
           "indexed label shows the palette colours");
  free(got);
  // Colour-coded RGB and RGBA (transparent = unlabelled).
  dg_check(dg_png_write_rgb8(tmp("labc.png"), W, H, rgb, NULL) == DG_OK, "write colour label");
  w = h = 0;
  dg_check(dg_png_read_label(tmp("labc.png"), pal, &w, &h, &got) == DG_OK && !memcmp(got, ids, sizeof ids),
           "colour-coded label: %s", dg_last_error());
  free(got);
  dg_check(dg_png_write_rgba8(tmp("laba.png"), W, H, rgba, NULL) == DG_OK, "write rgba label");
  w = h = 0;
  dg_check(dg_png_read_label(tmp("laba.png"), pal, &w, &h, &got) == DG_OK && !memcmp(got, ids, sizeof ids),
           "rgba label with transparent unlabelled: %s", dg_last_error());
  free(got);
  // Expected size.
  w = W + 1;
  h = H;
  dg_check_error(dg_png_read_label(tmp("lab.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "expected 41x24",
                 "size mismatch");

  // Out-of-range ids: written with a bigger palette, read with the world's.
  dg_png_palette big = *pal;
  big.n_classes = 30;
  uint8_t bad[W * H];
  memcpy(bad, ids, sizeof bad);
  bad[5 * W + 7] = 20;
  dg_check(dg_png_write_label(tmp("lab20.png"), W, H, bad, &big, NULL) == DG_OK, "write 30-class label");
  w = h = 0;
  dg_check_error(dg_png_read_label(tmp("lab20.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "pixel (7, 5) has value 20",
                 "id out of range");
  dg_check(strstr(dg_last_error(), "lab20.png") != NULL, "error names the file: %s", dg_last_error());
  dg_check_error(dg_png_write_label(tmp("x.png"), W, H, bad, pal, NULL), DG_ERR_ARG, "id 20", "writer rejects bad ids");
  // Unknown colour.
  rgb[3 * (2 * W + 3) + 1] ^= 1;
  dg_png_write_rgb8(tmp("labu.png"), W, H, rgb, NULL);
  w = h = 0;
  char needle[64];
  const uint8_t *p = rgb + 3 * (2 * W + 3);
  snprintf(needle, sizeof needle, "pixel (3, 2) has colour (%u, %u, %u)", p[0], p[1], p[2]);
  dg_check_error(dg_png_read_label(tmp("labu.png"), pal, &w, &h, &got), DG_ERR_FORMAT, needle, "unknown colour");
  // Partly transparent.
  rgba[4 * 9 + 3] = 128;
  dg_png_write_rgba8(tmp("labp.png"), W, H, rgba, NULL);
  w = h = 0;
  dg_check_error(dg_png_read_label(tmp("labp.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "alpha 128", "partial alpha");

  // Grey 8-bit ids are accepted; 16-bit grey and 1-bit are not.
  write_simple(tmp("grey.png"), W, H, PNG_FORMAT_GRAY, ids);
  w = h = 0;
  dg_check(dg_png_read_label(tmp("grey.png"), pal, &w, &h, &got) == DG_OK && !memcmp(got, ids, sizeof ids),
           "grey ids: %s", dg_last_error());
  free(got);
  uint16_t ids16[W * H];
  for (int i = 0; i < W * H; i++)
    ids16[i] = ids[i];
  write_simple(tmp("grey16.png"), W, H, PNG_FORMAT_LINEAR_Y, ids16);
  w = h = 0;
  dg_check_error(dg_png_read_label(tmp("grey16.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "bit depth 16", "16-bit");

  // Malformed files.
  size_t n;
  uint8_t *file = (uint8_t *)wt_read_file(tmp("lab.png"), &n);
  spit(tmp("trunc.png"), file, n / 2);
  w = h = 0;
  dg_check_error(dg_png_read_label(tmp("trunc.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "trunc.png", "truncated");
  dg_check(strstr(dg_last_error(), "truncated") != NULL, "truncation is named: %s", dg_last_error());
  spit(tmp("noend.png"), file, n - 12); // no IEND chunk
  dg_check_error(dg_png_read_label(tmp("noend.png"), pal, &w, &h, &got), DG_ERR_FORMAT, "truncated", "missing IEND");
  dg_check_error(dg_png_read_label_mem(file, 5, "five-bytes", pal, &w, &h, &got), DG_ERR_FORMAT, "too short",
                 "tiny file");
  dg_check_error(dg_png_read_label_mem("GIF89a-not-a-png", 16, "gif", pal, &w, &h, &got), DG_ERR_FORMAT, "not a PNG",
                 "wrong signature");
  // A header claiming 100000 x 100000 pixels (with a valid CRC) is refused before any allocation.
  uint8_t *huge = malloc(n);
  memcpy(huge, file, n);
  for (int k = 0; k < 2; k++) { // IHDR data starts at byte 16: width, height (big-endian)
    uint32_t v = 100000;
    uint8_t *q = huge + 16 + 4 * k;
    q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8), q[3] = (uint8_t)v;
  }
  uint32_t crc = (uint32_t)crc32(0, huge + 12, 17);
  uint8_t *c = huge + 29;
  c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
  dg_check_error(dg_png_read_label_mem(huge, n, "huge", pal, &w, &h, &got), DG_ERR_FORMAT, "huge", "huge header");
  dg_check_error(dg_png_read_rgb8_mem(huge, n, "huge", &w, &h, &got), DG_ERR_FORMAT, "huge", "huge header, rgb");
  free(huge);
  free(file);
  dg_check_error(dg_png_read_label(tmp("missing.png"), pal, &w, &h, &got), DG_ERR_IO, "missing.png", "missing file");
}

// Text chunks by type (PNG specification): tEXt and zTXt hold Latin-1 and are converted to UTF-8, iTXt
// holds UTF-8 and is validated; a chunk that cannot be read is named, never passed on as raw bytes.
static void test_text_chunks(void) {
  dg_test_png p;
  dg_test_png_begin(&p, 4, 2);
  dg_test_png_chunk(&p, "tEXt", "parameters\0caf\xe9 \xb5m", 18);
  uint8_t z[256] = "comment\0\0";
  uLongf zn = sizeof z - 9;
  compress(z + 9, &zn, (const Bytef *)"na\xefve", 5);
  dg_test_png_chunk(&p, "zTXt", z, 9 + zn);
  dg_test_png_chunk(&p, "iTXt", "good\0\0\0fr\0\0\xc3\xa9t\xc3\xa9", 16);
  uint8_t iz[256] = "packed\0\1\0\0\0";
  zn = sizeof iz - 11;
  compress(iz + 11, &zn, (const Bytef *)"\xe2\x82\xac", 3);
  dg_test_png_chunk(&p, "iTXt", iz, 11 + zn);
  dg_test_png_chunk(&p, "iTXt", "bad\0\0\0\0\0caf\xe9", 12);
  dg_test_png_chunk(&p, "tEXt", "nul\0a\0b", 7);
  dg_test_png_chunk(&p, "zTXt", "junk\0\0garbage", 14);
  dg_test_png_chunk(&p, "tEXt", "crc\0text", 8);
  p.b[p.n - 1] ^= 1; // damage the CRC
  dg_check(dg_test_png_finish(&p, 4, 2, tmp("texts.png")), "write texts.png");
  dg_png_text_list l;
  if (!dg_check_status(dg_png_read_texts(tmp("texts.png"), &l), "read the text chunks")) return;
  dg_check(l.n == 8, "8 text chunks, got %d", l.n);
  const char *good[][2] = {{"parameters", "caf\xc3\xa9 \xc2\xb5m"}, // tEXt Latin-1 -> UTF-8
                           {"comment", "na\xc3\xafve"},             // zTXt Latin-1 -> UTF-8
                           {"good", "\xc3\xa9t\xc3\xa9"},           // iTXt UTF-8 as it is
                           {"packed", "\xe2\x82\xac"}};             // compressed iTXt
  for (int i = 0; i < 4; i++) {
    const char *t = dg_png_text_find(&l, good[i][0]);
    dg_check(t && !strcmp(t, good[i][1]), "%s: '%s'", good[i][0], t ? t : "(none)");
  }
  const char *bad[][2] = {{"bad", "'bad' iTXt chunk: not valid UTF-8"},
                          {"nul", "'nul' tEXt chunk: a NUL byte in the text"},
                          {"junk", "'junk' zTXt chunk: damaged compressed data"},
                          {"crc", "'crc' tEXt chunk: damaged (CRC mismatch)"}};
  for (int i = 0; i < 4; i++) {
    const char *why = dg_png_text_problem(&l, bad[i][0]);
    dg_check(!dg_png_text_find(&l, bad[i][0]) && why && !strcmp(why, bad[i][1]), "%s: %s", bad[i][0],
             why ? why : "(no problem recorded)");
  }
  dg_check(!dg_png_text_problem(&l, "parameters"), "no problem for a good chunk");
  dg_png_text_list_free(&l);

  // A zTXt bomb: 17 MiB of text in a few KB is refused at the 16 MiB limit, not inflated without end.
  size_t big = 17u << 20;
  uint8_t *plain = malloc(big), *bomb = malloc(compressBound(big) + 8);
  memset(plain, 'a', big);
  memcpy(bomb, "bomb\0\0", 6);
  zn = compressBound(big);
  compress(bomb + 6, &zn, plain, big);
  dg_test_png_begin(&p, 4, 2);
  dg_test_png_chunk(&p, "zTXt", bomb, 6 + zn);
  dg_check(dg_test_png_finish(&p, 4, 2, tmp("bomb.png")), "write bomb.png");
  free(plain), free(bomb);
  if (dg_check_status(dg_png_read_texts(tmp("bomb.png"), &l), "read a zTXt bomb")) {
    const char *why = dg_png_text_problem(&l, "bomb");
    dg_check(why && strstr(why, "more than the text limit"), "zTXt bomb: %s", why ? why : "(accepted)");
    dg_png_text_list_free(&l);
  }
}

// Sizes are checked from the IHDR header before any pixel is decoded. The file claims 16384x16384 RGB,
// is large enough (an 800 KB ancillary chunk) for deflate to hold that many pixels, and its IDAT is not
// zlib data: a reader that decoded first would report the data, not the size.
static void test_limits(void) {
  dg_test_png p;
  dg_test_png_begin(&p, 16384, 16384);
  uint8_t *pad = calloc(800000, 1);
  dg_test_png_chunk(&p, "dgPd", pad, 800000);
  free(pad);
  dg_test_png_chunk(&p, "tEXt", "parameters\0a car\nSteps: 5", 25);
  dg_check(dg_test_png_finish(&p, 0, 0, tmp("wide.png")), "write wide.png");
  const char *path = tmp("wide.png");
  int w = 0, h = 0;
  uint8_t *got = NULL;
  dg_png_limits most = {0, 0, 4096};
  dg_check_error(dg_png_read_rgb8_limited(path, &most, &w, &h, &got), DG_ERR_FORMAT,
                 "is 16384x16384 (WxH), larger than 4096 on a side", "an image past the side limit");
  dg_check_error(dg_png_read_label_limited(path, dg_world_palette(), &most, &w, &h, &got), DG_ERR_FORMAT, "label map",
                 "a layout past the side limit");
  dg_check(strstr(dg_last_error(), "larger than 4096 on a side") != NULL, "named: %s", dg_last_error());
  w = 64, h = 32;
  dg_check_error(dg_png_read_label(path, dg_world_palette(), &w, &h, &got), DG_ERR_FORMAT,
                 "is 16384x16384 (WxH), expected 64x32", "a layout of another size than given");
  dg_png_limits exact = {64, 32, 0};
  dg_check_error(dg_png_read_rgb8_limited(path, &exact, &w, &h, &got), DG_ERR_FORMAT, "expected 64x32",
                 "an image of another size than the index says");
  // Without limits the data is decoded, and is what is wrong.
  dg_check(dg_png_read_rgb8(path, &w, &h, &got) != DG_OK && !strstr(dg_last_error(), "16384"),
           "no limits: the data is reported: %s", dg_last_error());
  // Reading the texts decodes no pixel: they come back from a file whose image data is broken.
  dg_png_text_list l;
  if (dg_check_status(dg_png_read_texts(path, &l), "texts without decoding")) {
    const char *t = dg_png_text_find(&l, "parameters");
    dg_check(t && !strcmp(t, "a car\nSteps: 5"), "the text of a file with a 16384x16384 header");
    dg_png_text_list_free(&l);
  }
  size_t n;
  char *file = wt_read_file(path, &n);
  dg_check(file && dg_png_read_size_mem(file, n, "wide", &w, &h) == DG_OK && w == 16384 && h == 16384,
           "size from the header alone");
  dg_check_error(dg_png_read_size_mem(file, 20, "short", &w, &h), DG_ERR_FORMAT, "short", "a cut header");
  g_free(file);
}

int main(void) {
  snprintf(dir, sizeof dir, "%s/png-test-XXXXXX", DG_BUILD_DIR);
  if (!mkdtemp(dir)) {
    printf("cannot create a temporary directory\n");
    return 1;
  }
  test_rgb_roundtrip();
  test_labels();
  test_text_chunks();
  test_limits();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
  return dg_check_finish("test_png");
}
