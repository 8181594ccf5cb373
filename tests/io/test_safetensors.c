// dg_safetensors: a valid file opens (from disk via mmap and from memory), lists, finds and converts
// tensors (F32/F16/BF16 to f32 and f16, into host memory and device tensors); every validation failure
// gives a clear error naming the file, the tensor and the problem.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_device.h"
#include "dg_safetensors.h"
#include "io_util.h"

static float f32v[6] = {1.0f, -2.5f, 3.14159265f, 65504.0f, 1e-8f, -0.0f};
static uint16_t f16v[4], bf16v[5];
static float bf16_want[5] = {1.0f, -2.0f, 0.15625f, 3.0e38f, -1.5e-30f};

static unsigned char *valid_image(size_t *size) {
  for (int i = 0; i < 4; i++)
    f16v[i] = dg_f32_to_f16(f32v[i] / 7.0f);
  for (int i = 0; i < 5; i++) {
    uint32_t x;
    memcpy(&x, &bf16_want[i], 4);
    bf16v[i] = (uint16_t)(x >> 16);
    x &= 0xffff0000u;
    memcpy(&bf16_want[i], &x, 4);
  }
  io_writer *w = io_writer_new();
  io_writer_add(w, "b.f32", "F32", 2, (int64_t[]){2, 3}, f32v, sizeof f32v);
  io_writer_add(w, "a.f16", "F16", 1, (int64_t[]){4}, f16v, sizeof f16v);
  io_writer_add(w, "c.bf16", "BF16", 3, (int64_t[]){5, 1, 1}, bf16v, sizeof bf16v);
  int64_t ids[3] = {7, 8, 9};
  io_writer_add(w, "d.ids", "I64", 1, (int64_t[]){3}, ids, sizeof ids);
  io_writer_add(w, "e.scalar", "F32", 0, NULL, &f32v[2], 4);
  io_writer_add(w, "f.empty", "F16", 2, (int64_t[]){0, 3}, NULL, 0);
  io_writer_add(w, "g.6d", "F32", 6, (int64_t[]){1, 1, 1, 1, 1, 2}, f32v, 8);
  io_writer_meta(w, "format", "pt");
  io_writer_meta(w, "note", "caf\\u00e9");
  unsigned char *img = io_writer_image(w, size);
  io_writer_free(w);
  return img;
}

static void check_valid(dg_safetensors *st, dg_arena *arena) {
  dg_check(dg_safetensors_count(st) == 7, "7 tensors (got %zu)", dg_safetensors_count(st));
  const char *order[] = {"a.f16", "b.f32", "c.bf16", "d.ids", "e.scalar", "f.empty", "g.6d"};
  for (size_t i = 0; i < 7 && i < dg_safetensors_count(st); i++)
    dg_check(!strcmp(dg_safetensors_tensor(st, i)->name, order[i]), "tensor %zu is %s", i, order[i]);
  dg_check(dg_safetensors_tensor(st, 7) == NULL, "index past the end gives NULL");
  dg_check(!strcmp(dg_safetensors_metadata(st, "format"), "pt"), "metadata format");
  const char *note = dg_safetensors_metadata(st, "note");
  dg_check(note && !strcmp(note, "caf\xc3\xa9"), "metadata with a \\u escape");
  dg_check(dg_safetensors_metadata(st, "nope") == NULL && dg_safetensors_metadata_count(st) == 2, "metadata count");
  const dg_st_tensor *b = dg_safetensors_find(st, "b.f32"), *a = dg_safetensors_find(st, "a.f16"),
                     *c = dg_safetensors_find(st, "c.bf16"), *d = dg_safetensors_find(st, "d.ids");
  dg_check(dg_safetensors_find(st, "zz") == NULL && dg_safetensors_find(st, "__metadata__") == NULL, "find absent");
  if (!a || !b || !c || !d) {
    dg_check(false, "tensors missing");
    return;
  }
  dg_check(b->dtype == DG_ST_F32 && b->ndim == 2 && b->shape[0] == 2 && b->shape[1] == 3 && b->numel == 6, "b shape");
  dg_check(c->dtype == DG_ST_BF16 && c->ndim == 3 && c->shape[0] == 5, "c shape");
  dg_check(!strcmp(dg_st_dtype_name(d->dtype), "I64") && dg_st_dtype_size(d->dtype) == 8, "I64 dtype");
  float f[6];
  uint16_t h[6];
  dg_check_status(dg_safetensors_read(st, b, DG_F32, f, sizeof f), "f32 -> f32");
  dg_check(!memcmp(f, f32v, sizeof f), "f32 -> f32 exact");
  dg_check_status(dg_safetensors_read(st, b, DG_F16, h, sizeof h), "f32 -> f16");
  bool ok = true;
  for (int i = 0; i < 6; i++)
    ok &= h[i] == dg_f32_to_f16(f32v[i]);
  dg_check(ok, "f32 -> f16 rounds as dg_f32_to_f16");
  dg_check_status(dg_safetensors_read(st, a, DG_F32, f, sizeof f), "f16 -> f32");
  ok = true;
  for (int i = 0; i < 4; i++)
    ok &= f[i] == dg_f16_to_f32(f16v[i]);
  dg_check(ok, "f16 -> f32 exact");
  dg_check_status(dg_safetensors_read(st, a, DG_F16, h, sizeof h), "f16 -> f16");
  dg_check(!memcmp(h, f16v, sizeof f16v), "f16 -> f16 exact");
  dg_check_status(dg_safetensors_read(st, c, DG_F32, f, sizeof f), "bf16 -> f32");
  dg_check(!memcmp(f, bf16_want, 5 * sizeof(float)), "bf16 -> f32 exact");
  dg_check_status(dg_safetensors_read(st, c, DG_F16, h, sizeof h), "bf16 -> f16");
  ok = true;
  for (int i = 0; i < 5; i++)
    ok &= h[i] == dg_f32_to_f16(bf16_want[i]);
  dg_check(ok, "bf16 -> f16 (3e38 saturates to inf, -1.5e-30 flushes to -0)");
  dg_check(h[3] == 0x7c00 && h[4] == 0x8000, "bf16 -> f16 overflow/underflow values");
  dg_check_error(dg_safetensors_read(st, d, DG_F32, f, sizeof f), DG_ERR_UNSUPPORTED, "'d.ids' has dtype I64",
                 "I64 -> f32");
  dg_check_error(dg_safetensors_read(st, b, DG_F32, f, 5 * sizeof(float)), DG_ERR_ARG, "needs 24 bytes",
                 "short destination");
  const dg_st_tensor *e = dg_safetensors_find(st, "e.scalar");
  dg_check_status(dg_safetensors_read(st, e, DG_F32, f, 4), "0-d tensor");
  dg_check(e->ndim == 0 && e->numel == 1 && f[0] == f32v[2], "0-d tensor value");
  const dg_st_tensor *em = dg_safetensors_find(st, "f.empty");
  dg_check(em && em->numel == 0 && em->begin == em->end, "empty tensor");
  dg_check_status(dg_safetensors_read(st, em, DG_F32, f, 0), "read of an empty tensor");
  if (!arena) return;
  dg_tensor t;
  if (dg_check_status(dg_safetensors_load(st, "c.bf16", arena, DG_F32, &t), "load bf16 as f32")) {
    dg_check(t.dtype == DG_F32 && t.ndim == 3 && t.shape[0] == 5 && t.shape[1] == 1, "loaded shape");
    float got[5];
    dg_tensor_read_f32(&t, got);
    dg_check(!memcmp(got, bf16_want, sizeof got), "loaded bf16 values");
  }
  if (dg_check_status(dg_safetensors_load(st, "b.f32", arena, DG_F16, &t), "load f32 as f16")) {
    float got[6];
    dg_tensor_read_f32(&t, got);
    ok = true;
    for (int i = 0; i < 6; i++)
      ok &= got[i] == dg_f16_to_f32(dg_f32_to_f16(f32v[i]));
    dg_check(ok && t.dtype == DG_F16, "loaded f16 values");
  }
  if (dg_check_status(dg_safetensors_load(st, "e.scalar", arena, DG_F32, &t), "load scalar"))
    dg_check(t.ndim == 1 && t.shape[0] == 1, "scalar loads as [1]");
  dg_check_error(dg_safetensors_load(st, "g.6d", arena, DG_F32, &t), DG_ERR_UNSUPPORTED, "6 dims", "6-D load");
  dg_check_error(dg_safetensors_load(st, "nope", arena, DG_F32, &t), DG_ERR_ARG, "no tensor named 'nope'",
                 "load of an absent name");
  dg_check_error(dg_safetensors_load(st, "d.ids", arena, DG_F16, &t), DG_ERR_UNSUPPORTED, "I64", "load of I64");
}

// Every f16 and bf16 bit pattern, and f32 patterns around every f16 rounding boundary, convert exactly
// as dg_f16_to_f32 / dg_f32_to_f16 do (the reader has its own inlined copies).
static void conversions_exhaustive(void) {
  enum { N = 65536, M = 65536 * 8 };
  uint16_t *h = malloc(N * 2);
  uint32_t *x = malloc(M * 4);
  for (uint32_t i = 0; i < N; i++)
    h[i] = (uint16_t)i;
  uint64_t s = 12345;
  for (uint32_t i = 0; i < M; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    // f16 value bits shifted into f32 position, with random low bits (ties, just above/below).
    uint32_t low[4] = {0x1000u, 0x0fffu, 0x1001u, (uint32_t)(s >> 40) & 0x1fffu};
    uint32_t exp16 = (i >> 3) & 0x1f;
    uint32_t e32 = exp16 ? exp16 - 15 + 127 : (uint32_t)(s >> 20) % 113; // also subnormal-range f32
    x[i] = ((i >> 8) & 0x80000000u) | (e32 << 23) | ((((i >> 3) >> 5) & 0x3ffu) << 13) | low[i & 3];
    if ((i & 7) >= 4) x[i] = (uint32_t)(s >> 32);
  }
  io_writer *w = io_writer_new();
  io_writer_add(w, "f16", "F16", 1, (int64_t[]){N}, h, N * 2);
  io_writer_add(w, "bf16", "BF16", 1, (int64_t[]){N}, h, N * 2);
  io_writer_add(w, "f32", "F32", 1, (int64_t[]){M}, x, M * 4);
  size_t size;
  unsigned char *img = io_writer_image(w, &size);
  io_writer_free(w);
  dg_safetensors *st;
  float *f = malloc(M * 4);
  uint16_t *g = malloc(M * 2);
  if (dg_check_status(dg_safetensors_open_memory(img, size, "conv", &st), "open conversion table")) {
    long bad = 0;
    dg_check_status(dg_safetensors_read(st, dg_safetensors_find(st, "f16"), DG_F32, f, N * 4), "all f16 -> f32");
    for (uint32_t i = 0; i < N; i++) {
      float want = dg_f16_to_f32(h[i]);
      bad += memcmp(&f[i], &want, 4) != 0;
    }
    dg_check(bad == 0, "%ld of 65536 f16 -> f32 differ from dg_f16_to_f32", bad);
    bad = 0;
    dg_check_status(dg_safetensors_read(st, dg_safetensors_find(st, "bf16"), DG_F16, g, N * 2), "all bf16 -> f16");
    for (uint32_t i = 0; i < N; i++) {
      uint32_t b = (uint32_t)h[i] << 16;
      float v;
      memcpy(&v, &b, 4);
      bad += g[i] != dg_f32_to_f16(v);
    }
    dg_check(bad == 0, "%ld of 65536 bf16 -> f16 differ from dg_f32_to_f16", bad);
    bad = 0;
    dg_check_status(dg_safetensors_read(st, dg_safetensors_find(st, "f32"), DG_F16, g, M * 2), "f32 -> f16 patterns");
    for (uint32_t i = 0; i < M; i++) {
      float v;
      memcpy(&v, &x[i], 4);
      bad += g[i] != dg_f32_to_f16(v);
    }
    dg_check(bad == 0, "%ld of %d f32 -> f16 differ from dg_f32_to_f16", bad, M);
    dg_safetensors_close(st);
  }
  free(f);
  free(g);
  free(img);
  free(h);
  free(x);
}

// Opens a crafted image from memory, expecting an error that mentions `needle` and the file name.
static void expect_bad(unsigned char *img, size_t size, dg_status want, const char *needle, const char *what) {
  dg_safetensors *st = (dg_safetensors *)1;
  dg_status s = dg_safetensors_open_memory(img, size, "crafted.safetensors", &st);
  dg_check_error(s, want, needle, what);
  dg_check(strstr(dg_last_error(), "crafted.safetensors") != NULL, "%s: message names the file", what);
  dg_check(st == NULL, "%s: handle cleared", what);
  free(img);
}

// `make` writes the image size into n.
#define BAD(make, ...)                                                                                                 \
  do {                                                                                                                 \
    unsigned char *img_ = make;                                                                                        \
    expect_bad(img_, n, __VA_ARGS__);                                                                                  \
  } while (0)
#define HDR(entries) "{" entries "}"
#define T_(name, dtype, shape, off)                                                                                    \
  "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" off "}"

static void failures(const char *dir) {
  size_t n;
  unsigned char *img;
  expect_bad(io_image_h("", NULL, 0, &n), 0, DG_ERR_FORMAT, "0 bytes, too short", "empty image (0 bytes)");
  img = io_image_h("", NULL, 0, &n);
  expect_bad(img, 5, DG_ERR_FORMAT, "5 bytes, too short", "truncated length field");
  BAD(io_image(1ull << 62, "{}", NULL, 0, &n), DG_ERR_FORMAT, "exceeds", "header length overflow (2^62)");
  BAD(io_image(UINT64_MAX, "{}", NULL, 0, &n), DG_ERR_FORMAT, "exceeds", "header length 2^64-1");
  BAD(io_image(100, "{}", NULL, 0, &n), DG_ERR_FORMAT, "runs past the end", "header length past the file");
  BAD(io_image(0, "", NULL, 0, &n), DG_ERR_FORMAT, "does not start with '{'", "header length 0");
  // A zip goes to the PyTorch checkpoint reader (tests/io/test_ckpt.c); a bare pickle is refused.
  BAD(io_image(0x0000000004034b50ull, "torch zip archive", NULL, 0, &n), DG_ERR_FORMAT,
      "no zip end of central directory record", "broken zip .ckpt");
  BAD(io_image(0x2e7d710000000280ull, "", NULL, 0, &n), DG_ERR_UNSUPPORTED, "legacy format of torch < 1.6",
      "pickle .ckpt");
  BAD(io_image_h("[1,2]", NULL, 0, &n), DG_ERR_FORMAT, "does not start with '{'", "array header");
  BAD(io_image_h("{\"a\":", NULL, 0, &n), DG_ERR_FORMAT, "invalid JSON at byte 13", "truncated JSON");
  BAD(io_image_h("{\"a\":1,}", NULL, 0, &n), DG_ERR_FORMAT, "invalid JSON at byte 15", "bad JSON");
  BAD(io_image_h("{} \x01", NULL, 0, &n), DG_ERR_FORMAT, "trailing characters", "garbage after header");
  BAD(io_image_h(HDR("\"w\":1"), NULL, 0, &n), DG_ERR_FORMAT, "'w' (byte 13): entry is a JSON number",
      "entry not an object");
  BAD(io_image_h(HDR(T_("w", "F99", "[1]", "[0,4]")), NULL, 4, &n), DG_ERR_UNSUPPORTED, "'w': unknown dtype 'F99'",
      "bad dtype");
  BAD(io_image_h(HDR("\"w\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}"), NULL, 4, &n), DG_ERR_FORMAT,
      "dtype is a JSON number", "dtype not a string");
  BAD(io_image_h(HDR("\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}"), NULL, 4, &n), DG_ERR_FORMAT,
      "missing field 'dtype'", "missing dtype");
  BAD(io_image_h(HDR("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}"), NULL, 4, &n),
      DG_ERR_FORMAT, "unknown field 'x'", "extra field");
  BAD(io_image_h(HDR(T_("w", "F32", "[-1]", "[0,4]")), NULL, 4, &n), DG_ERR_FORMAT,
      "shape entry 0 (byte 37) is not a non-negative integer", "negative dim");
  BAD(io_image_h(HDR(T_("w", "F32", "[1.5]", "[0,4]")), NULL, 4, &n), DG_ERR_FORMAT, "not a non-negative integer",
      "fractional dim");
  BAD(io_image_h(HDR(T_("w", "F32", "1", "[0,4]")), NULL, 4, &n), DG_ERR_FORMAT, "shape is a JSON number",
      "shape not an array");
  BAD(io_image_h(HDR(T_("w", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]")), NULL, 4, &n), DG_ERR_UNSUPPORTED, "9 dims",
      "too many dims");
  BAD(io_image_h(HDR(T_("w", "F32", "[4294967296,4294967296]", "[0,4]")), NULL, 4, &n), DG_ERR_FORMAT, "overflows",
      "element count overflow");
  BAD(io_image_h(HDR(T_("w", "F32", "[2,3]", "[0,20]")), NULL, 24, &n), DG_ERR_FORMAT,
      "'w': data_offsets [0, 20] hold 20 bytes but shape of 6 F32 elements needs 24", "shape/offset mismatch");
  BAD(io_image_h(HDR(T_("w", "F32", "[2]", "[0,8]")), NULL, 4, &n), DG_ERR_FORMAT,
      "'w': data_offsets [0, 8] run past the data section (4 bytes", "offsets outside the file");
  BAD(io_image_h(HDR(T_("w", "F32", "[1]", "[8,4]")), NULL, 8, &n), DG_ERR_FORMAT, "end before begin",
      "end before begin");
  BAD(io_image_h(HDR(T_("w", "F32", "[1]", "[0]")), NULL, 4, &n), DG_ERR_FORMAT,
      "data_offsets must be an array [begin, end]", "one offset");
  BAD(io_image_h(HDR(T_("w", "F32", "[1]", "[0,-4]")), NULL, 4, &n), DG_ERR_FORMAT, "data_offsets[1] (byte",
      "negative offset");
  BAD(io_image_h(HDR(T_("x", "F32", "[2]", "[0,8]") "," T_("y", "F16", "[4]", "[4,12]")), NULL, 12, &n), DG_ERR_FORMAT,
      "tensors 'x' [0, 8] and 'y' [4, 12] overlap", "overlap");
  BAD(io_image_h(HDR(T_("x", "F32", "[2]", "[0,8]") "," T_("y", "F32", "[2]", "[0,8]")), NULL, 8, &n), DG_ERR_FORMAT,
      "overlap", "aliased tensors");
  BAD(io_image_h(HDR(T_("x", "F32", "[1]", "[0,4]") "," T_("x", "F32", "[1]", "[4,8]")), NULL, 8, &n), DG_ERR_FORMAT,
      "duplicate object key", "duplicate tensor name");
  BAD(io_image_h(HDR(T_("x\\u0000y", "F32", "[1]", "[0,4]")), NULL, 4, &n), DG_ERR_FORMAT, "NUL character",
      "NUL in a name");
  BAD(io_image_h(HDR("\"__metadata__\":{\"a\":1}"), NULL, 0, &n), DG_ERR_FORMAT, "__metadata__ 'a' is a JSON number",
      "metadata value not a string");
  BAD(io_image_h(HDR("\"__metadata__\":[]"), NULL, 0, &n), DG_ERR_FORMAT, "__metadata__ (byte 24) is a JSON array",
      "metadata not an object");

  // Truncated real file: cut the valid image inside the data section, on disk (mmap path).
  size_t size;
  unsigned char *valid = valid_image(&size);
  char path[4096];
  snprintf(path, sizeof path, "%s/truncated.safetensors", dir);
  io_write_file(path, valid, size - 6);
  dg_safetensors *st;
  dg_status s = dg_safetensors_open(path, &st);
  dg_check_error(s, DG_ERR_FORMAT, "run past the data section", "truncated file on disk");
  dg_check(strstr(dg_last_error(), "truncated.safetensors: tensor '") != NULL, "truncated file: names file and tensor");
  snprintf(path, sizeof path, "%s/empty.safetensors", dir);
  io_write_file(path, "", 0);
  dg_check_error(dg_safetensors_open(path, &st), DG_ERR_FORMAT, "0 bytes, too short", "empty file on disk");
  snprintf(path, sizeof path, "%s/missing.safetensors", dir);
  dg_check_error(dg_safetensors_open(path, &st), DG_ERR_IO, "missing.safetensors: cannot open", "missing file");
  dg_check_error(dg_safetensors_open(dir, &st), DG_ERR_IO, "not a regular file", "a directory");
  free(valid);
}

int main(void) {
  char *dir = io_tmpdir();
  dg_device *device = NULL;
  dg_arena *arena = NULL;
  if (dg_device_open(NULL, &device) != DG_OK || dg_arena_create(device, 0, &arena) != DG_OK)
    printf("no usable Vulkan device (%s): device loads skipped\n", dg_last_error());

  size_t size;
  unsigned char *img = valid_image(&size);
  dg_safetensors *st;
  if (dg_check_status(dg_safetensors_open_memory(img, size, "mem.safetensors", &st), "open from memory")) {
    check_valid(st, arena);
    dg_check(!strcmp(dg_safetensors_path(st), "mem.safetensors"), "memory name");
    dg_safetensors_close(st);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/valid.safetensors", dir);
  io_write_file(path, img, size);
  if (dg_check_status(dg_safetensors_open(path, &st), "open with mmap")) {
    check_valid(st, arena);
    dg_safetensors_close(st);
  }
  // A file with no tensors at all is valid.
  size_t n;
  unsigned char *e = io_image_h("{}      ", NULL, 0, &n);
  if (dg_check_status(dg_safetensors_open_memory(e, n, "e", &st), "empty header")) {
    dg_check(dg_safetensors_count(st) == 0, "no tensors");
    dg_safetensors_close(st);
  }
  free(e);
  free(img);
  failures(dir);
  conversions_exhaustive();
  io_rmtree(dir);
  free(dir);
  if (device) {
    dg_check(dg_device_validation_messages(device) == 0, "no validation messages");
    dg_arena_destroy(arena);
    dg_device_close(device);
  }
  return dg_check_finish("test_safetensors");
}
