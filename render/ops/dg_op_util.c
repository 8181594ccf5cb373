#include "dg_op_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dg_status dg_op_kernel(dg_stream *s, const char *name, dg_dtype dtype, const uint32_t *spec, int n_spec,
                         dg_kernel **out) {
  char full[128];
  snprintf(full, sizeof full, "%s%s", name, dtype == DG_F16 ? ".f16" : "");
  return dg_kernel_get(dg_stream_device(s), full, spec, n_spec, out);
}

dg_binding dg_window(const dg_device *d, const dg_tensor *t, int64_t first, int64_t count, bool write,
                     uint32_t *elem_offset) {
  uint64_t es = dg_dtype_size(t->dtype), align = dg_device_get_info(d)->min_storage_offset_alignment;
  uint64_t begin = t->data.offset + (uint64_t)first * es;
  uint64_t aligned = begin / align * align;
  *elem_offset = (uint32_t)((begin - aligned) / es);
  dg_range r = {t->data.buffer, aligned, begin - aligned + (uint64_t)count * es};
  return (dg_binding){r, write};
}

int64_t dg_window_elems(const dg_device *d, const dg_tensor *t) {
  const dg_device_info *info = dg_device_get_info(d);
  uint64_t usable = info->max_binding_bytes - info->min_storage_offset_alignment;
  return (int64_t)(usable / dg_dtype_size(t->dtype));
}

void dg_grid_1d(const dg_device *d, uint64_t groups, uint32_t *gx, uint32_t *gy) {
  uint64_t maxx = dg_device_get_info(d)->max_workgroup_count[0];
  if (maxx > 65535) maxx = 65535;
  if (groups == 0) groups = 1;
  if (groups <= maxx) {
    *gx = (uint32_t)groups;
    *gy = 1;
  } else {
    *gx = (uint32_t)maxx;
    *gy = (uint32_t)((groups + maxx - 1) / maxx);
  }
}

dg_status dg_check_same_dtype(const char *op, const dg_tensor *a, const dg_tensor *b) {
  if (a->dtype != b->dtype)
    return dg_fail(DG_ERR_ARG, "%s: dtype mismatch (%s vs %s)", op, dg_dtype_name(a->dtype), dg_dtype_name(b->dtype));
  return DG_OK;
}

dg_status dg_check_numel(const char *op, const char *what, const dg_tensor *t, int64_t numel) {
  if (dg_tensor_numel(t) != numel) {
    char buf[96];
    return dg_fail(DG_ERR_ARG, "%s: %s has shape %s (%lld elements), expected %lld elements", op, what,
                   dg_shape_str(t, buf, sizeof buf), (long long)dg_tensor_numel(t), (long long)numel);
  }
  return DG_OK;
}

dg_status dg_check_planes_out(const char *op, const dg_tensor *x, const dg_tensor *out, int64_t oh, int64_t ow) {
  DG_TRY(dg_check_same_dtype(op, x, out));
  bool ok = out->ndim == x->ndim && out->shape[x->ndim - 2] == oh && out->shape[x->ndim - 1] == ow;
  for (int i = 0; ok && i < x->ndim - 2; i++)
    ok = out->shape[i] == x->shape[i];
  if (ok) return DG_OK;
  char sx[96], so[96];
  return dg_fail(DG_ERR_ARG, "%s: out has shape %s, expected x's %s with the last two dims %lld, %lld", op,
                 dg_shape_str(out, so, sizeof so), dg_shape_str(x, sx, sizeof sx), (long long)oh, (long long)ow);
}

bool dg_op_env_flag(atomic_int *cache, const char *name) {
  int v = atomic_load_explicit(cache, memory_order_relaxed);
  if (v < 0) {
    v = getenv(name) != NULL;
    atomic_store_explicit(cache, v, memory_order_relaxed);
  }
  return v;
}
