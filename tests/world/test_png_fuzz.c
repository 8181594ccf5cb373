// Deterministic mutation fuzzing of the strict label-map reader: 2000 mutated label files (bit flips,
// truncations, chunk length changes, chunk data edits with valid CRCs, inserted bytes). Every file
// must either read as a valid label map or fail with a dg_status error naming the file; none may crash.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dg_png.h"
#include "dg_world.h"
#include "world_test.h"

static uint64_t rng = 0x1234567;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static size_t below(size_t n) { return n ? (size_t)(next() % n) : 0; }

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

// Offsets of the chunks (length field) of a well-formed PNG.
static int chunks(const uint8_t *b, size_t n, size_t *off, int max) {
  int k = 0;
  for (size_t p = 8; p + 12 <= n && k < max;) {
    off[k++] = p;
    p += 12 + be32(b + p);
  }
  return k;
}

static const char *kinds[] = {"bit flips", "truncation", "chunk length", "chunk data with valid CRC", "inserted bytes"};

static size_t mutate(const uint8_t *src, size_t n, uint8_t *dst, int kind) {
  memcpy(dst, src, n);
  size_t off[64];
  int nc = chunks(src, n, off, 64);
  switch (kind) {
  case 0: {
    int flips = 1 + (int)below(8);
    for (int i = 0; i < flips; i++)
      dst[below(n)] ^= (uint8_t)(1u << below(8));
    return n;
  }
  case 1: return below(n);
  case 2: {
    size_t c = off[below((size_t)nc)];
    uint32_t len = be32(dst + c), choice = (uint32_t)below(4);
    uint32_t v = choice == 0   ? len + 1 + (uint32_t)below(16)
                 : choice == 1 ? (len ? len - 1 - (uint32_t)below(len) : 0)
                 : choice == 2 ? 0x7fffffffu - (uint32_t)below(1000)
                               : (uint32_t)next();
    put32(dst + c, v);
    return n;
  }
  case 3: { // edit chunk data and fix the CRC, so the chunk's contents are parsed
    size_t c = off[below((size_t)nc)];
    uint32_t len = be32(dst + c);
    if (len == 0) return n;
    int edits = 1 + (int)below(4);
    for (int i = 0; i < edits; i++) {
      size_t p = c + 8 + below(len);
      dst[p] = below(3) == 0 ? (uint8_t)next() : (uint8_t)(dst[p] ^ (1u << below(8)));
    }
    put32(dst + c + 8 + len, (uint32_t)crc32(0, dst + c + 4, len + 4));
    return n;
  }
  default: {
    size_t at = below(n), k = 1 + below(32);
    memmove(dst + at + k, src + at, n - at);
    for (size_t i = 0; i < k; i++)
      dst[at + i] = (uint8_t)next();
    return n + k;
  }
  }
}

int main(void) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s/png-fuzz-XXXXXX", DG_BUILD_DIR);
  if (!mkdtemp(dir)) return 1;
  const dg_png_palette *pal = dg_world_palette();
  // Seed files: an indexed label, a colour-coded RGB label and an RGBA label, with text chunks.
  enum { W = 48, H = 20 };
  uint8_t ids[W * H], rgb[W * H * 3], rgba[W * H * 4];
  for (int i = 0; i < W * H; i++) {
    int x = i % W, y = i / W;
    ids[i] = (x / 6 + y / 5) % 7 == 6 ? DG_PNG_UNLABELLED : (uint8_t)((x / 6 + y / 5) % DG_WORLD_NUM_CLASSES);
    const uint8_t *c = ids[i] == DG_PNG_UNLABELLED ? pal->unlabelled_rgb : pal->rgb[ids[i]];
    memcpy(rgb + 3 * i, c, 3);
    memcpy(rgba + 4 * i, c, 3);
    rgba[4 * i + 3] = 255;
  }
  dg_png_text texts[] = {{"parameters", "fuzz seed file"}};
  dg_png_write_opts o = {.level = 6, .texts = texts, .n_texts = 1};
  char path[3][512];
  snprintf(path[0], sizeof path[0], "%s/seed-indexed.png", dir);
  snprintf(path[1], sizeof path[1], "%s/seed-rgb.png", dir);
  snprintf(path[2], sizeof path[2], "%s/seed-rgba.png", dir);
  dg_check(dg_png_write_label(path[0], W, H, ids, pal, &o) == DG_OK, "write seed 0");
  dg_check(dg_png_write_rgb8(path[1], W, H, rgb, &o) == DG_OK, "write seed 1");
  dg_check(dg_png_write_rgba8(path[2], W, H, rgba, &o) == DG_OK, "write seed 2");
  uint8_t *seed[3];
  size_t seed_n[3];
  for (int s = 0; s < 3; s++) {
    seed[s] = (uint8_t *)wt_read_file(path[s], &seed_n[s]);
    int w = 0, h = 0;
    uint8_t *got = NULL;
    dg_check(dg_png_read_label_mem(seed[s], seed_n[s], "seed", pal, &w, &h, &got) == DG_OK &&
                 !memcmp(got, ids, sizeof ids),
             "seed file %d reads back: %s", s, dg_last_error());
    free(got);
  }
  int ok = 0, errors = 0, by_kind_err[5] = {0}, total = 2000;
  uint8_t *buf = malloc(seed_n[0] + seed_n[1] + seed_n[2] + 64);
  for (int it = 0; it < total; it++) {
    int s = it % 3, kind = (int)((it / 3) % 5);
    size_t n = mutate(seed[s], seed_n[s], buf, kind);
    char name[64];
    snprintf(name, sizeof name, "mutant-%04d.png", it);
    int w = 0, h = 0;
    uint8_t *got = NULL;
    dg_clear_error();
    dg_status st;
    if (it % 50 == 0) { // through the file path too
      char file[600];
      snprintf(file, sizeof file, "%s/%s", dir, name);
      FILE *f = fopen(file, "wb");
      fwrite(buf, 1, n, f);
      fclose(f);
      st = dg_png_read_label(file, pal, &w, &h, &got);
    } else {
      st = dg_png_read_label_mem(buf, n, name, pal, &w, &h, &got);
    }
    if (st == DG_OK) {
      ok++;
      bool valid = w > 0 && h > 0 && got;
      for (int i = 0; valid && i < w * h; i++)
        valid = got[i] < DG_WORLD_NUM_CLASSES || got[i] == DG_PNG_UNLABELLED;
      dg_check(valid, "mutant %d (%s) read as OK but holds invalid ids", it, kinds[kind]);
      free(got);
    } else {
      errors++;
      by_kind_err[kind]++;
      dg_check(st == DG_ERR_FORMAT || st == DG_ERR_OOM, "mutant %d (%s): status %d", it, kinds[kind], st);
      dg_check(strstr(dg_last_error(), name) != NULL, "mutant %d (%s): message does not name the file: '%s'", it,
               kinds[kind], dg_last_error());
      if (it < 15) printf("  %s (%s): %s\n", name, kinds[kind], dg_last_error());
    }
    // The RGB reader must be as robust.
    uint8_t *px = NULL;
    if (dg_png_read_rgb8_mem(buf, n, name, &w, &h, &px) == DG_OK) free(px);
  }
  printf("%d mutants: %d read as valid label maps, %d rejected (bit flips %d, truncations %d, chunk lengths %d, "
         "chunk data %d, insertions %d)\n",
         total, ok, errors, by_kind_err[0], by_kind_err[1], by_kind_err[2], by_kind_err[3], by_kind_err[4]);
  dg_check(errors > total / 2, "most mutants must be rejected (%d of %d)", errors, total);
  for (int k = 0; k < 5; k++)
    dg_check(by_kind_err[k] > 0, "mutation kind '%s' produced no rejected file", kinds[k]);
  free(buf);
  for (int s = 0; s < 3; s++)
    free(seed[s]);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
  return dg_check_finish("test_png_fuzz");
}
