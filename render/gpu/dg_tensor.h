// Tensors: a range of device memory with a dtype and an up-to-5-D contiguous shape (N, F, C, H, W
// by convention; fewer dims are allowed and mean the trailing ones).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_arena.h"

typedef enum dg_dtype { DG_F32 = 0, DG_F16 = 1 } dg_dtype;

#define DG_MAX_DIMS 5

typedef struct dg_tensor {
  dg_range data;
  dg_dtype dtype;
  int ndim;
  int64_t shape[DG_MAX_DIMS];
} dg_tensor;

dg_status dg_tensor_alloc(dg_arena *arena, dg_dtype dtype, int ndim, const int64_t *shape, dg_tensor *out);
int64_t dg_tensor_numel(const dg_tensor *t);
size_t dg_dtype_size(dg_dtype dtype);
const char *dg_dtype_name(dg_dtype dtype);
// Same data, another shape with the same element count.
dg_status dg_tensor_reshape(const dg_tensor *t, int ndim, const int64_t *shape, dg_tensor *out);
// Items first .. first + count - 1 along dim 0 (same data, no copy).
dg_status dg_tensor_items(const dg_tensor *t, int64_t first, int64_t count, dg_tensor *out);
// Formats the shape as "[2, 320, 64, 64]" into buf (returns buf), for error messages.
const char *dg_shape_str(const dg_tensor *t, char *buf, size_t size);

// Host access (the stream that last used the tensor must have finished). Converts to/from dtype.
// Fails only when a staging copy fails (staged memory, see dg_arena.h).
dg_status dg_tensor_write_f32(dg_tensor *t, const float *src);
dg_status dg_tensor_read_f32(const dg_tensor *t, float *dst);
dg_status dg_tensor_fill_f32(dg_tensor *t, float value);

uint16_t dg_f32_to_f16(float f);
float dg_f16_to_f32(uint16_t h);
