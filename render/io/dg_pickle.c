#include "dg_pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_json.h"

enum {
  G_REBUILD_TENSOR = 1,
  G_REBUILD_PARAMETER,
  G_REBUILD_PARAMETER_STATE,
  G_REBUILD_FROM_TYPE,
  G_DICT,         // OrderedDict, AttributeDict: a dict
  G_STORAGE,      // torch.XStorage: only inside persistent ids
  G_TENSOR_TYPE,  // torch.Tensor, torch.nn.Parameter: only as _rebuild_from_type_v2's new_type
  G_INERT_CALL,   // applied by REDUCE, gives an opaque value
  G_INERT_CLASS,  // built by NEWOBJ (+ BUILD), gives an opaque value
};

static const struct {
  const char *module, *name;
  int global;
  dg_st_dtype dtype;
} allowed[] = {
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_STATE, 0},
    {"torch._tensor", "_rebuild_from_type_v2", G_REBUILD_FROM_TYPE, 0},
    {"collections", "OrderedDict", G_DICT, 0},
    {"pytorch_lightning.utilities.parsing", "AttributeDict", G_DICT, 0},
    {"lightning_fabric.utilities.data", "AttributeDict", G_DICT, 0},
    {"torch", "FloatStorage", G_STORAGE, DG_ST_F32},
    {"torch", "HalfStorage", G_STORAGE, DG_ST_F16},
    {"torch", "BFloat16Storage", G_STORAGE, DG_ST_BF16},
    {"torch", "DoubleStorage", G_STORAGE, DG_ST_F64},
    {"torch", "LongStorage", G_STORAGE, DG_ST_I64},
    {"torch", "IntStorage", G_STORAGE, DG_ST_I32},
    {"torch", "ShortStorage", G_STORAGE, DG_ST_I16},
    {"torch", "CharStorage", G_STORAGE, DG_ST_I8},
    {"torch", "ByteStorage", G_STORAGE, DG_ST_U8},
    {"torch", "BoolStorage", G_STORAGE, DG_ST_BOOL},
    {"torch", "Tensor", G_TENSOR_TYPE, 0},
    {"torch.nn.parameter", "Parameter", G_TENSOR_TYPE, 0},
    // Found in the training state of LDM checkpoints; never called, only stood in for.
    {"numpy.core.multiarray", "scalar", G_INERT_CALL, 0},
    {"numpy", "dtype", G_INERT_CALL, 0},
    {"_codecs", "encode", G_INERT_CALL, 0},
    {"pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint", G_INERT_CLASS, 0},
};

struct dg_pickle {
  char *path;
  const unsigned char *data;
  size_t size, pos, op_pos;
  dg_pk_value **objs; // every value, for freeing
  size_t nobjs, capobjs, bytes;
  dg_pk_value **stack;
  size_t sp, capstack;
  size_t *marks;
  size_t nmarks, capmarks;
  dg_pk_value **memo;
  size_t capmemo, memo_count;
  dg_pk_value *root;
};

static dg_status bad(dg_pickle *p, const char *what) {
  return dg_fail(DG_ERR_FORMAT, "%s: pickle byte %zu: %s", p->path, p->op_pos, what);
}

// Grows *arr (elements of `size` bytes) to hold at least `need`, accounting the bytes.
static dg_status grow(dg_pickle *p, void **arr, size_t *cap, size_t need, size_t size, size_t limit) {
  if (need <= *cap) return DG_OK;
  if (need > limit) return dg_fail(DG_ERR_UNSUPPORTED, "%s: pickle byte %zu: more than %zu entries", p->path, p->op_pos, limit);
  size_t n = *cap ? *cap : 8;
  while (n < need)
    n *= 2;
  if (n > limit) n = limit;
  size_t add = (n - *cap) * size;
  if (p->bytes + add > DG_PK_MAX_BYTES)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: pickle byte %zu: more than %u bytes of objects", p->path, p->op_pos,
                   DG_PK_MAX_BYTES);
  void *g = realloc(*arr, n * size);
  if (!g) return dg_fail(DG_ERR_OOM, "%s: out of memory", p->path);
  memset((char *)g + *cap * size, 0, add);
  p->bytes += add;
  *arr = g;
  *cap = n;
  return DG_OK;
}

static dg_status new_value(dg_pickle *p, dg_pk_kind kind, dg_pk_value **out) {
  DG_TRY(grow(p, (void **)&p->objs, &p->capobjs, p->nobjs + 1, sizeof *p->objs, DG_PK_MAX_OBJECTS));
  if (p->bytes + sizeof(dg_pk_value) > DG_PK_MAX_BYTES)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: more than %u bytes of objects", p->path, DG_PK_MAX_BYTES);
  dg_pk_value *v = calloc(1, sizeof *v);
  if (!v) return dg_fail(DG_ERR_OOM, "%s: out of memory", p->path);
  p->bytes += sizeof *v;
  v->kind = kind;
  p->objs[p->nobjs++] = v;
  *out = v;
  return DG_OK;
}

static dg_status push(dg_pickle *p, dg_pk_value *v) {
  DG_TRY(grow(p, (void **)&p->stack, &p->capstack, p->sp + 1, sizeof *p->stack, DG_PK_MAX_STACK));
  p->stack[p->sp++] = v;
  return DG_OK;
}

static dg_status push_new(dg_pickle *p, dg_pk_kind kind, dg_pk_value **out) {
  dg_pk_value *v;
  DG_TRY(new_value(p, kind, &v));
  if (out) *out = v;
  return push(p, v);
}

static size_t floor_of(const dg_pickle *p) { return p->nmarks ? p->marks[p->nmarks - 1] : 0; }

static dg_status pop(dg_pickle *p, dg_pk_value **out) {
  *out = NULL;
  if (p->sp <= floor_of(p)) return bad(p, p->nmarks ? "pops past a MARK" : "pops an empty stack");
  *out = p->stack[--p->sp];
  return DG_OK;
}

static dg_status top(dg_pickle *p, dg_pk_value **out) {
  *out = NULL;
  if (p->sp <= floor_of(p)) return bad(p, "needs a value on the stack");
  *out = p->stack[p->sp - 1];
  return DG_OK;
}

// The items above the last MARK: *first is their index on the stack; the mark is removed (the items stay).
static dg_status pop_mark(dg_pickle *p, size_t *first) {
  *first = 0;
  if (!p->nmarks) return bad(p, "no MARK on the stack");
  *first = p->marks[--p->nmarks];
  return DG_OK;
}

static dg_status append_item(dg_pickle *p, dg_pk_value *c, dg_pk_value *v) {
  DG_TRY(grow(p, (void **)&c->items, &c->cap, c->count + 1, sizeof *c->items, SIZE_MAX / 16));
  c->items[c->count++] = v;
  return DG_OK;
}

// A dict's items are key, value pairs in insertion order (count pairs).
static dg_status dict_set(dg_pickle *p, dg_pk_value *d, dg_pk_value *k, dg_pk_value *v) {
  DG_TRY(grow(p, (void **)&d->items, &d->cap, 2 * d->count + 2, sizeof *d->items, SIZE_MAX / 16));
  d->items[2 * d->count] = k;
  d->items[2 * d->count + 1] = v;
  d->count++;
  return DG_OK;
}

// The container that a MARK's items (from stack index `first`) go into: the value just below the mark.
static dg_status below_mark(dg_pickle *p, size_t first, dg_pk_value **out) {
  *out = NULL;
  if (first <= floor_of(p)) return bad(p, "APPENDS or SETITEMS without a container below its MARK");
  *out = p->stack[first - 1];
  return DG_OK;
}

static dg_status need_bytes(dg_pickle *p, size_t n, const unsigned char **at) {
  *at = NULL;
  if (n > p->size - p->pos) return bad(p, "runs past the end of the pickle (truncated?)");
  *at = p->data + p->pos;
  p->pos += n;
  return DG_OK;
}

static uint64_t le(const unsigned char *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | b[i];
  return v;
}

static dg_status push_string(dg_pickle *p, dg_pk_kind kind, uint64_t n) {
  const unsigned char *b;
  if (n > p->size - p->pos) return bad(p, "string runs past the end of the pickle (truncated?)");
  DG_TRY(need_bytes(p, (size_t)n, &b));
  if (p->bytes + n + 1 > DG_PK_MAX_BYTES)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: more than %u bytes of objects", p->path, DG_PK_MAX_BYTES);
  dg_pk_value *v;
  DG_TRY(push_new(p, kind, &v));
  if (!(v->str = malloc((size_t)n + 1))) return dg_fail(DG_ERR_OOM, "%s: out of memory", p->path);
  p->bytes += n + 1;
  if (n) memcpy(v->str, b, (size_t)n);
  v->str[n] = 0;
  v->len = (size_t)n;
  size_t at;
  if (kind == DG_PK_STR && !dg_json_utf8_valid(v->str, v->len, &at)) // names are shown and compared as UTF-8
    return dg_fail(DG_ERR_FORMAT, "%s: pickle byte %zu: a text string is not UTF-8 (byte 0x%02x at offset %zu)",
                   p->path, p->op_pos, (unsigned char)v->str[at], at);
  return DG_OK;
}

static dg_status push_int(dg_pickle *p, int64_t i) {
  dg_pk_value *v;
  DG_TRY(push_new(p, DG_PK_INT, &v));
  v->i = i;
  return DG_OK;
}

// A printable copy of a global's module or name for messages.
static void printable(char *out, size_t cap, const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++)
    out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  out[k] = 0;
}

static dg_status resolve_global(dg_pickle *p, const char *module, size_t ml, const char *name, size_t nl) {
  for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
    if (strlen(allowed[i].module) == ml && !memcmp(allowed[i].module, module, ml) && strlen(allowed[i].name) == nl &&
        !memcmp(allowed[i].name, name, nl)) {
      dg_pk_value *v;
      DG_TRY(push_new(p, DG_PK_GLOBAL, &v));
      v->global = allowed[i].global;
      v->dtype = allowed[i].dtype;
      size_t len = ml + nl + 1;
      if (!(v->str = malloc(len + 1))) return dg_fail(DG_ERR_OOM, "%s: out of memory", p->path);
      snprintf(v->str, len + 1, "%s.%s", allowed[i].module, allowed[i].name);
      v->len = len;
      return DG_OK;
    }
  char m[128], n[128];
  printable(m, sizeof m, module, ml);
  printable(n, sizeof n, name, nl);
  return dg_fail(DG_ERR_UNSUPPORTED,
                 "%s: refuses to load global '%s.%s' (pickle byte %zu): only tensors, storages and plain containers "
                 "are read from PyTorch checkpoints, nothing is executed",
                 p->path, m, n, p->op_pos);
}

static dg_status op_global(dg_pickle *p) {
  const char *line[2];
  size_t len[2];
  for (int k = 0; k < 2; k++) {
    const unsigned char *s = p->data + p->pos, *nl = memchr(s, '\n', p->size - p->pos);
    if (!nl) return bad(p, "GLOBAL without its newline (truncated?)");
    line[k] = (const char *)s;
    len[k] = (size_t)(nl - s);
    p->pos += len[k] + 1;
  }
  return resolve_global(p, line[0], len[0], line[1], len[1]);
}

static dg_status op_stack_global(dg_pickle *p) {
  dg_pk_value *name, *module;
  DG_TRY(pop(p, &name));
  DG_TRY(pop(p, &module));
  if (name->kind != DG_PK_STR || module->kind != DG_PK_STR) return bad(p, "STACK_GLOBAL of values that are not strings");
  return resolve_global(p, module->str, module->len, name->str, name->len);
}

static const char *kind_name(dg_pk_kind k) {
  static const char *const names[] = {"None", "bool", "int",    "float",   "str",    "bytes",  "tuple",
                                      "list", "dict", "global", "storage", "tensor", "object"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
static dg_status rebuild_tensor(dg_pickle *p, const dg_pk_value *args, dg_pk_value **out) {
  if (args->count != 6 && args->count != 7) return bad(p, "_rebuild_tensor_v2 takes 6 or 7 arguments");
  dg_pk_value *storage = args->items[0], *offset = args->items[1], *size = args->items[2], *stride = args->items[3];
  if (storage->kind != DG_PK_STORAGE) return bad(p, "_rebuild_tensor_v2 of something that is not a storage");
  if (offset->kind != DG_PK_INT || offset->i < 0) return bad(p, "_rebuild_tensor_v2: storage offset is not a non-negative int");
  if (size->kind != DG_PK_TUPLE || stride->kind != DG_PK_TUPLE || size->count != stride->count)
    return bad(p, "_rebuild_tensor_v2: size and stride are not tuples of one length");
  if (size->count > DG_ST_MAX_DIMS) return dg_fail(DG_ERR_UNSUPPORTED, "%s: pickle byte %zu: a tensor of %zu dims (at most %d)",
                                                  p->path, p->op_pos, size->count, DG_ST_MAX_DIMS);
  dg_pk_value *v;
  DG_TRY(new_value(p, DG_PK_TENSOR, &v));
  if (!(v->tensor = calloc(1, sizeof *v->tensor))) return dg_fail(DG_ERR_OOM, "%s: out of memory", p->path);
  p->bytes += sizeof *v->tensor;
  dg_pk_tensor *t = v->tensor;
  t->storage = storage;
  t->offset = offset->i;
  t->ndim = (int)size->count;
  int64_t numel = 1;
  for (int i = 0; i < t->ndim; i++) {
    const dg_pk_value *d = size->items[i], *s = stride->items[i];
    if (d->kind != DG_PK_INT || d->i < 0) return bad(p, "_rebuild_tensor_v2: a negative or non-int size");
    if (s->kind != DG_PK_INT) return bad(p, "_rebuild_tensor_v2: a non-int stride");
    t->shape[i] = d->i;
    if (__builtin_mul_overflow(numel, d->i, &numel)) return bad(p, "_rebuild_tensor_v2: the element count overflows");
  }
  t->numel = numel;
  // Contiguous row-major strides (any stride for a dim of size 1; anything for an empty tensor).
  int64_t expect = 1;
  for (int i = t->ndim - 1; i >= 0 && numel; i--) {
    if (t->shape[i] != 1 && stride->items[i]->i != expect)
      return dg_fail(DG_ERR_UNSUPPORTED,
                     "%s: pickle byte %zu: a tensor with non-contiguous strides (dim %d: stride %lld, expected %lld); "
                     "save tensor.contiguous() instead",
                     p->path, p->op_pos, i, (long long)stride->items[i]->i, (long long)expect);
    expect *= t->shape[i]; // cannot overflow: bounded by numel
  }
  *out = v;
  return DG_OK;
}

static dg_status apply(dg_pickle *p, const dg_pk_value *f, const dg_pk_value *args, int depth, dg_pk_value **out) {
  if (args->kind != DG_PK_TUPLE) return bad(p, "REDUCE arguments are not a tuple");
  switch (f->global) {
  case G_REBUILD_TENSOR: return rebuild_tensor(p, args, out);
  case G_REBUILD_PARAMETER:
  case G_REBUILD_PARAMETER_STATE:
    if (args->count != (f->global == G_REBUILD_PARAMETER ? 3u : 4u) || args->items[0]->kind != DG_PK_TENSOR)
      return bad(p, "_rebuild_parameter of something that is not a tensor");
    *out = args->items[0];
    return DG_OK;
  case G_REBUILD_FROM_TYPE: { // (func, new_type, args, state)
    if (depth > 0 || args->count != 4) return bad(p, "_rebuild_from_type_v2 takes 4 arguments");
    const dg_pk_value *g = args->items[0], *type = args->items[1];
    if (g->kind != DG_PK_GLOBAL || (g->global != G_REBUILD_TENSOR && g->global != G_REBUILD_PARAMETER))
      return bad(p, "_rebuild_from_type_v2 of a function other than _rebuild_tensor_v2 / _rebuild_parameter");
    if (type->kind != DG_PK_GLOBAL || type->global != G_TENSOR_TYPE)
      return bad(p, "_rebuild_from_type_v2 to a type other than torch.Tensor / torch.nn.Parameter");
    return apply(p, g, args->items[2], depth + 1, out);
  }
  case G_DICT: {
    dg_pk_value *d;
    DG_TRY(new_value(p, DG_PK_DICT, &d));
    if (args->count == 1 && (args->items[0]->kind == DG_PK_LIST || args->items[0]->kind == DG_PK_TUPLE)) {
      const dg_pk_value *pairs = args->items[0];
      for (size_t i = 0; i < pairs->count; i++) {
        const dg_pk_value *kv = pairs->items[i];
        if (kv->kind != DG_PK_TUPLE || kv->count != 2) return bad(p, "OrderedDict of items that are not pairs");
        DG_TRY(dict_set(p, d, kv->items[0], kv->items[1]));
      }
    } else if (args->count != 0)
      return bad(p, "OrderedDict takes no arguments or a list of pairs");
    *out = d;
    return DG_OK;
  }
  case G_INERT_CALL: return new_value(p, DG_PK_OPAQUE, out);
  default: {
    char what[200];
    snprintf(what, sizeof what, "global '%.150s' is not callable here", f->str);
    return bad(p, what);
  }
  }
}

static dg_status op_persid(dg_pickle *p) {
  dg_pk_value *pid, *v;
  DG_TRY(pop(p, &pid));
  if (pid->kind != DG_PK_TUPLE || pid->count != 5 || pid->items[0]->kind != DG_PK_STR ||
      strcmp(pid->items[0]->str, "storage"))
    return bad(p, "a persistent id that is not ('storage', type, key, location, numel)");
  const dg_pk_value *type = pid->items[1], *key = pid->items[2], *numel = pid->items[4];
  if (type->kind != DG_PK_GLOBAL || type->global != G_STORAGE) return bad(p, "a storage whose type is not a torch storage class");
  if (key->kind != DG_PK_STR || key->len == 0 || key->len > 64) return bad(p, "a storage key that is not a short string");
  for (size_t i = 0; i < key->len; i++) {
    char c = key->str[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.'))
      return bad(p, "a storage key with characters other than letters, digits, '_', '-' and '.'");
  }
  if (!strcmp(key->str, ".") || !strcmp(key->str, "..")) return bad(p, "a storage key of '.' or '..'");
  if (numel->kind != DG_PK_INT || numel->i < 0) return bad(p, "a storage size that is not a non-negative int");
  DG_TRY(push_new(p, DG_PK_STORAGE, &v));
  v->dtype = type->dtype;
  v->i = numel->i;
  v->str = key->str; // owned by the key value
  v->len = key->len;
  return DG_OK;
}

static dg_status run(dg_pickle *p) {
  while (p->pos < p->size) {
    p->op_pos = p->pos;
    unsigned char op = p->data[p->pos++];
    const unsigned char *b = NULL;
    dg_pk_value *v = NULL, *w = NULL, *x = NULL;
    size_t first = 0;
    switch (op) {
    case 0x80: // PROTO
      DG_TRY(need_bytes(p, 1, &b));
      if (b[0] < 2 || b[0] > 5) return bad(p, "pickle protocol other than 2 to 5");
      break;
    case 0x95: // FRAME
      DG_TRY(need_bytes(p, 8, &b));
      if (le(b, 8) > p->size - p->pos) return bad(p, "FRAME runs past the end of the pickle (truncated?)");
      break;
    case '}': DG_TRY(push_new(p, DG_PK_DICT, NULL)); break;
    case ']': DG_TRY(push_new(p, DG_PK_LIST, NULL)); break;
    case ')': DG_TRY(push_new(p, DG_PK_TUPLE, NULL)); break;
    case 'N': DG_TRY(push_new(p, DG_PK_NONE, NULL)); break;
    case 0x88:
    case 0x89:
      DG_TRY(push_new(p, DG_PK_BOOL, &v));
      v->i = op == 0x88;
      break;
    case '(':
      DG_TRY(grow(p, (void **)&p->marks, &p->capmarks, p->nmarks + 1, sizeof *p->marks, DG_PK_MAX_MARKS));
      p->marks[p->nmarks++] = p->sp;
      break;
    case '0': // POP
      DG_TRY(pop(p, &v));
      break;
    case '1': // POP_MARK
      DG_TRY(pop_mark(p, &first));
      p->sp = first;
      break;
    case 'X': DG_TRY(need_bytes(p, 4, &b)); DG_TRY(push_string(p, DG_PK_STR, le(b, 4))); break;
    case 0x8c: DG_TRY(need_bytes(p, 1, &b)); DG_TRY(push_string(p, DG_PK_STR, b[0])); break;
    case 0x8d: DG_TRY(need_bytes(p, 8, &b)); DG_TRY(push_string(p, DG_PK_STR, le(b, 8))); break;
    case 'B': DG_TRY(need_bytes(p, 4, &b)); DG_TRY(push_string(p, DG_PK_BYTES, le(b, 4))); break;
    case 'C': DG_TRY(need_bytes(p, 1, &b)); DG_TRY(push_string(p, DG_PK_BYTES, b[0])); break;
    case 0x8e: DG_TRY(need_bytes(p, 8, &b)); DG_TRY(push_string(p, DG_PK_BYTES, le(b, 8))); break;
    case 'J': DG_TRY(need_bytes(p, 4, &b)); DG_TRY(push_int(p, (int32_t)(uint32_t)le(b, 4))); break;
    case 'K': DG_TRY(need_bytes(p, 1, &b)); DG_TRY(push_int(p, b[0])); break;
    case 'M': DG_TRY(need_bytes(p, 2, &b)); DG_TRY(push_int(p, (int64_t)le(b, 2))); break;
    case 0x8a: { // LONG1: n little-endian two's complement bytes
      DG_TRY(need_bytes(p, 1, &b));
      unsigned n = b[0];
      DG_TRY(need_bytes(p, n, &b));
      if (n > 8) { // a big integer: kept as an opaque value
        DG_TRY(push_new(p, DG_PK_OPAQUE, NULL));
        break;
      }
      uint64_t u = n ? le(b, (int)n) : 0;
      if (n && n < 8 && (b[n - 1] & 0x80)) u |= ~0ull << (8 * n); // sign-extend
      DG_TRY(push_int(p, (int64_t)u));
      break;
    }
    case 'G': {
      DG_TRY(need_bytes(p, 8, &b));
      uint64_t u = 0;
      for (int i = 0; i < 8; i++)
        u = u << 8 | b[i];
      DG_TRY(push_new(p, DG_PK_FLOAT, &v));
      memcpy(&v->f, &u, 8);
      break;
    }
    case 't':
    case 0x85:
    case 0x86:
    case 0x87: {
      if (op == 't')
        DG_TRY(pop_mark(p, &first));
      else {
        size_t n = op - 0x84u;
        if (p->sp < floor_of(p) + n) return bad(p, "TUPLE of more values than are on the stack");
        first = p->sp - n;
      }
      DG_TRY(new_value(p, DG_PK_TUPLE, &v));
      for (size_t i = first; i < p->sp; i++)
        DG_TRY(append_item(p, v, p->stack[i]));
      p->sp = first;
      DG_TRY(push(p, v));
      break;
    }
    case 'a': // APPEND
      DG_TRY(pop(p, &w));
      DG_TRY(top(p, &v));
      if (v->kind != DG_PK_LIST) return bad(p, "APPEND to something that is not a list");
      DG_TRY(append_item(p, v, w));
      break;
    case 'e': // APPENDS
      DG_TRY(pop_mark(p, &first));
      DG_TRY(below_mark(p, first, &v));
      if (v->kind != DG_PK_LIST) return bad(p, "APPENDS to something that is not a list");
      for (size_t i = first; i < p->sp; i++)
        DG_TRY(append_item(p, v, p->stack[i]));
      p->sp = first;
      break;
    case 's': // SETITEM
      DG_TRY(pop(p, &x));
      DG_TRY(pop(p, &w));
      DG_TRY(top(p, &v));
      if (v->kind != DG_PK_DICT) return bad(p, "SETITEM on something that is not a dict");
      DG_TRY(dict_set(p, v, w, x));
      break;
    case 'u': // SETITEMS
      DG_TRY(pop_mark(p, &first));
      DG_TRY(below_mark(p, first, &v));
      if (v->kind != DG_PK_DICT) return bad(p, "SETITEMS on something that is not a dict");
      if ((p->sp - first) % 2) return bad(p, "SETITEMS with a key without value");
      for (size_t i = first; i < p->sp; i += 2)
        DG_TRY(dict_set(p, v, p->stack[i], p->stack[i + 1]));
      p->sp = first;
      break;
    case 'q':
    case 'r':
    case 0x94: { // BINPUT, LONG_BINPUT, MEMOIZE
      size_t idx = p->memo_count; // MEMOIZE: the memo's length
      if (op == 'q' || op == 'r') {
        DG_TRY(need_bytes(p, op == 'q' ? 1 : 4, &b));
        idx = (size_t)le(b, op == 'q' ? 1 : 4);
      }
      DG_TRY(top(p, &v));
      if (idx >= DG_PK_MAX_MEMO) return bad(p, "memo index past the limit");
      DG_TRY(grow(p, (void **)&p->memo, &p->capmemo, idx + 1, sizeof *p->memo, DG_PK_MAX_MEMO));
      if (!p->memo[idx]) p->memo_count++;
      p->memo[idx] = v;
      break;
    }
    case 'h':
    case 'j': { // BINGET, LONG_BINGET
      DG_TRY(need_bytes(p, op == 'h' ? 1 : 4, &b));
      size_t idx = (size_t)le(b, op == 'h' ? 1 : 4);
      if (idx >= p->capmemo || !p->memo[idx]) return bad(p, "BINGET of a memo entry never stored");
      DG_TRY(push(p, p->memo[idx]));
      break;
    }
    case 'c': DG_TRY(op_global(p)); break;
    case 0x93: DG_TRY(op_stack_global(p)); break;
    case 'R': { // REDUCE
      DG_TRY(pop(p, &w));
      DG_TRY(pop(p, &v));
      if (v->kind != DG_PK_GLOBAL) return bad(p, "REDUCE of something that is not an allowed global");
      DG_TRY(apply(p, v, w, 0, &x));
      DG_TRY(push(p, x));
      break;
    }
    case 0x81: { // NEWOBJ: cls, args
      DG_TRY(pop(p, &w));
      DG_TRY(pop(p, &v));
      if (v->kind != DG_PK_GLOBAL || w->kind != DG_PK_TUPLE) return bad(p, "NEWOBJ of something that is not an allowed class");
      if (v->global == G_DICT && w->count == 0)
        DG_TRY(push_new(p, DG_PK_DICT, NULL));
      else if (v->global == G_INERT_CLASS)
        DG_TRY(push_new(p, DG_PK_OPAQUE, NULL));
      else {
        char what[200];
        snprintf(what, sizeof what, "NEWOBJ of '%.150s', which is not a class read here", v->str);
        return bad(p, what);
      }
      break;
    }
    case 'b': // BUILD: the state of a dict (OrderedDict._metadata), a tensor or an opaque object is ignored
      DG_TRY(pop(p, &w));
      DG_TRY(top(p, &v));
      if (v->kind != DG_PK_DICT && v->kind != DG_PK_TENSOR && v->kind != DG_PK_OPAQUE) {
        char what[120];
        snprintf(what, sizeof what, "BUILD on a %s", kind_name(v->kind));
        return bad(p, what);
      }
      break;
    case 'Q': DG_TRY(op_persid(p)); break;
    case '.': // STOP
      DG_TRY(pop(p, &p->root));
      return DG_OK;
    default: {
      char what[120];
      snprintf(what, sizeof what, "opcode 0x%02x is not one torch.save writes (not read)", op);
      return bad(p, what);
    }
    }
  }
  return dg_fail(DG_ERR_FORMAT, "%s: the pickle ends without STOP (truncated?)", p->path);
}

void dg_pickle_free(dg_pickle *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nobjs; i++) {
    dg_pk_value *v = p->objs[i];
    if (v->kind != DG_PK_STORAGE) free(v->str);
    free(v->items);
    free(v->tensor);
    free(v);
  }
  free(p->objs);
  free(p->stack);
  free(p->marks);
  free(p->memo);
  free(p->path);
  free(p);
}

dg_status dg_pickle_load(const void *data, size_t size, const char *name, dg_pickle **out, const dg_pk_value **root) {
  *out = NULL;
  *root = NULL;
  if (!data && size) return dg_fail(DG_ERR_ARG, "dg_pickle_load: NULL data");
  dg_pickle *p = calloc(1, sizeof *p);
  if (!p || !(p->path = strdup(name ? name : "<memory>"))) {
    free(p);
    return dg_fail(DG_ERR_OOM, "dg_pickle_load: out of memory");
  }
  p->data = data;
  p->size = size;
  dg_status s = run(p);
  if (s != DG_OK) {
    dg_pickle_free(p);
    return s;
  }
  *out = p;
  *root = p->root;
  return DG_OK;
}

const dg_pk_value *dg_pk_dict_get(const dg_pk_value *dict, const char *key) {
  if (!dict || dict->kind != DG_PK_DICT) return NULL;
  const dg_pk_value *found = NULL;
  for (size_t i = 0; i < dict->count; i++) { // the last one wins, as in Python
    const dg_pk_value *k = dict->items[2 * i];
    if (k->kind == DG_PK_STR && strlen(k->str) == k->len && !strcmp(k->str, key)) found = dict->items[2 * i + 1];
  }
  return found;
}
