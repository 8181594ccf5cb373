// A data-only interpreter of the Python pickles that torch.save writes (protocols 2 to 5). Nothing is
// ever imported, called or executed: GLOBAL / STACK_GLOBAL resolve only names from a fixed allowlist
// (the tensor and parameter rebuild functions, torch's typed storages, OrderedDict, a few inert
// Lightning and numpy helpers that become opaque values) and anything else stops the load with a
// message naming it ("x.ckpt: refuses to load global 'posix.system'"). REDUCE, NEWOBJ and BUILD only
// apply the allowlisted callables to values of the right kinds, as data:
// - torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) becomes a tensor view record
//   (contiguous row-major strides required),
// - _rebuild_parameter(_with_state) and torch._tensor._rebuild_from_type_v2 (to Tensor or Parameter)
//   return their tensor,
// - OrderedDict() and Lightning's AttributeDict are dicts.
// Persistent ids ('storage', <torch.XStorage>, key, location, numel) become storage records; what they
// point at is checked by the caller (dg_ckpt). Stack depth, marks, memo, objects and allocated bytes
// are bounded; an input can only make work and memory proportional to its size.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_safetensors.h"
#include "dg_status.h"

#define DG_PK_MAX_STACK (1u << 20)
#define DG_PK_MAX_MARKS (1u << 16)
#define DG_PK_MAX_MEMO (1u << 22)
#define DG_PK_MAX_OBJECTS (1u << 22)
#define DG_PK_MAX_BYTES (1u << 30) // strings, bytes and containers together

typedef enum dg_pk_kind {
  DG_PK_NONE,
  DG_PK_BOOL,
  DG_PK_INT,
  DG_PK_FLOAT,
  DG_PK_STR,
  DG_PK_BYTES,
  DG_PK_TUPLE,
  DG_PK_LIST,
  DG_PK_DICT,
  DG_PK_GLOBAL,  // an allowlisted global (a function or class token, never called)
  DG_PK_STORAGE, // a persistent id: key, dtype, numel
  DG_PK_TENSOR,  // a view of a storage
  DG_PK_OPAQUE,  // an inert object (a big integer, a numpy scalar, a Lightning callback): ignored
} dg_pk_kind;

typedef struct dg_pk_value dg_pk_value;

typedef struct dg_pk_tensor {
  dg_pk_value *storage;
  int64_t offset; // in elements
  int ndim;
  int64_t shape[DG_ST_MAX_DIMS];
  int64_t numel;
} dg_pk_tensor;

struct dg_pk_value {
  dg_pk_kind kind;
  int global;        // DG_PK_GLOBAL: which (dg_pickle.c's table)
  int64_t i;         // BOOL, INT; STORAGE: numel
  double f;          // FLOAT
  char *str;         // STR, BYTES (NUL-terminated copy), STORAGE: key, GLOBAL: "module.name"
  size_t len;        // bytes of str
  dg_pk_value **items; // TUPLE, LIST; DICT: key0, value0, key1, value1, ... (in insertion order)
  size_t count, cap;   // items (DICT: pairs)
  dg_st_dtype dtype;   // STORAGE and storage-class globals
  dg_pk_tensor *tensor;
};

typedef struct dg_pickle dg_pickle;

// Runs the pickle; *root is the STOP value (owned by the handle). `name` is used in messages.
dg_status dg_pickle_load(const void *data, size_t size, const char *name, dg_pickle **out, const dg_pk_value **root);
void dg_pickle_free(dg_pickle *p);

// The value of DICT entry `key` (a STR), or NULL.
const dg_pk_value *dg_pk_dict_get(const dg_pk_value *dict, const char *key);
