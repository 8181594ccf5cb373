// Hand-built PNG files for tests of hostile and careless inputs: chunks of any type and contents with
// valid CRCs. Header-only; a test that includes it links zlib.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct dg_test_png {
  uint8_t *b;
  size_t n, cap;
} dg_test_png;

static inline void dg_test_png_put(dg_test_png *p, const void *data, size_t len) {
  if (p->n + len > p->cap) {
    p->cap = 2 * (p->n + len) + 64;
    p->b = realloc(p->b, p->cap);
  }
  memcpy(p->b + p->n, data, len);
  p->n += len;
}

static inline void dg_test_png_be32(uint8_t *q, uint32_t v) {
  q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8), q[3] = (uint8_t)v;
}

// One chunk: length, type, data, CRC.
static inline void dg_test_png_chunk(dg_test_png *p, const char *type, const void *data, size_t len) {
  uint8_t head[8], crc[4];
  dg_test_png_be32(head, (uint32_t)len);
  memcpy(head + 4, type, 4);
  dg_test_png_put(p, head, 8);
  if (len) dg_test_png_put(p, data, len);
  dg_test_png_be32(crc, (uint32_t)crc32(crc32(0, (const Bytef *)type, 4), (const Bytef *)data, (uInt)len));
  dg_test_png_put(p, crc, 4);
}

// Signature and IHDR: width x height, 8 bits, colour type 2 (RGB).
static inline void dg_test_png_begin(dg_test_png *p, uint32_t width, uint32_t height) {
  memset(p, 0, sizeof *p);
  dg_test_png_put(p, "\x89PNG\r\n\x1a\n", 8);
  uint8_t ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
  dg_test_png_be32(ihdr, width);
  dg_test_png_be32(ihdr + 4, height);
  dg_test_png_chunk(p, "IHDR", ihdr, 13);
}

// Image data (a black width x height RGB image; width 0: 4 bytes that are not zlib data), then IEND;
// writes the file and frees the buffer.
static inline bool dg_test_png_finish(dg_test_png *p, uint32_t width, uint32_t height, const char *path) {
  uLong raw = (uLong)(3 * width + 1) * height;
  uLongf zn = width ? compressBound(raw) : 4;
  uint8_t *pixels = calloc(raw, 1), *z = malloc(zn);
  bool ok = pixels && z && (!width ? (memset(z, 0xff, 4), true) : compress(z, &zn, pixels, raw) == Z_OK);
  if (ok) dg_test_png_chunk(p, "IDAT", z, zn);
  dg_test_png_chunk(p, "IEND", "", 0);
  FILE *f = ok ? fopen(path, "wb") : NULL;
  ok = f && fwrite(p->b, 1, p->n, f) == p->n;
  if (f) ok = (fclose(f) == 0) && ok;
  free(pixels), free(z), free(p->b);
  memset(p, 0, sizeof *p);
  return ok;
}
