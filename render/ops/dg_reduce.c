#include "dg_reduce.h"

#include "dg_op_util.h"

#define LOCAL 256

typedef struct push {
  uint32_t n, a, inner, x_off, o_off;
} push;

dg_status dg_reduce(dg_stream *s, dg_reduce_op op, const dg_tensor *x, int axis, dg_tensor *out) {
  static const char *names[] = {"reduce_sum", "reduce_mean", "reduce_max"};
  if (op < DG_REDUCE_SUM || op > DG_REDUCE_MAX) return dg_fail(DG_ERR_ARG, "reduce: bad op %d", op);
  const char *name = names[op];
  if (axis < 0 || axis >= x->ndim) return dg_fail(DG_ERR_ARG, "%s: axis %d outside 0..%d", name, axis, x->ndim - 1);
  int64_t a = x->shape[axis], inner = 1, outer = 1;
  for (int k = 0; k < axis; k++)
    outer *= x->shape[k];
  for (int k = axis + 1; k < x->ndim; k++)
    inner *= x->shape[k];
  DG_TRY(dg_check_same_dtype(name, x, out));
  DG_TRY(dg_check_numel(name, "out", out, outer * inner));
  if (dg_tensor_numel(x) > UINT32_MAX) return dg_fail(DG_ERR_ARG, "%s: tensor too large", name);
  const dg_device *d = dg_stream_device(s);
  int64_t per = dg_window_elems(d, x) / (a * inner);
  if (per < 1)
    return dg_fail(DG_ERR_UNSUPPORTED, "%s: one slice of %lld x %lld exceeds the binding limit", name, (long long)a,
                   (long long)inner);
  dg_kernel *pl[2];
  for (int v = 0; v < 2; v++) {
    uint32_t spec[3] = {LOCAL, (uint32_t)op, (uint32_t)v};
    DG_TRY(dg_op_kernel(s, "reduce", x->dtype, spec, 3, &pl[v]));
  }
  for (int64_t o0 = 0; o0 < outer; o0 += per) {
    int64_t no = outer - o0 < per ? outer - o0 : per;
    push pc = {(uint32_t)(no * inner), (uint32_t)a, (uint32_t)inner, 0, 0};
    dg_binding b[3] = {dg_window(d, x, o0 * a * inner, no * a * inner, false, &pc.x_off),
                       dg_window(d, out, o0 * inner, no * inner, true, &pc.o_off)};
    b[2] = b[0];
    bool vec = inner == 1 && a % 4 == 0 && pc.x_off % 4 == 0;
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, pl[vec], b, 3, &pc, sizeof pc, gx, gy, 1, name));
  }
  return DG_OK;
}
