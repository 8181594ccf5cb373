// Nearest 2x upsampling, average pooling, strided subsampling, max pooling, adaptive average pooling and
// bilinear resizing against the CPU reference: both dtypes, odd sizes, 2- to 5-D tensors, and (split
// run) planes spread over several windows; a few values checked against numbers torch printed.
#include <stdlib.h>

#include "dg_ref.h"
#include "dg_resample.h"
#include "dg_test.h"

static void check(int mode, dg_dtype dt, int ndim, const int64_t *shape, int k) {
  int64_t h = shape[ndim - 2], w = shape[ndim - 1], planes = 1, os[5];
  for (int i = 0; i < ndim - 2; i++)
    planes *= shape[i];
  for (int i = 0; i < ndim; i++)
    os[i] = shape[i];
  os[ndim - 2] = mode == 0 ? 2 * h : mode == 1 ? h / k : (h + k - 1) / k;
  os[ndim - 1] = mode == 0 ? 2 * w : mode == 1 ? w / k : (w + k - 1) / k;
  float *x;
  dg_tensor tx = dg_test_tensor(dt, ndim, shape, -2, 2, &x), to = dg_test_poisoned(dt, ndim, os);
  dg_status st = mode == 0   ? dg_upsample_nearest2x(T.stream, &tx, &to)
                 : mode == 1 ? dg_avg_pool(T.stream, &tx, k, &to)
                             : dg_downsample(T.stream, &tx, k, &to);
  char what[96];
  snprintf(what, sizeof what, "resample mode %d %s planes=%lld %lldx%lld k=%d", mode, dg_dtype_name(dt),
           (long long)planes, (long long)h, (long long)w, k);
  if (dg_test_ok(st, what)) {
    int64_t n = dg_tensor_numel(&to);
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    dg_ref_resample(mode, x, planes, h, w, k, want);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

typedef enum { MAXPOOL, ADAPTIVE, BILINEAR, BILINEAR_AC } resize_kind;

// The newer resamplers: x [shape], output rows/cols oh, ow (max pool: from k, stride, pad).
static void check_resize(resize_kind kind, dg_dtype dt, int ndim, const int64_t *shape, int64_t oh, int64_t ow, int k,
                         int stride, int pad) {
  int64_t h = shape[ndim - 2], w = shape[ndim - 1], planes = 1, os[5];
  for (int i = 0; i < ndim - 2; i++)
    planes *= shape[i];
  if (kind == MAXPOOL) oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  for (int i = 0; i < ndim; i++)
    os[i] = shape[i];
  os[ndim - 2] = oh;
  os[ndim - 1] = ow;
  float *x;
  dg_tensor tx = dg_test_tensor(dt, ndim, shape, -2, 2, &x), to = dg_test_poisoned(dt, ndim, os);
  dg_status st = kind == MAXPOOL    ? dg_max_pool(T.stream, &tx, k, stride, pad, &to)
                 : kind == ADAPTIVE ? dg_adaptive_avg_pool(T.stream, &tx, &to)
                                    : dg_resize_bilinear(T.stream, &tx, kind == BILINEAR_AC, &to);
  char what[128];
  snprintf(what, sizeof what, "resize kind %d %s planes=%lld %lldx%lld -> %lldx%lld k=%d s=%d p=%d", kind,
           dg_dtype_name(dt), (long long)planes, (long long)h, (long long)w, (long long)oh, (long long)ow, k, stride,
           pad);
  if (dg_test_ok(st, what)) {
    int64_t n = dg_tensor_numel(&to);
    float *got = dg_test_read(&to), *want = malloc((size_t)n * sizeof *want);
    if (kind == MAXPOOL) dg_ref_max_pool(x, planes, h, w, k, stride, pad, want);
    else if (kind == ADAPTIVE) dg_ref_adaptive_avg_pool(x, planes, h, w, oh, ow, want);
    else dg_ref_resize_bilinear(x, planes, h, w, oh, ow, kind == BILINEAR_AC, want);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

// Values printed by torch 2.x for tiny inputs (F.interpolate, F.adaptive_avg_pool2d, F.max_pool2d).
static void check_torch_values(void) {
  static const float ramp[2] = {0, 1}, five[5] = {1, 2, 3, 4, 5}, eight[8] = {0, 1, 2, 3, 4, 5, 6, 7},
                     pool[5] = {3, -1, 2, -5, 4};
  static const float up[4] = {0, 0.25f, 0.75f, 1}, up_ac[4] = {0, 1 / 3.0f, 2 / 3.0f, 1}, ad[3] = {1.5f, 3, 4.5f},
                     down[3] = {5 / 6.0f, 3.5f, 37 / 6.0f}, mp[3] = {3, 2, 4};
  struct {
    const float *in, *want;
    int w, ow;
    resize_kind kind;
  } cases[] = {{ramp, up, 2, 4, BILINEAR},    {ramp, up_ac, 2, 4, BILINEAR_AC}, {five, ad, 5, 3, ADAPTIVE},
               {eight, down, 8, 3, BILINEAR}, {pool, mp, 5, 3, MAXPOOL}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t s[2] = {1, cases[i].w}, os[2] = {1, cases[i].ow};
    dg_tensor x = dg_test_poisoned(DG_F32, 2, s), o = dg_test_poisoned(DG_F32, 2, os);
    dg_tensor_write_f32(&x, cases[i].in);
    dg_status st = cases[i].kind == MAXPOOL    ? dg_max_pool(T.stream, &x, 3, 2, 1, &o)
                   : cases[i].kind == ADAPTIVE ? dg_adaptive_avg_pool(T.stream, &x, &o)
                                               : dg_resize_bilinear(T.stream, &x, cases[i].kind == BILINEAR_AC, &o);
    char what[64];
    snprintf(what, sizeof what, "torch values, case %zu", i);
    if (dg_test_ok(st, what)) {
      float *got = dg_test_read(&o);
      dg_test_close(what, got, cases[i].want, cases[i].ow, 1e-6);
      free(got);
    }
  }
}

int main(void) {
  dg_test_init("test_resample");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    for (int mode = 0; mode < 3; mode++) {
      int k = mode == 0 ? 2 : dg_test_int(1, 4);
      int64_t s4[4] = {dg_test_int(1, 2), dg_test_int(1, 9), dg_test_int(k, 21), dg_test_int(k, 21)};
      check(mode, dt, 4, s4, k);
      int64_t s2[2] = {dg_test_int(k, 40), dg_test_int(k, 40)};
      check(mode, dt, 2, s2, k);
      int64_t s5[5] = {1, 3, 2, dg_test_int(k, 9), dg_test_int(k, 9)};
      check(mode, dt, 5, s5, k);
      int64_t big[4] = {2, 40, 24, 24}; // several windows in the split run (vec4 upsample)
      check(mode, dt, 4, big, 2);
      int64_t w4[3] = {dg_test_int(1, 5), dg_test_int(4, 9), 4 * dg_test_int(1, 6)}; // vec4 upsample (k <= 4)
      check(mode, dt, 3, w4, mode == 0 ? 2 : k);
    }
    for (int kind = MAXPOOL; kind <= BILINEAR_AC; kind++) {
      int k = dg_test_int(1, 4), stride = dg_test_int(1, 3), pad = dg_test_int(0, k / 2);
      int64_t s4[4] = {dg_test_int(1, 2), dg_test_int(1, 5), dg_test_int(k, 19), dg_test_int(k, 19)};
      check_resize(kind, dt, 4, s4, dg_test_int(1, 13), dg_test_int(1, 27), k, stride, pad); // up or down
      int64_t s2[2] = {dg_test_int(k, 9), dg_test_int(k, 9)};
      check_resize(kind, dt, 2, s2, 6, 6, 3, 2, 1); // the PPM's scale 6, the stem's 3/2/1 pool
      int64_t s3[3] = {3, 4, 8};
      check_resize(kind, dt, 3, s3, 128, 256, 3, 2, 1); // stride-4 logits to the image (upsampling by 32)
      int64_t big[4] = {2, 40, 24, 24}; // several windows in the split run
      check_resize(kind, dt, 4, big, 7, 31, 3, 2, 1);
    }
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  check_torch_values();
  int64_t s[3] = {2, 5, 5}, wrong[3] = {2, 9, 9}, one[1] = {5};
  dg_tensor x = dg_test_tensor(DG_F32, 3, s, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 3, wrong);
  dg_tensor v = dg_test_tensor(DG_F32, 1, one, 0, 1, NULL);
  dg_check_error(dg_upsample_nearest2x(T.stream, &x, &o), DG_ERR_ARG, "out", "upsample out shape");
  dg_check_error(dg_avg_pool(T.stream, &x, 0, &o), DG_ERR_ARG, "kernel", "pool k 0");
  dg_check_error(dg_avg_pool(T.stream, &x, 6, &o), DG_ERR_ARG, "smaller", "pool k > size");
  dg_check_error(dg_downsample(T.stream, &v, 2, &o), DG_ERR_ARG, "[..., H, W]", "1-D input");
  dg_check_error(dg_max_pool(T.stream, &x, 3, 2, 2, &o), DG_ERR_ARG, "padding", "max pool pad > k/2");
  dg_check_error(dg_max_pool(T.stream, &x, 3, 2, 1, &o), DG_ERR_ARG, "out", "max pool out shape");
  int64_t flat[2] = {2, 25};
  dg_tensor f = dg_test_poisoned(DG_F32, 2, flat);
  dg_check_error(dg_adaptive_avg_pool(T.stream, &x, &f), DG_ERR_ARG, "rank", "adaptive pool rank");
  dg_check_error(dg_resize_bilinear(T.stream, &x, false, &f), DG_ERR_ARG, "rank", "bilinear rank");
  return dg_test_finish();
}
