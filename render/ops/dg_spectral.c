#include "dg_spectral.h"

#include "dg_op_util.h"

#define LOCAL 64u

dg_status dg_fda_swap(dg_stream *s, dg_tensor *t, int b, float strength) {
  char sh[64];
  if (t->dtype != DG_F32 || t->ndim != 4 || t->shape[3] != 2 || t->shape[0] % 2)
    return dg_fail(DG_ERR_ARG, "fda_swap: spectrum %s %s, expected f32 [2P, H, W/2 + 1, 2]", dg_dtype_name(t->dtype),
                   dg_shape_str(t, sh, sizeof sh));
  if (!(strength >= 0.0f && strength <= 1.0f))
    return dg_fail(DG_ERR_ARG, "fda_swap: strength %g outside [0, 1]", (double)strength);
  if (b < 0) return DG_OK;
  int64_t h = t->shape[1], w2 = t->shape[2];
  int64_t rows = 2 * (int64_t)b + 1 < h ? 2 * (int64_t)b + 1 : h, cols = (int64_t)b + 1 < w2 ? (int64_t)b + 1 : w2;
  struct {
    uint32_t planes, h, w2, b, rows, cols;
    float strength;
  } pc = {(uint32_t)(t->shape[0] / 2), (uint32_t)h, (uint32_t)w2, (uint32_t)b, (uint32_t)rows, (uint32_t)cols,
          strength};
  dg_kernel *k;
  const uint32_t spec[1] = {LOCAL};
  DG_TRY(dg_op_kernel(s, "fda_swap", DG_F32, spec, 1, &k));
  uint32_t gx, gy;
  dg_grid_1d(dg_stream_device(s), ((uint64_t)pc.planes * pc.rows * pc.cols + LOCAL - 1) / LOCAL, &gx, &gy);
  dg_binding bind = dg_bind(t, true);
  return dg_stream_dispatch(s, k, &bind, 1, &pc, sizeof pc, gx, gy, 1, "fda_swap");
}
