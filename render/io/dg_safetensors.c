#include "dg_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_ckpt.h"
#include "dg_file.h"
#include "dg_json.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

struct dg_safetensors {
  char *path;
  const unsigned char *data; // whole file
  size_t size;
  bool mapped;
  const unsigned char *payload; // data section
  uint64_t payload_size;
  dg_json *header;
  dg_st_tensor *tensors; // sorted by name
  size_t count;
  const char **meta_keys, **meta_values;
  size_t meta_count;
  void *owned; // dg_safetensors_adopt
};

static const struct {
  const char *name;
  dg_st_dtype dtype;
  size_t size;
} dtypes[] = {
    {"F32", DG_ST_F32, 4},         {"F16", DG_ST_F16, 2},         {"BF16", DG_ST_BF16, 2}, {"F64", DG_ST_F64, 8},
    {"F8_E4M3", DG_ST_F8_E4M3, 1}, {"F8_E5M2", DG_ST_F8_E5M2, 1}, {"I64", DG_ST_I64, 8},   {"I32", DG_ST_I32, 4},
    {"I16", DG_ST_I16, 2},         {"I8", DG_ST_I8, 1},           {"U64", DG_ST_U64, 8},   {"U32", DG_ST_U32, 4},
    {"U16", DG_ST_U16, 2},         {"U8", DG_ST_U8, 1},           {"BOOL", DG_ST_BOOL, 1},
};

const char *dg_st_dtype_name(dg_st_dtype dtype) {
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (dtypes[i].dtype == dtype) return dtypes[i].name;
  return "?";
}

size_t dg_st_dtype_size(dg_st_dtype dtype) {
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (dtypes[i].dtype == dtype) return dtypes[i].size;
  return 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const dg_st_tensor *)a)->name, ((const dg_st_tensor *)b)->name);
}

static int cmp_offset(const void *a, const void *b) {
  const dg_st_tensor *x = *(const dg_st_tensor *const *)a, *y = *(const dg_st_tensor *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

// Tensor names are printed with at most this many characters.
#define NAME_FMT "'%.160s'"

static dg_status parse_entry(dg_safetensors *st, const dg_json_member *m, dg_st_tensor *t) {
  const char *file = st->path;
  const dg_json_value *v = m->value;
  t->name = m->key;
  if (strlen(m->key) != m->key_len)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT " (byte %zu): name contains a NUL character", file, m->key,
                   v->offset);
  if (v->type != DG_JSON_OBJECT)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT " (byte %zu): entry is a JSON %s, expected an object", file,
                   m->key, v->offset, dg_json_type_name(v->type));
  for (size_t i = 0; i < v->count; i++) {
    const char *k = v->members[i].key;
    if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
      return dg_fail(DG_ERR_FORMAT,
                     "%s: tensor " NAME_FMT ": unknown field '%.40s' (expected dtype, shape, data_offsets)", file,
                     m->key, k);
  }
  const dg_json_value *dtype = dg_json_get(v, "dtype"), *shape = dg_json_get(v, "shape"),
                      *offsets = dg_json_get(v, "data_offsets");
  if (!dtype || !shape || !offsets)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": missing field '%s'", file, m->key,
                   !dtype   ? "dtype"
                   : !shape ? "shape"
                            : "data_offsets");
  if (dtype->type != DG_JSON_STRING)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": dtype is a JSON %s, expected a string", file, m->key,
                   dg_json_type_name(dtype->type));
  size_t esize = 0;
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (strcmp(dtype->str, dtypes[i].name) == 0) t->dtype = dtypes[i].dtype, esize = dtypes[i].size;
  if (!esize)
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "%s: tensor " NAME_FMT ": unknown dtype '%.40s' (known: F32, F16, BF16, F64, F8_E4M3, F8_E5M2, "
                   "I64, I32, I16, I8, U64, U32, U16, U8, BOOL)",
                   file, m->key, dtype->str);
  if (shape->type != DG_JSON_ARRAY)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": shape is a JSON %s, expected an array", file, m->key,
                   dg_json_type_name(shape->type));
  if (shape->count > DG_ST_MAX_DIMS)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor " NAME_FMT ": shape has %zu dims (at most %d supported)", file,
                   m->key, shape->count, DG_ST_MAX_DIMS);
  t->ndim = (int)shape->count;
  uint64_t numel = 1;
  for (size_t i = 0; i < shape->count; i++) {
    const dg_json_value *d = shape->items[i];
    if (d->type != DG_JSON_NUMBER || !d->is_uint || d->uint > (uint64_t)INT64_MAX)
      return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": shape entry %zu (byte %zu) is not a non-negative integer",
                     file, m->key, i, d->offset);
    t->shape[i] = (int64_t)d->uint;
    if (__builtin_mul_overflow(numel, d->uint, &numel) || numel > (uint64_t)INT64_MAX)
      return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": shape's element count overflows", file, m->key);
  }
  t->numel = (int64_t)numel;
  if (offsets->type != DG_JSON_ARRAY || offsets->count != 2)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": data_offsets must be an array [begin, end]", file, m->key);
  for (int i = 0; i < 2; i++) {
    const dg_json_value *o = offsets->items[i];
    if (o->type != DG_JSON_NUMBER || !o->is_uint)
      return dg_fail(DG_ERR_FORMAT,
                     "%s: tensor " NAME_FMT ": data_offsets[%d] (byte %zu) is not a non-negative integer", file, m->key,
                     i, o->offset);
  }
  t->begin = offsets->items[0]->uint;
  t->end = offsets->items[1]->uint;
  if (t->end < t->begin)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] end before begin", file, m->key,
                   (unsigned long long)t->begin, (unsigned long long)t->end);
  if (t->end > st->payload_size)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] run past the data section (%llu bytes; file "
                   "truncated?)",
                   file, m->key, (unsigned long long)t->begin, (unsigned long long)t->end,
                   (unsigned long long)st->payload_size);
  uint64_t need;
  if (__builtin_mul_overflow(numel, (uint64_t)esize, &need) || need != t->end - t->begin)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: tensor " NAME_FMT ": data_offsets [%llu, %llu] hold %llu bytes but shape of %llu %s elements "
                   "needs %llu",
                   file, m->key, (unsigned long long)t->begin, (unsigned long long)t->end,
                   (unsigned long long)(t->end - t->begin), (unsigned long long)numel, dtype->str,
                   (unsigned long long)(numel * esize));
  return DG_OK;
}

static dg_status parse_metadata(dg_safetensors *st, const dg_json_value *v) {
  if (v->type != DG_JSON_OBJECT)
    return dg_fail(DG_ERR_FORMAT, "%s: __metadata__ (byte %zu) is a JSON %s, expected an object of strings", st->path,
                   v->offset, dg_json_type_name(v->type));
  st->meta_count = v->count;
  st->meta_keys = calloc(v->count + 1, sizeof(char *));
  st->meta_values = calloc(v->count + 1, sizeof(char *));
  if (!st->meta_keys || !st->meta_values) return dg_fail(DG_ERR_OOM, "%s: out of memory", st->path);
  for (size_t i = 0; i < v->count; i++) {
    const dg_json_member *m = v->sorted[i];
    if (m->value->type != DG_JSON_STRING)
      return dg_fail(DG_ERR_FORMAT, "%s: __metadata__ '%.80s' is a JSON %s, expected a string", st->path, m->key,
                     dg_json_type_name(m->value->type));
    st->meta_keys[i] = m->key;
    st->meta_values[i] = m->value->str;
  }
  return DG_OK;
}

static dg_status parse(dg_safetensors *st) {
  const char *file = st->path;
  if (st->size < 8)
    return dg_fail(DG_ERR_FORMAT, "%s: file is %zu bytes, too short for a safetensors header (8-byte length)", file,
                   st->size);
  uint64_t n;
  memcpy(&n, st->data, 8);
  bool pickle = st->data[0] == 0x80 && st->data[1] >= 2 && st->data[1] <= 5;
  if ((n > DG_ST_MAX_HEADER || n > st->size - 8) && pickle)
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "%s: a PyTorch checkpoint in the legacy format of torch < 1.6 (a bare pickle), which is not read; "
                   "re-save it with a recent torch.save",
                   file);
  if (n > DG_ST_MAX_HEADER)
    return dg_fail(DG_ERR_FORMAT, "%s: header length %llu exceeds the %u-byte limit (not a safetensors file?)", file,
                   (unsigned long long)n, DG_ST_MAX_HEADER);
  if (n > st->size - 8)
    return dg_fail(DG_ERR_FORMAT, "%s: header length %llu runs past the end of the %zu-byte file (truncated?)", file,
                   (unsigned long long)n, st->size);
  if (n < 2 || st->data[8] != '{')
    return dg_fail(DG_ERR_FORMAT, "%s: header does not start with '{' (not a safetensors file?)", file);
  st->payload = st->data + 8 + n;
  st->payload_size = st->size - 8 - n;
  DG_TRY(dg_json_parse((const char *)st->data + 8, (size_t)n, file, 8, 0, &st->header));
  const dg_json_value *root = dg_json_root(st->header);
  if (root->type != DG_JSON_OBJECT)
    return dg_fail(DG_ERR_FORMAT, "%s: header is a JSON %s, expected an object", file, dg_json_type_name(root->type));
  st->tensors = calloc(root->count + 1, sizeof *st->tensors);
  if (!st->tensors) return dg_fail(DG_ERR_OOM, "%s: out of memory for %zu tensors", file, root->count);
  for (size_t i = 0; i < root->count; i++) {
    const dg_json_member *m = root->sorted[i]; // sorted by name already
    if (strcmp(m->key, "__metadata__") == 0 && m->key_len == 12) {
      DG_TRY(parse_metadata(st, m->value));
      continue;
    }
    DG_TRY(parse_entry(st, m, &st->tensors[st->count]));
    st->count++;
  }
  // The JSON sort is by bytes; strcmp order is the same for NUL-free names, but sort again to be sure.
  qsort(st->tensors, st->count, sizeof *st->tensors, cmp_name);
  if (st->count > 1) {
    const dg_st_tensor **by_offset = malloc(st->count * sizeof *by_offset);
    if (!by_offset) return dg_fail(DG_ERR_OOM, "%s: out of memory", file);
    for (size_t i = 0; i < st->count; i++)
      by_offset[i] = &st->tensors[i];
    qsort(by_offset, st->count, sizeof *by_offset, cmp_offset);
    for (size_t i = 1; i < st->count; i++) {
      const dg_st_tensor *a = by_offset[i - 1], *b = by_offset[i];
      if (b->begin < a->end) {
        dg_status s = dg_fail(DG_ERR_FORMAT,
                              "%s: tensors " NAME_FMT " [%llu, %llu] and " NAME_FMT " [%llu, %llu] overlap in the data "
                              "section",
                              file, a->name, (unsigned long long)a->begin, (unsigned long long)a->end, b->name,
                              (unsigned long long)b->begin, (unsigned long long)b->end);
        free(by_offset);
        return s;
      }
    }
    free(by_offset);
  }
  return DG_OK;
}

static dg_status finish_open(dg_safetensors *st, dg_safetensors **out) {
  dg_status s = parse(st);
  if (s != DG_OK) {
    dg_safetensors_close(st);
    return s;
  }
  *out = st;
  return DG_OK;
}

dg_status dg_safetensors_open(const char *path, dg_safetensors **out) {
  *out = NULL;
  if (!path) return dg_fail(DG_ERR_ARG, "dg_safetensors_open: NULL path");
  dg_safetensors *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(path))) {
    free(st);
    return dg_fail(DG_ERR_OOM, "%s: out of memory", path);
  }
  const void *data;
  dg_status s = dg_file_map(path, &data, &st->size); // a FIFO or device is refused, never waited on
  if (s != DG_OK) {
    dg_safetensors_close(st);
    return s;
  }
  st->data = data;
  st->mapped = data != NULL;
  if (dg_ckpt_is_zip(data, st->size)) { // the mapping goes to the checkpoint reader
    size_t size = st->size;
    st->mapped = false;
    dg_safetensors_close(st);
    return dg_ckpt_open_image(path, data, size, data != NULL, out);
  }
  return finish_open(st, out);
}

dg_status dg_safetensors_open_memory(const void *data, size_t size, const char *name, dg_safetensors **out) {
  *out = NULL;
  if (!data && size) return dg_fail(DG_ERR_ARG, "dg_safetensors_open_memory: NULL data");
  dg_safetensors *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(name ? name : "<memory>"))) {
    free(st);
    return dg_fail(DG_ERR_OOM, "dg_safetensors_open_memory: out of memory");
  }
  if (dg_ckpt_is_zip(data, size)) {
    dg_safetensors_close(st);
    return dg_ckpt_open_image(name ? name : "<memory>", data, size, false, out);
  }
  st->data = data;
  st->size = size;
  return finish_open(st, out);
}

dg_status dg_safetensors_adopt(const char *path, const void *data, size_t size, bool mapped, dg_st_tensor *tensors,
                               size_t count, const char **meta_keys, const char **meta_values, size_t meta_count,
                               void *owned, dg_safetensors **out) {
  *out = NULL;
  dg_safetensors *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(path ? path : "<memory>"))) {
    free(st);
    if (mapped) dg_file_unmap(data, size);
    free(tensors);
    free(meta_keys);
    free(meta_values);
    free(owned);
    return dg_fail(DG_ERR_OOM, "%s: out of memory", path ? path : "<memory>");
  }
  st->data = st->payload = data;
  st->size = st->payload_size = size;
  st->mapped = mapped;
  st->tensors = tensors;
  st->count = count;
  st->owned = owned;
  st->meta_keys = meta_keys;
  st->meta_values = meta_values;
  st->meta_count = meta_count;
  dg_status s = DG_OK;
  for (size_t i = 0; i < count && s == DG_OK; i++) {
    const dg_st_tensor *t = &tensors[i];
    uint64_t need;
    if (t->end < t->begin || t->end > size || t->numel < 0 || t->ndim < 0 || t->ndim > DG_ST_MAX_DIMS ||
        __builtin_mul_overflow((uint64_t)t->numel, (uint64_t)dg_st_dtype_size(t->dtype), &need) ||
        need != t->end - t->begin)
      s = dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": bytes [%llu, %llu) do not fit its shape or the file", path,
                  t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
  }
  if (s == DG_OK) {
    qsort(st->tensors, st->count, sizeof *st->tensors, cmp_name);
    for (size_t i = 1; i < count && s == DG_OK; i++)
      if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name))
        s = dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT " appears twice", path, st->tensors[i].name);
  }
  if (s != DG_OK) {
    dg_safetensors_close(st);
    return s;
  }
  *out = st;
  return DG_OK;
}

void dg_safetensors_close(dg_safetensors *st) {
  if (!st) return;
  if (st->mapped) dg_file_unmap(st->data, st->size);
  dg_json_free(st->header);
  free(st->owned);
  free(st->tensors);
  free(st->meta_keys);
  free(st->meta_values);
  free(st->path);
  free(st);
}

const char *dg_safetensors_path(const dg_safetensors *st) { return st->path; }
size_t dg_safetensors_count(const dg_safetensors *st) { return st->count; }

const dg_st_tensor *dg_safetensors_tensor(const dg_safetensors *st, size_t index) {
  return index < st->count ? &st->tensors[index] : NULL;
}

const dg_st_tensor *dg_safetensors_find(const dg_safetensors *st, const char *name) {
  if (!name) return NULL;
  dg_st_tensor key = {.name = name};
  return st->count ? bsearch(&key, st->tensors, st->count, sizeof key, cmp_name) : NULL; // an empty table may be NULL
}

const char *dg_safetensors_metadata(const dg_safetensors *st, const char *key) {
  for (size_t i = 0; i < st->meta_count; i++)
    if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
  return NULL;
}

size_t dg_safetensors_metadata_count(const dg_safetensors *st) { return st->meta_count; }

void dg_safetensors_metadata_at(const dg_safetensors *st, size_t index, const char **key, const char **value) {
  *key = index < st->meta_count ? st->meta_keys[index] : NULL;
  *value = index < st->meta_count ? st->meta_values[index] : NULL;
}

const void *dg_safetensors_data(const dg_safetensors *st, const dg_st_tensor *t) { return st->payload + t->begin; }

// Inlinable copies of dg_f16_to_f32 / dg_f32_to_f16 (bit-identical; test_safetensors checks every f16
// and bf16 value): calling the exported ones per element across the shared-library boundary made
// whole-checkpoint conversion several times slower.
static inline float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
  if (exp == 0 && mant == 0)
    x = sign;
  else if (exp == 0) { // subnormal: normalise
    exp = 127 - 15 + 1;
    while (!(mant & 0x400u))
      mant <<= 1, exp--;
    x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  } else if (exp == 31)
    x = sign | 0x7f800000u | (mant << 13);
  else
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  memcpy(&f, &x, 4);
  return f;
}

static inline uint16_t float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0)); // inf/nan
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);                                        // overflow
  if (exp <= 0) {                                                                          // subnormal
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp), half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; // round to nearest even
  return (uint16_t)half;
}

dg_status dg_safetensors_read(const dg_safetensors *st, const dg_st_tensor *t, dg_dtype dtype, void *dst,
                              size_t dst_bytes) {
  if (!t) return dg_fail(DG_ERR_ARG, "%s: read of a NULL tensor", st->path);
  if (t->dtype != DG_ST_F32 && t->dtype != DG_ST_F16 && t->dtype != DG_ST_BF16)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor " NAME_FMT " has dtype %s; only F32, F16 and BF16 load as %s",
                   st->path, t->name, dg_st_dtype_name(t->dtype), dg_dtype_name(dtype));
  size_t n = (size_t)t->numel, out_size = dg_dtype_size(dtype);
  if (dst_bytes < n * out_size)
    return dg_fail(DG_ERR_ARG, "%s: tensor " NAME_FMT " needs %zu bytes as %s, destination has %zu", st->path, t->name,
                   n * out_size, dg_dtype_name(dtype), dst_bytes);
  const unsigned char *src = st->payload + t->begin;
  if ((t->dtype == DG_ST_F32 && dtype == DG_F32) || (t->dtype == DG_ST_F16 && dtype == DG_F16)) {
    if (n) memcpy(dst, src, n * out_size);
    return DG_OK;
  }
  // One loop per conversion so each stays simple enough for the compiler to unroll.
  float *f32 = dst;
  uint16_t *f16 = dst;
  if (t->dtype == DG_ST_F32) { // -> f16
    for (size_t i = 0; i < n; i++) {
      float f;
      memcpy(&f, src + 4 * i, 4);
      f16[i] = float_to_half(f);
    }
  } else if (t->dtype == DG_ST_F16) { // -> f32
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, src + 2 * i, 2);
      f32[i] = half_to_float(h);
    }
  } else if (dtype == DG_F32) { // bf16 -> f32
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, src + 2 * i, 2);
      uint32_t x = (uint32_t)h << 16;
      memcpy(&f32[i], &x, 4);
    }
  } else { // bf16 -> f16
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, src + 2 * i, 2);
      uint32_t x = (uint32_t)h << 16;
      float f;
      memcpy(&f, &x, 4);
      f16[i] = float_to_half(f);
    }
  }
  return DG_OK;
}

typedef struct read_job {
  const dg_safetensors *st;
  const dg_st_tensor *t;
  dg_dtype dtype;
} read_job;

static dg_status read_into(void *ctx, void *dst, size_t bytes) {
  const read_job *j = ctx;
  return dg_safetensors_read(j->st, j->t, j->dtype, dst, bytes);
}

dg_status dg_safetensors_load(const dg_safetensors *st, const char *name, dg_arena *arena, dg_dtype dtype,
                              dg_tensor *out) {
  const dg_st_tensor *t = dg_safetensors_find(st, name);
  if (!t) return dg_fail(DG_ERR_ARG, "%s: no tensor named '%.160s'", st->path, name ? name : "(null)");
  if (t->ndim > DG_MAX_DIMS)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: tensor " NAME_FMT " has %d dims; tensors hold at most %d", st->path,
                   t->name, t->ndim, DG_MAX_DIMS);
  dg_tensor tmp;
  int64_t one = 1;
  // A 0-d (scalar) tensor becomes shape [1].
  DG_TRY(dg_tensor_alloc(arena, dtype, t->ndim ? t->ndim : 1, t->ndim ? t->shape : &one, &tmp));
  read_job job = {st, t, dtype};
  DG_TRY(dg_range_produce(tmp.data, (size_t)t->numel * dg_dtype_size(dtype), read_into, &job));
  *out = tmp;
  return DG_OK;
}
