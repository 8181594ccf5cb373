// PyTorch checkpoints (dg_ckpt: dg_zip + dg_pickle) through dg_safetensors_open_memory. An input that
// starts with "PK" is the whole file image (the zip reader's bounds: end records, ZIP64, central and
// local headers, names). Any other input is a pickle: the harness stores it as archive/data.pkl (CRC
// right, so that mutations reach the interpreter) in a zip beside storages archive/data/0 ..
// archive/data/7 of 16 * (key + 1) bytes. Every tensor the reader accepts lies inside the image, is
// found by name and converts to f32 and f16 (or is refused with a message); nothing else may happen:
// no global outside the allowlist is ever resolved (the interpreter cannot call anything).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dg_pickle.h"
#include "dg_safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

static void put16(uint8_t *p, unsigned v) { p[0] = v & 0xff, p[1] = (v >> 8) & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff), put16(p + 2, v >> 16); }

// A stored zip of `n` entries (names, data, sizes); malloc'd, *size set.
static uint8_t *zip_image(int n, const char *const *names, const uint8_t *const *data, const size_t *sizes,
                          size_t *size) {
  size_t total = 22;
  for (int i = 0; i < n; i++)
    total += 30 + 46 + 2 * strlen(names[i]) + sizes[i];
  uint8_t *z = calloc(1, total), *p = z;
  uint32_t offsets[16], crcs[16];
  for (int i = 0; i < n; i++) {
    size_t nl = strlen(names[i]);
    offsets[i] = (uint32_t)(p - z);
    crcs[i] = (uint32_t)crc32(crc32(0, Z_NULL, 0), data[i], (uInt)sizes[i]);
    put32(p, 0x04034b50), put16(p + 4, 20), put32(p + 14, crcs[i]);
    put32(p + 18, (uint32_t)sizes[i]), put32(p + 22, (uint32_t)sizes[i]), put16(p + 26, (unsigned)nl);
    memcpy(p + 30, names[i], nl);
    if (sizes[i]) memcpy(p + 30 + nl, data[i], sizes[i]);
    p += 30 + nl + sizes[i];
  }
  uint8_t *cd = p;
  for (int i = 0; i < n; i++) {
    size_t nl = strlen(names[i]);
    put32(p, 0x02014b50), put16(p + 4, 20), put16(p + 6, 20), put32(p + 16, crcs[i]);
    put32(p + 20, (uint32_t)sizes[i]), put32(p + 24, (uint32_t)sizes[i]), put16(p + 28, (unsigned)nl);
    put32(p + 42, offsets[i]);
    memcpy(p + 46, names[i], nl);
    p += 46 + nl;
  }
  put32(p, 0x06054b50), put16(p + 8, (unsigned)n), put16(p + 10, (unsigned)n);
  put32(p + 12, (uint32_t)(p - cd)), put32(p + 16, (uint32_t)(cd - z));
  *size = total;
  return z;
}

static void check(const dg_safetensors *st, const uint8_t *image, size_t size) {
  for (size_t i = 0; i < dg_safetensors_count(st); i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    const uint8_t *d = dg_safetensors_data(st, t);
    if (t->end < t->begin || d < image || t->end > size || d + (t->end - t->begin) > image + size ||
        dg_safetensors_find(st, t->name) != t)
      fuzz_fail("tensor '%s' at [%llu, %llu) of a %zu-byte image", t->name, (unsigned long long)t->begin,
                (unsigned long long)t->end, size);
    if ((uint64_t)t->numel * dg_st_dtype_size(t->dtype) != t->end - t->begin)
      fuzz_fail("tensor '%s': %lld elements in %llu bytes", t->name, (long long)t->numel,
                (unsigned long long)(t->end - t->begin));
    size_t need = (size_t)t->numel * 4;
    if (need > (16u << 20)) continue;
    void *buf = malloc(need ? need : 1);
    for (int f16 = 0; f16 < 2; f16++) {
      dg_clear_error();
      dg_status s = dg_safetensors_read(st, t, f16 ? DG_F16 : DG_F32, buf, need);
      if (s != DG_OK) fuzz_expect_error(s, "dg_safetensors_read");
    }
    free(buf);
  }
  for (size_t i = 0; i < dg_safetensors_metadata_count(st); i++) {
    const char *k, *v;
    dg_safetensors_metadata_at(st, i, &k, &v);
    if (!k || !v || !dg_safetensors_metadata(st, k)) fuzz_fail("metadata entry %zu", i);
  }
}

static void open_image(const uint8_t *image, size_t size) {
  dg_safetensors *st = NULL;
  dg_clear_error();
  dg_status s = dg_safetensors_open_memory(image, size, "fuzz.ckpt", &st);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_safetensors_open_memory");
    if (st) fuzz_fail("a failed open returned a handle");
    return;
  }
  check(st, image, size);
  dg_safetensors_close(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    open_image(data, size);
    return 0;
  }
  // The pickle alone, then inside an archive with storages.
  dg_pickle *p = NULL;
  const dg_pk_value *root;
  dg_clear_error();
  dg_status s = dg_pickle_load(data, size, "fuzz.pkl", &p, &root);
  if (s != DG_OK) fuzz_expect_error(s, "dg_pickle_load");
  else if (!root) fuzz_fail("a pickle without a value");
  dg_pickle_free(p);
  static uint8_t storage[8][128];
  const char *names[10] = {"archive/data.pkl", "archive/version"};
  const uint8_t *parts[10] = {data, (const uint8_t *)"3\n"};
  size_t sizes[10] = {size, 2};
  static char keys[8][32];
  for (int k = 0; k < 8; k++) {
    for (int i = 0; i < 128; i++)
      storage[k][i] = (uint8_t)(k * 31 + i * 7);
    snprintf(keys[k], sizeof keys[k], "archive/data/%d", k);
    names[2 + k] = keys[k];
    parts[2 + k] = storage[k];
    sizes[2 + k] = 16 * (size_t)(k + 1);
  }
  size_t n;
  uint8_t *image = zip_image(10, names, parts, sizes, &n);
  open_image(image, n);
  free(image);
  return 0;
}
