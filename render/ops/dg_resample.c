#include "dg_resample.h"

#include "dg_op_util.h"

#define LOCAL 256

// Modes of compute-shaders/resample.comp.
enum { UPSAMPLE2X = 0, AVG_POOL = 1, DOWNSAMPLE = 2, UPSAMPLE2X_VEC4 = 3, MAX_POOL = 4, ADAPTIVE_AVG = 5, BILINEAR = 6 };

typedef struct push {
  uint32_t n, x_off, o_off, h, w, oh, ow, s;
  uint32_t k, pad;
  uint32_t band, row0;    // output rows per plane in this dispatch, and the first one
  float scale_h, scale_w; // bilinear: source pixels per output pixel
} push;

// The mode's parameters: kernel k, stride s, padding; align_corners for the bilinear resize.
typedef struct resample_args {
  int k, s, pad;
  bool align_corners;
} resample_args;

// Checks shapes and runs resample.comp over whole planes, as many per dispatch as fit a binding.
static dg_status run(dg_stream *s, const char *op, uint32_t mode, const dg_tensor *x, int64_t oh, int64_t ow,
                     resample_args a, dg_tensor *out) {
  char sx[96];
  if (x->ndim < 2)
    return dg_fail(DG_ERR_ARG, "%s: x has shape %s, expected [..., H, W]", op, dg_shape_str(x, sx, sizeof sx));
  if (a.k < 1 || a.s < 1) return dg_fail(DG_ERR_ARG, "%s: kernel %d / stride %d < 1", op, a.k, a.s);
  if (a.pad < 0 || a.pad > a.k / 2) return dg_fail(DG_ERR_ARG, "%s: padding %d outside 0..kernel/2", op, a.pad);
  if (oh < 1 || ow < 1)
    return dg_fail(DG_ERR_ARG, "%s: x %s is smaller than the kernel %d", op, dg_shape_str(x, sx, sizeof sx), a.k);
  DG_TRY(dg_check_planes_out(op, x, out, oh, ow));
  const dg_device *d = dg_stream_device(s);
  int64_t h = x->shape[x->ndim - 2], w = x->shape[x->ndim - 1], planes = dg_tensor_numel(x) / (h * w);
  int64_t per = dg_window_elems(d, x) / (h * w), per_out = dg_window_elems(d, out) / (oh * ow);
  if (per_out < per) per = per_out;
  // An output plane past the binding limit (a big upsample) goes in bands of rows, one plane at a time.
  int64_t band = oh;
  if (per < 1 && dg_window_elems(d, x) >= h * w && dg_window_elems(d, out) >= ow) {
    per = 1;
    band = dg_window_elems(d, out) / ow;
  }
  if (per < 1)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: one %lld x %lld plane exceeds the binding limit", op, (long long)h,
                   (long long)w);
  if (dg_tensor_numel(x) > UINT32_MAX || dg_tensor_numel(out) > UINT32_MAX)
    return dg_fail(DG_ERR_ARG, "%s: tensor too large", op);
  dg_kernel *pl, *pl4 = NULL;
  uint32_t spec[2] = {LOCAL, mode};
  DG_TRY(dg_op_kernel(s, "resample", x->dtype, spec, 2, &pl));
  if (mode == UPSAMPLE2X && w % 4 == 0 && band == oh) {
    spec[1] = UPSAMPLE2X_VEC4;
    DG_TRY(dg_op_kernel(s, "resample", x->dtype, spec, 2, &pl4));
  }
  // torch's area_pixel_compute_scale for a given output size.
  float sh = a.align_corners ? (oh > 1 ? (float)(h - 1) / (float)(oh - 1) : 0.0f) : (float)h / (float)oh;
  float sw = a.align_corners ? (ow > 1 ? (float)(w - 1) / (float)(ow - 1) : 0.0f) : (float)w / (float)ow;
  for (int64_t p0 = 0; p0 < planes; p0 += per)
    for (int64_t r0 = 0; r0 < oh; r0 += band) {
      int64_t np = planes - p0 < per ? planes - p0 : per, nr = oh - r0 < band ? oh - r0 : band;
      push pc = {.n = (uint32_t)(np * nr * ow), .h = (uint32_t)h, .w = (uint32_t)w, .oh = (uint32_t)oh,
                 .ow = (uint32_t)ow, .s = (uint32_t)(mode == BILINEAR ? a.align_corners : a.s), .k = (uint32_t)a.k,
                 .pad = (uint32_t)a.pad, .band = (uint32_t)nr, .row0 = (uint32_t)r0, .scale_h = sh, .scale_w = sw};
      dg_binding bind[4] = {dg_window(d, x, p0 * h * w, np * h * w, false, &pc.x_off),
                            dg_window(d, out, p0 * oh * ow + r0 * ow, np * nr * ow, true, &pc.o_off)};
      bind[2] = bind[0];
      bind[3] = bind[1];
      dg_kernel *use = pl;
      if (pl4 && pc.x_off % 4 == 0 && pc.o_off % 4 == 0) { // vec4 upsample: units of vec4s
        use = pl4;
        pc.n = (uint32_t)(np * h * w / 4);
        pc.x_off /= 4;
        pc.o_off /= 4;
        pc.w = (uint32_t)(w / 4);
        pc.ow = (uint32_t)(ow / 4);
      }
      uint32_t gx, gy;
      dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, use, bind, 4, &pc, sizeof pc, gx, gy, 1, op));
    }
  return DG_OK;
}

static int64_t dim(const dg_tensor *x, int from_end) { return x->ndim >= 2 ? x->shape[x->ndim - from_end] : 1; }

dg_status dg_upsample_nearest2x(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  return run(s, "upsample_nearest2x", UPSAMPLE2X, x, 2 * dim(x, 2), 2 * dim(x, 1), (resample_args){2, 2, 0, false},
             out);
}

dg_status dg_avg_pool(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out) {
  int kk = k < 1 ? 1 : k;
  return run(s, "avg_pool", AVG_POOL, x, dim(x, 2) / kk, dim(x, 1) / kk, (resample_args){k, k, 0, false}, out);
}

dg_status dg_downsample(dg_stream *s, const dg_tensor *x, int k, dg_tensor *out) {
  int kk = k < 1 ? 1 : k;
  return run(s, "downsample", DOWNSAMPLE, x, (dim(x, 2) + kk - 1) / kk, (dim(x, 1) + kk - 1) / kk,
             (resample_args){k, k, 0, false}, out);
}

dg_status dg_max_pool(dg_stream *s, const dg_tensor *x, int k, int stride, int pad, dg_tensor *out) {
  int kk = k < 1 ? 1 : k, ss = stride < 1 ? 1 : stride;
  int64_t oh = (dim(x, 2) + 2 * pad - kk) / ss + 1, ow = (dim(x, 1) + 2 * pad - kk) / ss + 1;
  if (dim(x, 2) + 2 * pad < kk || dim(x, 1) + 2 * pad < kk) oh = ow = 0;
  return run(s, "max_pool", MAX_POOL, x, oh, ow, (resample_args){k, stride, pad, false}, out);
}

// The output size of the resizes comes from out, which must have x's rank.
static dg_status sized(const char *op, const dg_tensor *x, const dg_tensor *out, int64_t *oh, int64_t *ow) {
  char sx[96], so[96];
  if (out->ndim != x->ndim || out->ndim < 2)
    return dg_fail(DG_ERR_ARG, "%s: out has shape %s, expected the rank of x %s", op,
                   dg_shape_str(out, so, sizeof so), dg_shape_str(x, sx, sizeof sx));
  *oh = out->shape[out->ndim - 2];
  *ow = out->shape[out->ndim - 1];
  return DG_OK;
}

dg_status dg_adaptive_avg_pool(dg_stream *s, const dg_tensor *x, dg_tensor *out) {
  int64_t oh = 0, ow = 0;
  DG_TRY(sized("adaptive_avg_pool", x, out, &oh, &ow));
  return run(s, "adaptive_avg_pool", ADAPTIVE_AVG, x, oh, ow, (resample_args){1, 1, 0, false}, out);
}

dg_status dg_resize_bilinear(dg_stream *s, const dg_tensor *x, bool align_corners, dg_tensor *out) {
  int64_t oh = 0, ow = 0;
  DG_TRY(sized("resize_bilinear", x, out, &oh, &ow));
  return run(s, "resize_bilinear", BILINEAR, x, oh, ow, (resample_args){1, 1, 0, align_corners}, out);
}
