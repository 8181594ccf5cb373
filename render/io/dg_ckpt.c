#include "dg_ckpt.h"

#include <stdlib.h>
#include <string.h>

#include "dg_file.h"
#include "dg_pickle.h"
#include "dg_zip.h"

#define MAX_TENSOR_NAME 511
#define NAME_FMT "'%.160s'"

bool dg_ckpt_is_zip(const void *data, size_t size) {
  return data && size >= 4 && (!memcmp(data, "PK\x03\x04", 4) || !memcmp(data, "PK\x05\x06", 4));
}

typedef struct ckpt {
  const char *path;
  dg_zip *zip;
  char prefix[DG_ZIP_MAX_NAME + 1]; // "<archive>/" or ""
} ckpt;

// The pickle entry: `data.pkl` inside exactly one top-level folder (or at the top).
static dg_status find_pickle(ckpt *c, const dg_zip_entry **out) {
  const dg_zip_entry *found = NULL;
  for (size_t i = 0; i < dg_zip_count(c->zip); i++) {
    const dg_zip_entry *e = dg_zip_entry_at(c->zip, i);
    const char *slash = strchr(e->name, '/');
    bool top = !strcmp(e->name, "data.pkl"), nested = slash && slash > e->name && !strcmp(slash + 1, "data.pkl");
    if (!top && !nested) continue;
    if (found)
      return dg_fail(DG_ERR_FORMAT, "%s: two pickles in one checkpoint ('%.160s' and '%.160s')", c->path, found->name,
                     e->name);
    found = e;
  }
  if (!found)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: a zip archive without <archive>/data.pkl (not a PyTorch checkpoint written by torch.save, or "
                   "a TorchScript archive)",
                   c->path);
  size_t n = strlen(found->name) - strlen("data.pkl");
  memcpy(c->prefix, found->name, n);
  c->prefix[n] = 0;
  *out = found;
  return DG_OK;
}

static size_t count_tensors(const dg_pk_value *d) {
  size_t n = 0;
  for (size_t i = 0; d && d->kind == DG_PK_DICT && i < d->count; i++)
    n += d->items[2 * i]->kind == DG_PK_STR && d->items[2 * i + 1]->kind == DG_PK_TENSOR;
  return n;
}

static const char *const wrappers[] = {"state_dict", "model", "module"};

// The dict holding the tensors (see dg_ckpt.h).
static dg_status state_dict(const ckpt *c, const dg_pk_value *root, const dg_pk_value **out) {
  if (root->kind != DG_PK_DICT)
    return dg_fail(DG_ERR_FORMAT, "%s: the checkpoint holds a %s, not a dict of tensors (a whole pickled model?)",
                   c->path, root->kind == DG_PK_LIST ? "list" : root->kind == DG_PK_TENSOR ? "single tensor" : "value");
  const dg_pk_value *sd = root;
  for (int level = 0; level < 2 && !count_tensors(sd); level++) {
    const dg_pk_value *next = NULL;
    for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers && !next; i++) { // one holding tensors first
      const dg_pk_value *v = dg_pk_dict_get(sd, wrappers[i]);
      if (count_tensors(v)) next = v;
    }
    for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers && !next; i++) {
      const dg_pk_value *v = dg_pk_dict_get(sd, wrappers[i]);
      if (v && v->kind == DG_PK_DICT) next = v;
    }
    if (!next) break;
    sd = next;
  }
  if (!count_tensors(sd)) {
    char keys[400] = "";
    for (size_t i = 0, used = 0; i < root->count && i < 8; i++) {
      const dg_pk_value *k = root->items[2 * i];
      if (k->kind != DG_PK_STR) continue;
      int w = snprintf(keys + used, sizeof keys - used, "%s'%.40s'", used ? ", " : "", k->str);
      if (w < 0 || (size_t)w >= sizeof keys - used) break;
      used += (size_t)w;
    }
    return dg_fail(DG_ERR_FORMAT,
                   "%s: no tensors found in the checkpoint (top-level keys: %s; looked in state_dict, model and module)",
                   c->path, *keys ? keys : "none");
  }
  *out = sd;
  return DG_OK;
}

static bool all_start(const dg_pk_value *sd, const char *prefix) {
  size_t n = strlen(prefix);
  for (size_t i = 0; i < sd->count; i++) {
    const dg_pk_value *k = sd->items[2 * i];
    if (k->kind == DG_PK_STR && sd->items[2 * i + 1]->kind == DG_PK_TENSOR && (k->len <= n || strncmp(k->str, prefix, n)))
      return false;
  }
  return true;
}

// Fills t from the tensor record v named `name`.
static dg_status view(const ckpt *c, const char *name, const dg_pk_tensor *v, dg_st_tensor *t) {
  const dg_pk_value *s = v->storage;
  size_t esize = dg_st_dtype_size(s->dtype);
  char entry_name[DG_ZIP_MAX_NAME + 80];
  snprintf(entry_name, sizeof entry_name, "%sdata/%s", c->prefix, s->str);
  const dg_zip_entry *e = dg_zip_find(c->zip, entry_name);
  if (!e)
    return dg_fail(DG_ERR_FORMAT, "%s: tensor " NAME_FMT ": its storage '%.200s' is not in the archive", c->path, name,
                   entry_name);
  const unsigned char *bytes;
  DG_TRY(dg_zip_data(c->zip, e, &bytes));
  uint64_t storage_bytes, end_elems, begin, len;
  if (__builtin_mul_overflow((uint64_t)s->i, (uint64_t)esize, &storage_bytes) || storage_bytes != e->size)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: tensor " NAME_FMT ": storage '%.200s' of %lld %s elements needs %llu bytes, the archive holds %llu",
                   c->path, name, entry_name, (long long)s->i, dg_st_dtype_name(s->dtype),
                   (unsigned long long)((uint64_t)s->i * esize), (unsigned long long)e->size);
  if (__builtin_add_overflow((uint64_t)v->offset, (uint64_t)v->numel, &end_elems) || end_elems > (uint64_t)s->i)
    return dg_fail(DG_ERR_FORMAT,
                   "%s: tensor " NAME_FMT ": elements [%lld, +%lld) run past its storage of %lld elements", c->path, name,
                   (long long)v->offset, (long long)v->numel, (long long)s->i);
  // Both products are bounded by storage_bytes, which fits the entry.
  begin = e->offset + (uint64_t)v->offset * esize;
  len = (uint64_t)v->numel * esize;
  (void)bytes;
  memset(t, 0, sizeof *t);
  t->name = name;
  t->dtype = s->dtype;
  t->ndim = v->ndim;
  memcpy(t->shape, v->shape, sizeof t->shape);
  t->numel = v->numel;
  t->begin = begin;
  t->end = begin + len;
  return DG_OK;
}

#define MAX_META 64
#define MAX_META_VALUE (64u << 10)

// Top-level string entries (a checkpoint's notes, a config) are offered as metadata.
static bool is_meta(const dg_pk_value *k, const dg_pk_value *v) {
  return k->kind == DG_PK_STR && v->kind == DG_PK_STR && k->len && strlen(k->str) == k->len &&
         strlen(v->str) == v->len && v->len <= MAX_META_VALUE;
}

typedef struct table {
  dg_st_tensor *tensors;
  size_t count;
  const char **meta_keys, **meta_values;
  size_t meta_count;
  char *strings; // names and metadata
} table;

static void table_free(table *t) {
  free(t->tensors);
  free(t->meta_keys);
  free(t->meta_values);
  free(t->strings);
}

static dg_status build_table(ckpt *c, const dg_pk_value *root, const dg_pk_value *sd, table *out) {
  size_t strip = all_start(sd, "_forward_module.") ? strlen("_forward_module.")
                 : all_start(sd, "module.")         ? strlen("module.")
                                                    : 0;
  size_t n = count_tensors(sd), bytes = 0, nmeta = 0;
  for (size_t i = 0; i < sd->count; i++) {
    const dg_pk_value *k = sd->items[2 * i];
    if (k->kind != DG_PK_STR || sd->items[2 * i + 1]->kind != DG_PK_TENSOR) continue;
    if (k->len == strip || strlen(k->str) != k->len || k->len - strip > MAX_TENSOR_NAME)
      return dg_fail(DG_ERR_FORMAT, "%s: tensor name " NAME_FMT " is empty, holds a NUL or is longer than %d bytes",
                     c->path, k->str, MAX_TENSOR_NAME);
    bytes += k->len - strip + 1;
  }
  for (size_t i = 0; i < root->count && nmeta < MAX_META; i++)
    if (is_meta(root->items[2 * i], root->items[2 * i + 1])) {
      bytes += root->items[2 * i]->len + root->items[2 * i + 1]->len + 2;
      nmeta++;
    }
  out->tensors = calloc(n + 1, sizeof *out->tensors);
  out->meta_keys = calloc(nmeta + 1, sizeof(char *));
  out->meta_values = calloc(nmeta + 1, sizeof(char *));
  char *at = out->strings = malloc(bytes + 1);
  if (!out->tensors || !out->strings || !out->meta_keys || !out->meta_values)
    return dg_fail(DG_ERR_OOM, "%s: out of memory for %zu tensors", c->path, n);
  for (size_t i = 0; i < sd->count; i++) {
    const dg_pk_value *key = sd->items[2 * i], *v = sd->items[2 * i + 1];
    if (key->kind != DG_PK_STR || v->kind != DG_PK_TENSOR) continue;
    memcpy(at, key->str + strip, key->len - strip + 1);
    DG_TRY(view(c, at, v->tensor, &out->tensors[out->count++]));
    at += key->len - strip + 1;
  }
  for (size_t i = 0; i < root->count && out->meta_count < nmeta; i++) {
    const dg_pk_value *k = root->items[2 * i], *v = root->items[2 * i + 1];
    if (!is_meta(k, v)) continue;
    const char *key = at;
    memcpy(at, k->str, k->len + 1);
    at += k->len + 1;
    bool dup = false; // the last one wins, as in the dict
    for (size_t j = 0; j < out->meta_count; j++)
      if (!strcmp(out->meta_keys[j], key)) out->meta_values[j] = at, dup = true;
    if (!dup) {
      out->meta_keys[out->meta_count] = key;
      out->meta_values[out->meta_count++] = at;
    }
    memcpy(at, v->str, v->len + 1);
    at += v->len + 1;
  }
  return DG_OK;
}

static dg_status read_tensors(ckpt *c, const void *data, size_t size, table *t) {
  DG_TRY(dg_zip_open_memory(data, size, c->path, &c->zip));
  const dg_zip_entry *pkl = NULL;
  DG_TRY(find_pickle(c, &pkl));
  char order_name[DG_ZIP_MAX_NAME + 16];
  snprintf(order_name, sizeof order_name, "%sbyteorder", c->prefix);
  const dg_zip_entry *order = dg_zip_find(c->zip, order_name);
  if (order) {
    const unsigned char *b;
    DG_TRY(dg_zip_data(c->zip, order, &b));
    if (!(order->size == 6 && !memcmp(b, "little", 6)))
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: a checkpoint written on a big-endian machine (not read)", c->path);
  }
  const unsigned char *p;
  DG_TRY(dg_zip_data_checked(c->zip, pkl, &p));
  dg_pickle *pk;
  const dg_pk_value *root = NULL, *sd = NULL;
  DG_TRY(dg_pickle_load(p, pkl->size, c->path, &pk, &root));
  dg_status s = state_dict(c, root, &sd);
  if (s == DG_OK) s = build_table(c, root, sd, t);
  dg_pickle_free(pk);
  return s;
}

dg_status dg_ckpt_open_image(const char *path, const void *data, size_t size, bool mapped, dg_safetensors **out) {
  *out = NULL;
  ckpt c = {.path = path ? path : "<memory>"};
  table t = {0};
  dg_status s = read_tensors(&c, data, size, &t);
  dg_zip_close(c.zip);
  if (s != DG_OK) {
    table_free(&t);
    if (mapped) dg_file_unmap(data, size);
    return s;
  }
  return dg_safetensors_adopt(c.path, data, size, mapped, t.tensors, t.count, t.meta_keys, t.meta_values, t.meta_count,
                              t.strings, out);
}
