#include "dg_modconv.h"

#include "dg_op_util.h"

#define LOCAL 256

typedef struct up_push {
  uint32_t n, x_off, o_off, h, w, oh, ow, up, down;
  int32_t px0, py0;
  uint32_t fh, fw;
  float f[16];
} up_push;

// Whole planes of x and out per dispatch, as many as fit a binding.
static int64_t planes_per(const dg_device *d, const dg_tensor *x, int64_t in_plane, const dg_tensor *out,
                          int64_t out_plane) {
  int64_t a = dg_window_elems(d, x) / in_plane, b = dg_window_elems(d, out) / out_plane;
  return a < b ? a : b;
}

dg_status dg_upfirdn2d(dg_stream *s, const dg_tensor *x, const float *f, int fh, int fw, int up, int down,
                       const int pad[4], float gain, dg_tensor *out) {
  const char *op = "upfirdn2d";
  char sx[96];
  if (x->ndim < 2)
    return dg_fail(DG_ERR_ARG, "%s: x has shape %s, expected [..., H, W]", op, dg_shape_str(x, sx, sizeof sx));
  if (fh < 1 || fw < 1 || fh > DG_UPFIRDN_MAX_TAPS || fw > DG_UPFIRDN_MAX_TAPS || up < 1 || down < 1)
    return dg_fail(DG_ERR_ARG, "%s: filter %dx%d (at most %d taps), up %d, down %d", op, fh, fw, DG_UPFIRDN_MAX_TAPS,
                   up, down);
  int64_t h = x->shape[x->ndim - 2], w = x->shape[x->ndim - 1];
  int64_t oh = (h * up + pad[2] + pad[3] - fh) / down + 1, ow = (w * up + pad[0] + pad[1] - fw) / down + 1;
  if (h * up + pad[2] + pad[3] < fh || w * up + pad[0] + pad[1] < fw)
    return dg_fail(DG_ERR_ARG, "%s: x %s padded is smaller than the filter", op, dg_shape_str(x, sx, sizeof sx));
  DG_TRY(dg_check_planes_out(op, x, out, oh, ow));
  const dg_device *d = dg_stream_device(s);
  int64_t planes = dg_tensor_numel(x) / (h * w), per = planes_per(d, x, h * w, out, oh * ow);
  if (per < 1) return dg_fail(DG_ERR_UNSUPPORTED, "%s: one plane exceeds the binding limit", op);
  up_push pc = {.h = (uint32_t)h, .w = (uint32_t)w, .oh = (uint32_t)oh, .ow = (uint32_t)ow, .up = (uint32_t)up,
                .down = (uint32_t)down, .px0 = pad[0], .py0 = pad[2], .fh = (uint32_t)fh, .fw = (uint32_t)fw};
  for (int a = 0; a < fh; a++) // flipped, times the gain
    for (int b = 0; b < fw; b++)
      pc.f[a * fw + b] = f[(fh - 1 - a) * fw + (fw - 1 - b)] * gain;
  dg_kernel *k;
  uint32_t spec[1] = {LOCAL};
  DG_TRY(dg_op_kernel(s, "upfirdn2d", x->dtype, spec, 1, &k));
  for (int64_t p0 = 0; p0 < planes; p0 += per) {
    int64_t np = planes - p0 < per ? planes - p0 : per;
    pc.n = (uint32_t)(np * oh * ow);
    dg_binding bind[2] = {dg_window(d, x, p0 * h * w, np * h * w, false, &pc.x_off),
                          dg_window(d, out, p0 * oh * ow, np * oh * ow, true, &pc.o_off)};
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, k, bind, 2, &pc, sizeof pc, gx, gy, 1, op));
  }
  return DG_OK;
}

typedef struct mod_push {
  uint32_t n, y_off, o_off, d_off, nz_off, b_off, plane0, c, hw;
  uint32_t demod, noise_mode, act;
  float strength, gain, clamp_to;
} mod_push;

dg_status dg_modulate_act(dg_stream *s, const dg_tensor *y, const dg_modulate_args *a, dg_tensor *out) {
  const char *op = "modulate_act";
  char sy[96], st[96];
  if (y->ndim != 4)
    return dg_fail(DG_ERR_ARG, "%s: y has shape %s, expected [N, O, H, W]", op, dg_shape_str(y, sy, sizeof sy));
  int64_t n = y->shape[0], c = y->shape[1], hw = y->shape[2] * y->shape[3];
  DG_TRY(dg_check_same_dtype(op, y, out));
  DG_TRY(dg_check_same_dtype(op, y, a->bias));
  DG_TRY(dg_check_numel(op, "out", out, n * c * hw));
  DG_TRY(dg_check_numel(op, "bias", a->bias, c));
  if (a->dsum) {
    DG_TRY(dg_check_same_dtype(op, y, a->dsum));
    DG_TRY(dg_check_numel(op, "dsum", a->dsum, n * c));
  }
  uint32_t noise_mode = 0;
  if (a->noise) {
    DG_TRY(dg_check_same_dtype(op, y, a->noise));
    int64_t nn = dg_tensor_numel(a->noise);
    noise_mode = nn == hw ? 1 : nn == n * hw ? 2 : nn == n * c * hw ? 3 : 0;
    if (!noise_mode)
      return dg_fail(DG_ERR_ARG, "%s: noise has shape %s, expected [H, W], [N, H, W] or [N, O, H, W] of y %s", op,
                     dg_shape_str(a->noise, st, sizeof st), dg_shape_str(y, sy, sizeof sy));
  }
  const dg_device *d = dg_stream_device(s);
  const dg_tensor *small[3] = {a->dsum ? a->dsum : a->bias, a->noise && noise_mode < 3 ? a->noise : a->bias, a->bias};
  for (int i = 0; i < 3; i++)
    if (dg_tensor_numel(small[i]) > dg_window_elems(d, small[i]))
      return dg_fail(DG_ERR_UNSUPPORTED, "%s: %s exceeds the binding limit", op, dg_shape_str(small[i], st, sizeof st));
  int64_t planes = n * c, per = planes_per(d, y, hw, out, hw);
  if (per < 1) return dg_fail(DG_ERR_UNSUPPORTED, "%s: one plane exceeds the binding limit", op);
  dg_kernel *k;
  uint32_t spec[1] = {LOCAL};
  DG_TRY(dg_op_kernel(s, "modulate_act", y->dtype, spec, 1, &k));
  mod_push pc = {.c = (uint32_t)c, .hw = (uint32_t)hw, .demod = a->dsum != NULL, .noise_mode = noise_mode,
                 .act = a->lrelu, .strength = a->strength, .gain = a->gain, .clamp_to = a->clamp};
  for (int64_t p0 = 0; p0 < planes; p0 += per) {
    int64_t np = planes - p0 < per ? planes - p0 : per;
    pc.n = (uint32_t)(np * hw);
    pc.plane0 = (uint32_t)p0;
    dg_binding bind[5];
    bind[0] = dg_window(d, y, p0 * hw, np * hw, false, &pc.y_off);
    bind[1] = dg_window(d, small[0], 0, dg_tensor_numel(small[0]), false, &pc.d_off);
    bind[2] = noise_mode == 3 ? dg_window(d, a->noise, p0 * hw, np * hw, false, &pc.nz_off)
                              : dg_window(d, small[1], 0, dg_tensor_numel(small[1]), false, &pc.nz_off);
    bind[3] = dg_window(d, a->bias, 0, c, false, &pc.b_off);
    bind[4] = dg_window(d, out, p0 * hw, np * hw, true, &pc.o_off);
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, k, bind, 5, &pc, sizeof pc, gx, gy, 1, op));
  }
  return DG_OK;
}
