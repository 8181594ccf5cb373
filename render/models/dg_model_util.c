#include "dg_model_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_memory.h"

dg_status dg_model_rgb_tensor(const dg_nn_ctx *nn, const uint8_t *const *rgb, int n, int width, int height,
                              dg_tensor *out) {
  int64_t hw = (int64_t)width * height, shape[4] = {n, 3, height, width};
  float *v = malloc((size_t)(n * 3 * hw) * sizeof *v);
  if (!v) return dg_memory_fail("the input images", (uint64_t)(n * 3 * hw) * sizeof *v);
  for (int b = 0; b < n; b++)
    for (int64_t i = 0; i < hw; i++)
      for (int c = 0; c < 3; c++)
        v[((int64_t)b * 3 + c) * hw + i] = rgb[b][i * 3 + c] / 127.5f - 1.0f;
  dg_status s = dg_stream_finish(nn->s); // released scratch may still back recorded work
  if (s == DG_OK) s = dg_nn_alloc(nn, 4, shape, out);
  if (s == DG_OK) s = dg_tensor_write_f32(out, v);
  free(v);
  return s;
}

dg_status dg_model_conv(const dg_nn_ctx *nn, const dg_tensor *x, const dg_tensor *w, const dg_tensor *b, int stride,
                        int pad, bool relu, dg_tensor *out) {
  if (x->ndim != 4) return dg_fail(DG_ERR_ARG, "conv: input must be [N, C, H, W]");
  int64_t kh = w->shape[2], kw = w->shape[3];
  int64_t shape[4] = {x->shape[0], w->shape[0], (x->shape[2] + 2 * pad - kh) / stride + 1,
                      (x->shape[3] + 2 * pad - kw) / stride + 1};
  DG_TRY(dg_nn_alloc(nn, 4, shape, out));
  dg_conv2d_params p = {.stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad};
  DG_TRY(dg_conv2d(nn->s, x, w, b, &p, out));
  return relu ? dg_unary(nn->s, DG_RELU, out, out, 0, 0) : DG_OK;
}
