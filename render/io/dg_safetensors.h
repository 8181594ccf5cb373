// Reading .safetensors files (8-byte little-endian header length, a JSON header mapping tensor names to
// {dtype, shape, data_offsets}, then the data). The file is memory-mapped and validated completely on
// open: header length, JSON, dtypes, shapes, offsets inside the data section, sizes matching shapes,
// no overlapping tensors. Tensors load as f32 or f16 (converting from F32, F16 and BF16).
// A PyTorch checkpoint (torch.save's zip: .ckpt, .pt, .pth, .bin) opens through the same calls: the
// zip is handed to dg_ckpt, which fills the same tensor table (offsets into the whole file).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_arena.h"
#include "dg_status.h"
#include "dg_tensor.h"

#define DG_ST_MAX_DIMS 8
// The safetensors format caps the header at 100 MB.
#define DG_ST_MAX_HEADER (100u * 1000u * 1000u)

typedef enum dg_st_dtype {
  DG_ST_F32,
  DG_ST_F16,
  DG_ST_BF16,
  DG_ST_F64,
  DG_ST_F8_E4M3,
  DG_ST_F8_E5M2,
  DG_ST_I64,
  DG_ST_I32,
  DG_ST_I16,
  DG_ST_I8,
  DG_ST_U64,
  DG_ST_U32,
  DG_ST_U16,
  DG_ST_U8,
  DG_ST_BOOL,
} dg_st_dtype;

typedef struct dg_st_tensor {
  const char *name;
  dg_st_dtype dtype;
  int ndim;
  int64_t shape[DG_ST_MAX_DIMS];
  int64_t numel;
  uint64_t begin, end; // byte offsets inside the data section
} dg_st_tensor;

typedef struct dg_safetensors dg_safetensors;

dg_status dg_safetensors_open(const char *path, dg_safetensors **out);
// Parses a file image already in memory (not copied: it must outlive the handle). `name` is used in
// error messages.
dg_status dg_safetensors_open_memory(const void *data, size_t size, const char *name, dg_safetensors **out);
void dg_safetensors_close(dg_safetensors *st);
// For the readers of other formats (dg_ckpt): a handle over `count` tensors (malloc'd, taken over, in
// any order) whose [begin, end) are byte offsets into `data`, with meta_count metadata entries
// (meta_keys and meta_values malloc'd, taken over). `owned` (malloc'd: the strings, for instance) is
// freed on close, and `data` unmapped if `mapped`; all are released on failure too. Names must be
// unique; tensors may share bytes (views of one storage).
dg_status dg_safetensors_adopt(const char *path, const void *data, size_t size, bool mapped, dg_st_tensor *tensors,
                               size_t count, const char **meta_keys, const char **meta_values, size_t meta_count,
                               void *owned, dg_safetensors **out);

const char *dg_safetensors_path(const dg_safetensors *st);
// Tensors in ascending order of name.
size_t dg_safetensors_count(const dg_safetensors *st);
const dg_st_tensor *dg_safetensors_tensor(const dg_safetensors *st, size_t index);
const dg_st_tensor *dg_safetensors_find(const dg_safetensors *st, const char *name);
// A `__metadata__` value (NULL if absent).
const char *dg_safetensors_metadata(const dg_safetensors *st, const char *key);
size_t dg_safetensors_metadata_count(const dg_safetensors *st);
void dg_safetensors_metadata_at(const dg_safetensors *st, size_t index, const char **key, const char **value);

const char *dg_st_dtype_name(dg_st_dtype dtype);
size_t dg_st_dtype_size(dg_st_dtype dtype);
// Raw little-endian bytes of a tensor inside the mapping.
const void *dg_safetensors_data(const dg_safetensors *st, const dg_st_tensor *t);

// Converts a tensor into host memory as `dtype` (dst holds numel elements; dst_bytes is checked).
// F32, F16 and BF16 sources convert; other dtypes give DG_ERR_UNSUPPORTED naming the dtype.
dg_status dg_safetensors_read(const dg_safetensors *st, const dg_st_tensor *t, dg_dtype dtype, void *dst,
                              size_t dst_bytes);
// Allocates a device tensor of the stored shape (at most DG_MAX_DIMS dims) and fills it.
dg_status dg_safetensors_load(const dg_safetensors *st, const char *name, dg_arena *arena, dg_dtype dtype,
                              dg_tensor *out);
