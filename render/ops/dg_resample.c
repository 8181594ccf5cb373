#include "dg_resample.h"

#include "dg_op_util.h"

#define LOCAL 256

typedef struct push {
  uint32_t n, x_off, o_off, h, w, oh, ow, s;
} push;

// Checks shapes and runs resample.comp over whole planes, as many per dispatch as fit a binding.
static dg_status run(dg_stream *s, const char *op, uint32_t mode, const dg_tensor *x, int64_t oh, int64_t ow, int k,
                     dg_tensor *out) {
  char a[96], b[96];
  if (x->ndim < 2)
    return dg_fail(DG_ERR_ARG, "%s: x has shape %s, expected [..., H, W]", op, dg_shape_str(x, a, sizeof a));
  if (k < 1) return dg_fail(DG_ERR_ARG, "%s: kernel/stride %d < 1", op, k);
  if (oh < 1 || ow < 1)
    return dg_fail(DG_ERR_ARG, "%s: x %s is smaller than the kernel %d", op, dg_shape_str(x, a, sizeof a), k);
  DG_TRY(dg_check_same_dtype(op, x, out));
  bool ok = out->ndim == x->ndim && out->shape[x->ndim - 2] == oh && out->shape[x->ndim - 1] == ow;
  for (int i = 0; ok && i < x->ndim - 2; i++)
    ok = out->shape[i] == x->shape[i];
  if (!ok)
    return dg_fail(DG_ERR_ARG, "%s: out has shape %s, expected x's %s with the last two dims %lld, %lld", op,
                   dg_shape_str(out, b, sizeof b), dg_shape_str(x, a, sizeof a), (long long)oh, (long long)ow);
  const dg_device *d = dg_stream_device(s);
  int64_t h = x->shape[x->ndim - 2], w = x->shape[x->ndim - 1], planes = dg_tensor_numel(x) / (h * w);
  int64_t per = dg_window_elems(d, x) / (h * w), per_out = dg_window_elems(d, out) / (oh * ow);
  if (per_out < per) per = per_out;
  if (per < 1)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: one %lld x %lld plane exceeds the binding limit", op, (long long)h,
                   (long long)w);
  if (dg_tensor_numel(x) > UINT32_MAX || dg_tensor_numel(out) > UINT32_MAX)
    return dg_fail(DG_ERR_ARG, "%s: tensor too large", op);
  dg_pipeline *pl, *pl4 = NULL;
  uint32_t spec[2] = {LOCAL, mode};
  DG_TRY(dg_op_pipeline(s, "resample", x->dtype, spec, 2, &pl));
  if (mode == 0 && w % 4 == 0) {
    spec[1] = 3;
    DG_TRY(dg_op_pipeline(s, "resample", x->dtype, spec, 2, &pl4));
  }
  for (int64_t p0 = 0; p0 < planes; p0 += per) {
    int64_t np = planes - p0 < per ? planes - p0 : per;
    push pc = {(uint32_t)(np * oh * ow), 0, 0, (uint32_t)h, (uint32_t)w, (uint32_t)oh, (uint32_t)ow, (uint32_t)k};
    dg_binding bind[4] = {dg_window(d, x, p0 * h * w, np * h * w, false, &pc.x_off),
                          dg_window(d, out, p0 * oh * ow, np * oh * ow, true, &pc.o_off)};
    bind[2] = bind[0];
    bind[3] = bind[1];
    dg_pipeline *use = pl;
    if (pl4 && pc.x_off % 4 == 0 && pc.o_off % 4 == 0) { // vec4 upsample: units of vec4s
      use = pl4;
      pc = (push){(uint32_t)(np * h * w / 4), pc.x_off / 4, pc.o_off / 4,       (uint32_t)h,
                  (uint32_t)(w / 4),          (uint32_t)oh, (uint32_t)(ow / 4), 2};
    }
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, use, bind, 4, &pc, sizeof pc, gx, gy, 1, op));
  }
  return DG_OK;
}

static int64_t dim(const dg_tensor *x, int from_end) { return x->ndim >= 2 ? x->shape[x->ndim - from_end] : 1; }

dg_status dg_upsample_nearest2x(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  return run(s, "upsample_nearest2x", 0, x, 2 * dim(x, 2), 2 * dim(x, 1), 2, out);
}

dg_status dg_avg_pool(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out) {
  int kk = k < 1 ? 1 : k;
  return run(s, "avg_pool", 1, x, dim(x, 2) / kk, dim(x, 1) / kk, k, out);
}

dg_status dg_downsample(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out) {
  int kk = k < 1 ? 1 : k;
  return run(s, "downsample", 2, x, (dim(x, 2) + kk - 1) / kk, (dim(x, 1) + kk - 1) / kk, k, out);
}
