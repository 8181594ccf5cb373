#include "dg_layout.h"

#include <stdio.h>

#include "dg_op_util.h"

#define LOCAL 256

typedef struct copy_push {
  uint32_t rows, cols, x_off, x_stride, o_off, o_stride;
} copy_push;

typedef struct perm_push {
  uint32_t n, x_off, o_off, oshape[5], xstride[5];
} perm_push;

// Copies rows x cols elements from x (starting at element xs, row stride xst) to o (os, ost), in
// dispatches whose windows fit a binding: many rows at once, or pieces of one row.
static dg_status copy2d(dg_stream *s, const char *op, const dg_tensor *x, int64_t xs, int64_t xst, dg_tensor *o,
                        int64_t os, int64_t ost, int64_t rows, int64_t cols) {
  const dg_device *d = dg_stream_device(s);
  int64_t w = dg_window_elems(d, x);
  dg_kernel *pl[2];
  for (int v = 0; v < 2; v++) {
    uint32_t spec[2] = {LOCAL, (uint32_t)v};
    DG_TRY(dg_op_kernel(s, "copy2d", x->dtype, spec, 2, &pl[v]));
  }
  int64_t stride = xst > ost ? xst : ost;
  int64_t nr = cols <= w ? (w - cols) / stride + 1 : 1, nc = cols <= w ? cols : w / 64 * 64;
  if (nr > rows) nr = rows;
  if (nr * nc > (int64_t)UINT32_MAX / 2) nr = (UINT32_MAX / 2) / nc;
  for (int64_t r0 = 0; r0 < rows; r0 += nr) {
    int64_t cr = rows - r0 < nr ? rows - r0 : nr;
    for (int64_t c0 = 0; c0 < cols; c0 += nc) {
      int64_t cc = cols - c0 < nc ? cols - c0 : nc;
      copy_push pc = {(uint32_t)cr, (uint32_t)cc, 0, (uint32_t)xst, 0, (uint32_t)ost};
      dg_binding b[4] = {dg_window(d, x, xs + r0 * xst + c0, (cr - 1) * xst + cc, false, &pc.x_off),
                         dg_window(d, o, os + r0 * ost + c0, (cr - 1) * ost + cc, true, &pc.o_off)};
      b[2] = b[0];
      b[3] = b[1];
      // vec4s when everything is a multiple of 4 (4x fewer lane-by-lane loads on lavapipe).
      bool vec = cc % 4 == 0 && xst % 4 == 0 && ost % 4 == 0 && pc.x_off % 4 == 0 && pc.o_off % 4 == 0;
      if (vec) {
        pc.cols /= 4;
        pc.x_stride /= 4;
        pc.o_stride /= 4;
        pc.x_off /= 4;
        pc.o_off /= 4;
      }
      uint32_t gx, gy;
      dg_grid_1d(d, ((uint64_t)pc.rows * pc.cols + LOCAL - 1) / LOCAL, &gx, &gy);
      DG_TRY(dg_stream_dispatch(s, pl[vec], b, 4, &pc, sizeof pc, gx, gy, 1, op));
    }
  }
  return DG_OK;
}

// Checks that parts (concatenated along axis) match whole; outer/inner are the sizes before/after.
static dg_status check_parts(const char *op, const dg_tensor *whole, const dg_tensor *const *parts, int n, int axis,
                             int64_t *outer, int64_t *inner) {
  char a[96], b[96];
  if (n < 1) return dg_fail(DG_ERR_ARG, "%s: %d tensors", op, n);
  if (axis < 0 || axis >= whole->ndim)
    return dg_fail(DG_ERR_ARG, "%s: axis %d outside 0..%d", op, axis, whole->ndim - 1);
  int64_t sum = 0;
  for (int i = 0; i < n; i++) {
    const dg_tensor *t = parts[i];
    DG_TRY(dg_check_same_dtype(op, whole, t));
    bool ok = t->ndim == whole->ndim;
    for (int k = 0; ok && k < t->ndim; k++)
      ok = k == axis || t->shape[k] == whole->shape[k];
    if (!ok)
      return dg_fail(DG_ERR_ARG, "%s: tensor %d has shape %s, which does not match %s outside axis %d", op, i,
                     dg_shape_str(t, a, sizeof a), dg_shape_str(whole, b, sizeof b), axis);
    sum += t->shape[axis];
  }
  if (sum != whole->shape[axis])
    return dg_fail(DG_ERR_ARG, "%s: sizes along axis %d add up to %lld, expected %lld", op, axis, (long long)sum,
                   (long long)whole->shape[axis]);
  *outer = 1;
  *inner = 1;
  for (int k = 0; k < axis; k++)
    *outer *= whole->shape[k];
  for (int k = axis + 1; k < whole->ndim; k++)
    *inner *= whole->shape[k];
  if (dg_tensor_numel(whole) > UINT32_MAX) return dg_fail(DG_ERR_ARG, "%s: tensor too large", op);
  return DG_OK;
}

dg_status dg_concat(dg_stream *s, const dg_tensor *const *inputs, int n, int axis, dg_tensor *out) {
  int64_t outer, inner, at = 0;
  DG_TRY(check_parts("concat", out, inputs, n, axis, &outer, &inner));
  int64_t ost = out->shape[axis] * inner;
  for (int i = 0; i < n; i++) {
    int64_t cols = inputs[i]->shape[axis] * inner;
    DG_TRY(copy2d(s, "concat", inputs[i], 0, cols, out, at, ost, outer, cols));
    at += cols;
  }
  return DG_OK;
}

dg_status dg_split(dg_stream *s, const dg_tensor *x, int axis, dg_tensor *const *outs, int n) {
  int64_t outer, inner, at = 0;
  DG_TRY(check_parts("split", x, (const dg_tensor *const *)outs, n, axis, &outer, &inner));
  int64_t xst = x->shape[axis] * inner;
  for (int i = 0; i < n; i++) {
    int64_t cols = outs[i]->shape[axis] * inner;
    DG_TRY(copy2d(s, "split", x, at, xst, outs[i], 0, cols, outer, cols));
    at += cols;
  }
  return DG_OK;
}

typedef struct transpose_push {
  uint32_t blocks, x4n, y4n, x_off, o_off;
} transpose_push;

// Recognises permutations that are a batched 2-D transpose once adjacent dims that stay together
// are merged ([B, X, Y] -> [B, Y, X], e.g. NCHW -> NHWC); returns false otherwise.
static bool as_transpose(const dg_tensor *x, const int *perm, int64_t *batch, int64_t *rows, int64_t *cols) {
  int nd = x->ndim, start[DG_MAX_DIMS], len[DG_MAX_DIMS], m = 0;
  for (int i = 0; i < nd; i++) {
    if (i > 0 && perm[i] == perm[i - 1] + 1) {
      len[m - 1]++;
    } else {
      start[m] = perm[i];
      len[m++] = 1;
    }
  }
  int64_t size[DG_MAX_DIMS];
  for (int g = 0; g < m; g++) {
    size[g] = 1;
    for (int k = start[g]; k < start[g] + len[g]; k++)
      size[g] *= x->shape[k];
  }
  // Output group order must be (second, first) or (first, third, second) in input order.
  if (m == 2 && start[1] == 0) {
    *batch = 1;
    *rows = size[1];
    *cols = size[0];
    return true;
  }
  if (m == 3 && start[0] == 0 && start[2] == len[0] && start[1] == len[0] + len[2]) {
    *batch = size[0];
    *rows = size[2];
    *cols = size[1];
    return true;
  }
  return false;
}

// [batch, rows, cols] -> [batch, cols, rows] by 4x4 blocks, in chunks of whole batches.
static dg_status transpose4(dg_stream *s, const dg_tensor *x, int64_t batch, int64_t rows, int64_t cols, dg_tensor *out,
                            bool *done) {
  const dg_device *d = dg_stream_device(s);
  int64_t per = dg_window_elems(d, x) / (rows * cols);
  *done = false;
  if (rows % 4 || cols % 4 || per < 1) return DG_OK;
  uint32_t spec[1] = {LOCAL};
  dg_kernel *pl;
  DG_TRY(dg_op_kernel(s, "transpose4", x->dtype, spec, 1, &pl));
  for (int64_t b0 = 0; b0 < batch; b0 += per) {
    int64_t nb = batch - b0 < per ? batch - b0 : per;
    transpose_push pc = {(uint32_t)(nb * rows * cols / 16), (uint32_t)(rows / 4), (uint32_t)(cols / 4), 0, 0};
    dg_binding b[2] = {dg_window(d, x, b0 * rows * cols, nb * rows * cols, false, &pc.x_off),
                       dg_window(d, out, b0 * rows * cols, nb * rows * cols, true, &pc.o_off)};
    if (pc.x_off % 4 || pc.o_off % 4) return b0 == 0 ? DG_OK : dg_fail(DG_ERR_UNSUPPORTED, "permute: misaligned chunk");
    pc.x_off /= 4;
    pc.o_off /= 4;
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.blocks + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, pl, b, 2, &pc, sizeof pc, gx, gy, 1, "permute"));
    *done = true;
  }
  return DG_OK;
}

dg_status dg_permute(dg_stream *s, const dg_tensor *x, const int *perm, dg_tensor *out) {
  char a[96], b[96];
  int nd = x->ndim;
  bool seen[DG_MAX_DIMS] = {false};
  for (int i = 0; i < nd; i++) {
    if (perm[i] < 0 || perm[i] >= nd || seen[perm[i]])
      return dg_fail(DG_ERR_ARG, "permute: perm is not a permutation of 0..%d (entry %d is %d)", nd - 1, i, perm[i]);
    seen[perm[i]] = true;
  }
  DG_TRY(dg_check_same_dtype("permute", x, out));
  bool ok = out->ndim == nd;
  for (int i = 0; ok && i < nd; i++)
    ok = out->shape[i] == x->shape[perm[i]];
  if (!ok)
    return dg_fail(DG_ERR_ARG, "permute: out has shape %s, expected x %s permuted", dg_shape_str(out, b, sizeof b),
                   dg_shape_str(x, a, sizeof a));
  if (dg_tensor_numel(x) > UINT32_MAX) return dg_fail(DG_ERR_ARG, "permute: tensor too large");
  int64_t batch, rows, cols;
  if (as_transpose(x, perm, &batch, &rows, &cols)) {
    bool done;
    DG_TRY(transpose4(s, x, batch, rows, cols, out, &done));
    if (done) return DG_OK;
  }
  int64_t xstride[DG_MAX_DIMS], st = 1;
  for (int i = nd - 1; i >= 0; i--) {
    xstride[i] = st;
    st *= x->shape[i];
  }
  const dg_device *d = dg_stream_device(s);
  int64_t w = dg_window_elems(d, x), n = dg_tensor_numel(x);
  // The input must be bound whole unless dim 0 stays in place, then slices of it are independent.
  int64_t slice = perm[0] == 0 ? n / x->shape[0] : n, slices = n / slice;
  if (slice > w)
    return dg_fail(DG_ERR_UNSUPPORTED, "permute: %s with perm[0] = %d exceeds the binding limit",
                   dg_shape_str(x, a, sizeof a), perm[0]);
  int64_t per = w / slice;
  uint32_t spec[1] = {LOCAL};
  dg_kernel *pl;
  DG_TRY(dg_op_kernel(s, "permute", x->dtype, spec, 1, &pl));
  perm_push pc = {0};
  for (int i = 0; i < 5; i++) {
    int k = i - (5 - nd);
    pc.oshape[i] = k < 0 ? 1 : (uint32_t)out->shape[k];
    pc.xstride[i] = k < 0 ? 0 : (uint32_t)xstride[perm[k]];
  }
  if (slices > 1) pc.oshape[5 - nd] = (uint32_t)per; // a chunk of `per` slices along dim 0
  for (int64_t s0 = 0; s0 < slices; s0 += per) {
    int64_t cs = slices - s0 < per ? slices - s0 : per;
    if (slices > 1) pc.oshape[5 - nd] = (uint32_t)cs;
    pc.n = (uint32_t)(cs * slice);
    dg_binding bind[2] = {dg_window(d, x, s0 * slice, cs * slice, false, &pc.x_off),
                          dg_window(d, out, s0 * slice, cs * slice, true, &pc.o_off)};
    uint32_t gx, gy;
    dg_grid_1d(d, (pc.n + LOCAL - 1) / LOCAL, &gx, &gy);
    DG_TRY(dg_stream_dispatch(s, pl, bind, 2, &pc, sizeof pc, gx, gy, 1, "permute"));
  }
  return DG_OK;
}
