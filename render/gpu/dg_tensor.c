#include "dg_tensor.h"

#include <stdio.h>
#include <string.h>

size_t dg_dtype_size(dg_dtype dtype) { return dtype == DG_F16 ? 2 : 4; }

const char *dg_dtype_name(dg_dtype dtype) { return dtype == DG_F16 ? "f16" : "f32"; }

static dg_status check_shape(int ndim, const int64_t *shape, int64_t *numel) {
  if (ndim < 1 || ndim > DG_MAX_DIMS) return dg_fail(DG_ERR_ARG, "tensor rank %d outside 1..%d", ndim, DG_MAX_DIMS);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 1 || shape[i] > (1ll << 40)) return dg_fail(DG_ERR_ARG, "tensor dim %d has size %lld", i, (long long)shape[i]);
    n *= shape[i];
    if (n > (1ll << 40)) return dg_fail(DG_ERR_ARG, "tensor of %lld+ elements is too large", (long long)n);
  }
  *numel = n;
  return DG_OK;
}

dg_status dg_tensor_alloc(dg_arena *arena, dg_dtype dtype, int ndim, const int64_t *shape, dg_tensor *out) {
  int64_t n;
  DG_TRY(check_shape(ndim, shape, &n));
  *out = (dg_tensor){.dtype = dtype, .ndim = ndim};
  memcpy(out->shape, shape, (size_t)ndim * sizeof *shape);
  return dg_arena_alloc(arena, (uint64_t)n * dg_dtype_size(dtype), &out->data);
}

int64_t dg_tensor_numel(const dg_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

dg_status dg_tensor_reshape(const dg_tensor *t, int ndim, const int64_t *shape, dg_tensor *out) {
  int64_t n;
  DG_TRY(check_shape(ndim, shape, &n));
  char a[96];
  if (n != dg_tensor_numel(t))
    return dg_fail(DG_ERR_ARG, "cannot reshape %s (%lld elements) to %d dims with %lld elements",
                   dg_shape_str(t, a, sizeof a), (long long)dg_tensor_numel(t), ndim, (long long)n);
  dg_tensor r = *t;
  r.ndim = ndim;
  memset(r.shape, 0, sizeof r.shape);
  memcpy(r.shape, shape, (size_t)ndim * sizeof *shape);
  *out = r;
  return DG_OK;
}

dg_status dg_tensor_items(const dg_tensor *t, int64_t first, int64_t count, dg_tensor *out) {
  char a[96];
  if (t->ndim < 1 || first < 0 || count < 1 || first + count > t->shape[0])
    return dg_fail(DG_ERR_ARG, "items %lld..%lld of %s: out of range", (long long)first, (long long)(first + count - 1),
                   dg_shape_str(t, a, sizeof a));
  dg_tensor r = *t;
  uint64_t item = (uint64_t)(dg_tensor_numel(t) / t->shape[0]) * dg_dtype_size(t->dtype);
  r.data.offset += (uint64_t)first * item;
  r.data.size = (uint64_t)count * item;
  r.shape[0] = count;
  *out = r;
  return DG_OK;
}

const char *dg_shape_str(const dg_tensor *t, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < t->ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)t->shape[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

uint16_t dg_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0)); // inf/nan
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);                                        // overflow
  if (exp <= 0) {                                                                           // subnormal
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; // round to nearest even
  return (uint16_t)half;
}

float dg_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
  if (exp == 0) {
    if (mant == 0) x = sign;
    else { // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        exp--;
      }
      x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}

// f16 conversions go through a host chunk of this many elements (staged memory cannot be converted in place).
#define CHUNK 16384

dg_status dg_tensor_write_f32(dg_tensor *t, const float *src) {
  int64_t n = dg_tensor_numel(t);
  if (t->dtype == DG_F32) return dg_range_write(t->data, 0, src, (uint64_t)n * 4);
  uint16_t h[CHUNK];
  for (int64_t at = 0; at < n; at += CHUNK) {
    int64_t m = n - at < CHUNK ? n - at : CHUNK;
    for (int64_t i = 0; i < m; i++) h[i] = dg_f32_to_f16(src[at + i]);
    DG_TRY(dg_range_write(t->data, (uint64_t)at * 2, h, (uint64_t)m * 2));
  }
  return DG_OK;
}

dg_status dg_tensor_read_f32(const dg_tensor *t, float *dst) {
  int64_t n = dg_tensor_numel(t);
  if (t->dtype == DG_F32) return dg_range_read(t->data, 0, dst, (uint64_t)n * 4);
  uint16_t h[CHUNK];
  for (int64_t at = 0; at < n; at += CHUNK) {
    int64_t m = n - at < CHUNK ? n - at : CHUNK;
    DG_TRY(dg_range_read(t->data, (uint64_t)at * 2, h, (uint64_t)m * 2));
    for (int64_t i = 0; i < m; i++) dst[at + i] = dg_f16_to_f32(h[i]);
  }
  return DG_OK;
}

dg_status dg_tensor_fill_f32(dg_tensor *t, float value) {
  int64_t n = dg_tensor_numel(t);
  size_t esize = dg_dtype_size(t->dtype);
  union {
    float f[CHUNK / 2];
    uint16_t h[CHUNK];
  } chunk;
  int64_t per = (int64_t)(sizeof chunk / esize);
  for (int64_t i = 0; i < per; i++) {
    if (t->dtype == DG_F32) chunk.f[i] = value;
    else chunk.h[i] = dg_f32_to_f16(value);
  }
  for (int64_t at = 0; at < n; at += per) {
    int64_t m = n - at < per ? n - at : per;
    DG_TRY(dg_range_write(t->data, (uint64_t)at * esize, &chunk, (uint64_t)m * esize));
  }
  return DG_OK;
}
