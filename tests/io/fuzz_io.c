// Deterministic mutation fuzzing of the safetensors reader, the JSON parser and the model store: valid
// seeds are mutated (bit flips, interesting bytes, truncation, header-length changes, inserted or
// deleted header text, spliced numbers, random text) and every result must either open cleanly (and
// then read without error) or fail with a status and a non-empty message. Crashes and memory errors
// show under ASan/UBSan (meson setup build-asan -Db_sanitize=address,undefined).
// DG_FUZZ_SEED and DG_FUZZ_ITERS (safetensors and JSON inputs each) override the defaults.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_json.h"
#include "dg_safetensors.h"
#include "dg_weights.h"
#include "io_util.h"

static uint64_t rng;
static uint64_t next(void) { // splitmix64
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static size_t below(size_t n) { return n ? (size_t)(next() % n) : 0; }

typedef struct bytes {
  unsigned char *d;
  size_t n, cap;
} bytes;

static void reserve(bytes *b, size_t n) {
  if (n <= b->cap) return;
  b->cap = n * 2;
  b->d = realloc(b->d, b->cap);
  if (!b->d) abort();
}

static const char interesting[] = "{}[]\":,\\-+.0123456789eEuUtfnl \t\n\x00\x7f\x80\xff\xc3\xed\xf4";
static const char *const splices[] = {"18446744073709551615",
                                      "18446744073709551616",
                                      "-1",
                                      "1e99",
                                      "0.5",
                                      "\"\\ud800\"",
                                      "null",
                                      "[]",
                                      "{}",
                                      "\"F64\"",
                                      "\"BF16\"",
                                      "\"BOOL\"",
                                      "\"__metadata__\"",
                                      "\"data_offsets\":[0,0]",
                                      "[4294967296,4294967296]",
                                      "9999999999"};

// Applies 1-4 random mutations. `header_len` bounds where text edits land (0: anywhere); if
// `length_field` the first 8 bytes are a little-endian length that may be rewritten.
static void mutate(bytes *b, size_t header_end, bool length_field) {
  int count = 1 + (int)below(4);
  for (int m = 0; m < count; m++) {
    size_t lo = length_field ? 8 : 0, hi = header_end && header_end <= b->n ? header_end : b->n;
    size_t at = hi > lo ? lo + below(hi - lo) : lo;
    switch (below(length_field ? 9 : 8)) {
    case 0: // bit flips, mostly in the header
      for (int k = 1 + (int)below(8); k > 0 && b->n; k--) {
        size_t p = below(4) ? at : below(b->n);
        if (p < b->n) b->d[p] ^= (unsigned char)(1u << below(8));
        at = hi > lo ? lo + below(hi - lo) : lo;
      }
      break;
    case 1: // an interesting byte
      if (at < b->n) b->d[at] = (unsigned char)interesting[below(sizeof interesting - 1)];
      break;
    case 2: // truncation
      b->n = below(b->n + 1);
      break;
    case 3: { // insert random header text
      size_t k = 1 + below(16);
      reserve(b, b->n + k);
      if (at > b->n) at = b->n;
      memmove(b->d + at + k, b->d + at, b->n - at);
      for (size_t i = 0; i < k; i++)
        b->d[at + i] = (unsigned char)interesting[below(sizeof interesting - 1)];
      b->n += k;
      break;
    }
    case 4: { // delete a range
      if (at >= b->n) break;
      size_t k = 1 + below(b->n - at < 32 ? b->n - at : 32);
      memmove(b->d + at, b->d + at + k, b->n - at - k);
      b->n -= k;
      break;
    }
    case 5: { // splice a token over a number or anywhere
      const char *s = splices[below(sizeof splices / sizeof *splices)];
      size_t k = strlen(s);
      for (size_t p = at; p < b->n && p < at + 64; p++)
        if (b->d[p] >= '0' && b->d[p] <= '9') {
          at = p;
          break;
        }
      size_t old = 0;
      while (at + old < b->n && b->d[at + old] >= '0' && b->d[at + old] <= '9')
        old++;
      reserve(b, b->n + k);
      if (at > b->n) at = b->n;
      memmove(b->d + at + k, b->d + at + old, b->n - at - old);
      memcpy(b->d + at, s, k);
      b->n = b->n - old + k;
      break;
    }
    case 6: { // duplicate a range (e.g. an entry)
      if (at >= b->n) break;
      size_t k = 1 + below(b->n - at < 64 ? b->n - at : 64), to = below(b->n + 1);
      reserve(b, b->n + k);
      unsigned char tmp[64];
      memcpy(tmp, b->d + at, k);
      memmove(b->d + to + k, b->d + to, b->n - to);
      memcpy(b->d + to, tmp, k);
      b->n += k;
      break;
    }
    case 7: // overwrite with random bytes
      for (size_t k = below(8); k > 0 && at < b->n; k--, at++)
        b->d[at] = (unsigned char)next();
      break;
    case 8: { // rewrite the length field
      if (b->n < 8) break;
      uint64_t len;
      memcpy(&len, b->d, 8);
      uint64_t choices[] = {0,
                            1,
                            len - 1,
                            len + 1,
                            b->n - 8,
                            b->n - 7,
                            next(),
                            1ull << 63,
                            DG_ST_MAX_HEADER,
                            DG_ST_MAX_HEADER + 1ull,
                            len + (uint64_t)below(64) - 32};
      len = choices[below(sizeof choices / sizeof *choices)];
      memcpy(b->d, &len, 8);
      break;
    }
    }
  }
}

static long opened, rejected, reads;

static bool good_error(dg_status s) {
  const char *msg = dg_last_error();
  return (s == DG_ERR_FORMAT || s == DG_ERR_UNSUPPORTED || s == DG_ERR_OOM || s == DG_ERR_IO) && msg[0];
}

static void exercise(const dg_safetensors *st, size_t size) {
  float *f = NULL;
  size_t cap = 0;
  for (size_t i = 0; i < dg_safetensors_count(st); i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    if (!dg_check(t->begin <= t->end && t->end <= size && dg_safetensors_find(st, t->name) == t,
                  "opened tensor '%s' has offsets [%llu, %llu] in a %zu-byte file", t->name,
                  (unsigned long long)t->begin, (unsigned long long)t->end, size))
      continue;
    size_t need = (size_t)t->numel * 4;
    if (need > (64u << 20)) continue;
    if (need > cap) f = realloc(f, cap = need);
    for (int dt = 0; dt < 2; dt++) {
      dg_status s = dg_safetensors_read(st, t, dt ? DG_F16 : DG_F32, f, need);
      bool floaty = t->dtype == DG_ST_F32 || t->dtype == DG_ST_F16 || t->dtype == DG_ST_BF16;
      dg_check(floaty ? s == DG_OK : s == DG_ERR_UNSUPPORTED, "read of '%s' (%s): %s", t->name,
               dg_st_dtype_name(t->dtype), dg_last_error());
      reads++;
    }
  }
  for (size_t i = 0; i < dg_safetensors_metadata_count(st); i++) {
    const char *k, *v;
    dg_safetensors_metadata_at(st, i, &k, &v);
    dg_check(k && v && dg_safetensors_metadata(st, k) != NULL, "metadata %zu", i);
  }
  free(f);
}

static void fuzz_safetensors(bytes *seeds, int nseeds, long iters, const char *dir) {
  bytes b = {0};
  for (long it = 0; it < iters; it++) {
    const bytes *seed = &seeds[below((size_t)nseeds)];
    reserve(&b, seed->n);
    memcpy(b.d, seed->d, seed->n);
    b.n = seed->n;
    uint64_t hl;
    memcpy(&hl, seed->d, 8);
    mutate(&b, (size_t)(8 + hl), true);
    // An exactly-sized copy, so ASan catches any read past the end.
    unsigned char *img = malloc(b.n ? b.n : 1);
    memcpy(img, b.d, b.n);
    dg_safetensors *st = NULL;
    dg_status s;
    if (it % 200 == 0) { // the mmap path now and then
      char path[1100];
      snprintf(path, sizeof path, "%s/fuzz.safetensors", dir);
      io_write_file(path, img, b.n);
      s = dg_safetensors_open(path, &st);
    } else
      s = dg_safetensors_open_memory(img, b.n, "fuzz", &st);
    if (s == DG_OK) {
      opened++;
      exercise(st, b.n);
      dg_safetensors_close(st);
    } else {
      rejected++;
      if (!dg_check(good_error(s) && st == NULL, "iteration %ld: status %s, message '%s'", it, dg_status_name(s),
                    dg_last_error()))
        break;
    }
    free(img);
  }
  free(b.d);
}

static long nodes;
static void walk(const dg_json_value *v, int depth) {
  nodes++;
  dg_check(depth <= DG_JSON_DEFAULT_DEPTH, "tree deeper than the limit");
  if (v->type == DG_JSON_STRING) dg_check(strlen(v->str) <= v->len && v->str[v->len] == 0, "string length");
  if (v->type == DG_JSON_ARRAY)
    for (size_t i = 0; i < v->count; i++)
      walk(v->items[i], depth + 1);
  if (v->type == DG_JSON_OBJECT)
    for (size_t i = 0; i < v->count; i++) {
      const dg_json_member *m = &v->members[i];
      if (strlen(m->key) == m->key_len) dg_check(dg_json_get(v, m->key) == m->value, "lookup of '%s'", m->key);
      walk(m->value, depth + 1);
    }
}

static void fuzz_json(bytes *seeds, int nseeds, long iters) {
  bytes b = {0};
  long ok = 0, bad = 0;
  for (long it = 0; it < iters; it++) {
    if (it % 10 == 0) { // random text from JSON's alphabet
      b.n = below(200);
      reserve(&b, b.n + 1);
      for (size_t i = 0; i < b.n; i++)
        b.d[i] = (unsigned char)interesting[below(sizeof interesting - 1)];
    } else {
      const bytes *seed = &seeds[below((size_t)nseeds)];
      reserve(&b, seed->n);
      memcpy(b.d, seed->d, seed->n);
      b.n = seed->n;
      mutate(&b, 0, false);
    }
    char *text = malloc(b.n ? b.n : 1);
    memcpy(text, b.d, b.n);
    dg_json *doc = NULL;
    int depth = (int)below(70);
    dg_status s = dg_json_parse(text, b.n, "fuzz.json", 0, depth, &doc);
    if (s == DG_OK) {
      ok++;
      walk(dg_json_root(doc), 0);
      dg_json_free(doc);
    } else {
      bad++;
      if (!dg_check((s == DG_ERR_FORMAT || s == DG_ERR_OOM) && dg_last_error()[0] && doc == NULL,
                    "json iteration %ld: status %s, message '%s'", it, dg_status_name(s), dg_last_error()))
        break;
    }
    free(text);
  }
  printf("JSON: %ld inputs, %ld parsed, %ld rejected, %ld nodes walked\n", iters, ok, bad, nodes);
  free(b.d);
}

// Mutates tensor names of a diffusers/LDM file (digits, dots, prefixes) and opens it as a model.
static void fuzz_weights(const bytes *seed, long iters, const char *dir) {
  long ok = 0, bad = 0, detected = 0;
  bytes b = {0};
  uint64_t hl;
  memcpy(&hl, seed->d, 8);
  char path[1100];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  for (long it = 0; it < iters; it++) {
    reserve(&b, seed->n);
    memcpy(b.d, seed->d, seed->n);
    b.n = seed->n;
    // Only same-length edits inside names keep the header valid often enough to reach the name maps.
    for (int k = 1 + (int)below(6); k > 0; k--) {
      size_t p = 8 + below((size_t)hl);
      unsigned char c = b.d[p];
      if (c >= '0' && c <= '9')
        b.d[p] = (unsigned char)("0123456789999"[below(13)]);
      else if (c == '.' || c == '_')
        b.d[p] = (unsigned char)"._"[below(2)];
      else if (c >= 'a' && c <= 'z' && below(4) == 0)
        b.d[p] = (unsigned char)('a' + below(26));
    }
    io_write_file(path, b.d, b.n);
    dg_weights *w = NULL;
    dg_status s = dg_weights_open(path, &w);
    if (s == DG_OK) {
      ok++;
      dg_model_info info;
      dg_status d = dg_weights_detect(w, &info);
      if (d == DG_OK)
        detected++;
      else
        dg_check(good_error(d), "detect: status %s, '%s'", dg_status_name(d), dg_last_error());
      dg_weights_close(w);
    } else {
      bad++;
      dg_check(good_error(s) && w == NULL, "weights: status %s, '%s'", dg_status_name(s), dg_last_error());
    }
  }
  printf("model store: %ld mutated checkpoints, %ld opened (%ld detected), %ld rejected\n", iters, ok, detected, bad);
  free(b.d);
}

static bytes load(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", DG_IO_DATA, name);
  bytes b = {0};
  b.d = io_read_file(path, &b.n);
  if (!b.d) {
    printf("cannot read %s\n", path);
    exit(1);
  }
  b.cap = b.n;
  return b;
}

int main(void) {
  const char *env = getenv("DG_FUZZ_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 10) : 20261125;
  env = getenv("DG_FUZZ_ITERS");
  long iters = env ? atol(env) : 20000;
  rng = seed;
  printf("fuzz_io: seed %llu, %ld iterations per parser (DG_FUZZ_SEED / DG_FUZZ_ITERS)\n", (unsigned long long)seed,
         iters);
  char *dir = io_tmpdir();

  bytes st_seeds[4];
  st_seeds[0] = load("sd15_tiny_diffusers/text_encoder/model.safetensors");
  st_seeds[1] = load("stylegan2_tiny.safetensors");
  st_seeds[2] = load("unknown.safetensors");
  io_writer *w = io_writer_new();
  float f[4] = {1, 2, 3, 4};
  io_writer_add(w, "f32", "F32", 2, (int64_t[]){2, 2}, f, 16);
  io_writer_add(w, "f16", "F16", 1, (int64_t[]){2}, f, 4);
  io_writer_add(w, "bf16", "BF16", 3, (int64_t[]){1, 2, 1}, f, 4);
  io_writer_add(w, "i64", "I64", 1, (int64_t[]){1}, f, 8);
  io_writer_add(w, "scalar", "F32", 0, NULL, f, 4);
  io_writer_add(w, "empty", "F16", 1, (int64_t[]){0}, NULL, 0);
  io_writer_meta(w, "format", "pt");
  st_seeds[3].d = io_writer_image(w, &st_seeds[3].n);
  st_seeds[3].cap = st_seeds[3].n;
  io_writer_free(w);
  for (int i = 0; i < 4; i++) {
    dg_safetensors *st;
    dg_check_status(dg_safetensors_open_memory(st_seeds[i].d, st_seeds[i].n, "seed", &st), "seed opens");
    dg_safetensors_close(st);
  }
  fuzz_safetensors(st_seeds, 4, iters, dir);
  printf("safetensors: %ld inputs, %ld opened, %ld rejected, %ld tensor reads\n", iters, opened, rejected, reads);

  const char *json_text[] = {
      "{\"a\":[1,-2.5e3,0,true,false,null,{},[]],\"b\":\"x\\\"\\\\\\/"
      "\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\ud83d\\ude00\"}",
      "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
      "{\"k\":{\"k\":{\"k\":{\"k\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}}}",
      "[18446744073709551615,18446744073709551616,-0,0.0e-0,1E+2,123456789012345678901234567890]",
  };
  bytes js[5];
  for (int i = 0; i < 4; i++) {
    js[i].n = js[i].cap = strlen(json_text[i]);
    js[i].d = malloc(js[i].n);
    memcpy(js[i].d, json_text[i], js[i].n);
  }
  uint64_t hl;
  memcpy(&hl, st_seeds[0].d, 8);
  js[4].n = js[4].cap = (size_t)hl;
  js[4].d = malloc(js[4].n);
  memcpy(js[4].d, st_seeds[0].d + 8, js[4].n);
  fuzz_json(js, 5, iters);

  bytes unet = load("sd15_tiny_diffusers/controlnet/diffusion_pytorch_model.safetensors");
  fuzz_weights(&unet, iters / 40, dir);

  for (int i = 0; i < 4; i++)
    free(st_seeds[i].d);
  for (int i = 0; i < 5; i++)
    free(js[i].d);
  free(unet.d);
  io_rmtree(dir);
  free(dir);
  return dg_check_finish("fuzz_io");
}
