#include "dg_embedding.h"

#include <math.h>
#include <string.h>

#include "dg_op_util.h"

#define LOCAL 256

typedef struct lookup_push {
  uint32_t n, dim, ids_off, t_off, o_off, v0, nv, vocab;
} lookup_push;

typedef struct timestep_push {
  uint32_t n, dim, t_off, o_off;
  float log_max_period;
} timestep_push;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

dg_status dg_embedding_lookup(dg_stream *s, dg_range ids, int64_t n_ids, const dg_tensor *table, dg_tensor *out) {
  char a[96];
  if (table->ndim != 2)
    return dg_fail(DG_ERR_ARG, "embedding: table has shape %s, expected [vocab, dim]",
                   dg_shape_str(table, a, sizeof a));
  if (n_ids < 1 || ids.size < (uint64_t)n_ids * 4)
    return dg_fail(DG_ERR_ARG, "embedding: ids range of %llu bytes does not hold %lld uint32 ids",
                   (unsigned long long)ids.size, (long long)n_ids);
  int64_t vocab = table->shape[0], dim = table->shape[1];
  DG_TRY(dg_check_same_dtype("embedding", table, out));
  DG_TRY(dg_check_numel("embedding", "out", out, n_ids * dim));
  if (vocab > UINT32_MAX / 2 || n_ids * dim > UINT32_MAX) return dg_fail(DG_ERR_ARG, "embedding: tensor too large");
  const dg_device *d = dg_stream_device(s);
  const dg_device_info *info = dg_device_get_info(d);
  int64_t w = dg_window_elems(d, table);
  if (dim > w)
    return dg_fail(DG_ERR_UNSUPPORTED, "embedding: one row of %lld exceeds the binding limit", (long long)dim);
  // Parts of the table and of the output (rows) that fit a binding; ids are bound per output part.
  int64_t tv = w / dim,
          orows = min64(w / dim, (int64_t)((info->max_binding_bytes - info->min_storage_offset_alignment) / 4));
  uint32_t spec[1] = {LOCAL};
  dg_kernel *pl;
  DG_TRY(dg_op_kernel(s, "embedding", table->dtype, spec, 1, &pl));
  uint32_t align = info->min_storage_offset_alignment;
  for (int64_t r0 = 0; r0 < n_ids; r0 += orows) {
    int64_t nr = min64(orows, n_ids - r0);
    uint64_t begin = ids.offset + (uint64_t)r0 * 4, aligned = begin / align * align;
    dg_binding ib = {{ids.buffer, aligned, begin - aligned + (uint64_t)nr * 4}, false};
    for (int64_t v0 = 0; v0 < vocab; v0 += tv) {
      int64_t nv = min64(tv, vocab - v0);
      lookup_push pc = {(uint32_t)(nr * dim), (uint32_t)dim,  (uint32_t)((begin - aligned) / 4), 0, 0, (uint32_t)v0,
                        (uint32_t)nv,         (uint32_t)vocab};
      dg_binding b[3] = {ib, dg_window(d, table, v0 * dim, nv * dim, false, &pc.t_off),
                         dg_window(d, out, r0 * dim, nr * dim, true, &pc.o_off)};
      uint32_t gx, gy;
      dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, pl, b, 3, &pc, sizeof pc, gx, gy, 1, "embedding"));
    }
  }
  return DG_OK;
}

dg_status dg_embedding_lookup_host(dg_stream *s, dg_arena *arena, const uint32_t *ids, int64_t n_ids,
                                   const dg_tensor *table, dg_tensor *out) {
  for (int64_t i = 0; i < n_ids && table->ndim == 2; i++)
    if (ids[i] >= (uint64_t)table->shape[0])
      return dg_fail(DG_ERR_ARG, "embedding: id %u at %lld is outside the table of %lld rows", ids[i], (long long)i,
                     (long long)table->shape[0]);
  dg_range r;
  DG_TRY(dg_arena_alloc(arena, (uint64_t)(n_ids > 0 ? n_ids : 1) * 4, &r));
  DG_TRY(dg_stream_finish(s));
  if (n_ids > 0) DG_TRY(dg_range_write(r, 0, ids, (uint64_t)n_ids * 4));
  return dg_embedding_lookup(s, r, n_ids, table, out);
}

dg_status dg_timestep_embedding(dg_stream *s, const dg_tensor *t, int dim, float max_period, bool cos_first,
                                dg_tensor *out) {
  char a[96];
  if (t->dtype != DG_F32)
    return dg_fail(DG_ERR_ARG, "timestep_embedding: t must be f32, not %s", dg_dtype_name(t->dtype));
  if (dim < 1) return dg_fail(DG_ERR_ARG, "timestep_embedding: dim %d < 1", dim);
  if (!(max_period > 0)) return dg_fail(DG_ERR_ARG, "timestep_embedding: max_period %g is not positive", max_period);
  int64_t n = dg_tensor_numel(t);
  if (out->ndim != 2 || out->shape[0] != n || out->shape[1] != dim)
    return dg_fail(DG_ERR_ARG, "timestep_embedding: out has shape %s, expected [%lld, %d]",
                   dg_shape_str(out, a, sizeof a), (long long)n, dim);
  if (n * dim > UINT32_MAX) return dg_fail(DG_ERR_ARG, "timestep_embedding: tensor too large");
  const dg_device *d = dg_stream_device(s);
  int64_t rows = min64(dg_window_elems(d, out) / dim, dg_window_elems(d, t));
  if (rows < 1) return dg_fail(DG_ERR_UNSUPPORTED, "timestep_embedding: one row of %d exceeds the binding limit", dim);
  uint32_t spec[2] = {LOCAL, cos_first};
  dg_kernel *pl;
  DG_TRY(dg_op_kernel(s, "timestep", out->dtype, spec, 2, &pl));
  for (int64_t r0 = 0; r0 < n; r0 += rows) {
    int64_t nr = min64(rows, n - r0);
    timestep_push pc = {(uint32_t)(nr * dim), (uint32_t)dim, 0, 0, logf(max_period)};
    dg_binding b[2] = {dg_window(d, t, r0, nr, false, &pc.t_off),
                       dg_window(d, out, r0 * dim, nr * dim, true, &pc.o_off)};
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, pl, b, 2, &pc, sizeof pc, gx, gy, 1, "timestep_embedding"));
  }
  return DG_OK;
}
