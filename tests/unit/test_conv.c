// conv2d (general, 1x1 and 3x3 paths; stride, padding, groups, bias) and the temporal convolution
// against the CPU reference, both dtypes, random odd shapes; with a small DIRIGENT_MAX_BINDING the
// larger shapes need splitting over input channels, output channels and rows.
#include <stdlib.h>
#include <string.h>

#include "dg_conv.h"
#include "dg_ref.h"
#include "dg_test.h"

// res: 0 none, 1 a residual tensor added in the same pass (dg_conv2d_ex), 2 the residual is y itself.
static void check_conv2d_res(dg_dtype dt, int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout, int64_t K,
                             int stride, int pad, int groups, bool with_bias, int res) {
  int64_t Ho = (H + 2 * pad - K) / stride + 1, Wo = (W + 2 * pad - K) / stride + 1;
  int64_t sx[4] = {N, Cin, H, W}, sw[4] = {Cout, Cin / groups, K, K}, sb[1] = {Cout}, sy[4] = {N, Cout, Ho, Wo};
  float *x, *w, *bias = NULL;
  dg_tensor X = dg_test_tensor(dt, 4, sx, -1, 1, &x), Wt = dg_test_tensor(dt, 4, sw, -1, 1, &w);
  dg_tensor B = with_bias ? dg_test_tensor(dt, 1, sb, -1, 1, &bias) : (dg_tensor){0};
  float *rv = NULL;
  dg_tensor R = res ? dg_test_tensor(dt, 4, sy, -1, 1, &rv) : (dg_tensor){0};
  dg_tensor Y = res == 2 ? R : dg_test_poisoned(dt, 4, sy);
  dg_conv2d_params p = {.stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad, .groups = groups};
  if (dg_test_ok(dg_conv2d_ex(T.stream, &X, &Wt, with_bias ? &B : NULL, &p, res ? &R : NULL, &Y), "conv2d")) {
    int64_t n = N * Cout * Ho * Wo;
    float *got = dg_test_read(&Y), *want = malloc((size_t)n * sizeof *want);
    dg_ref_conv2d(x, w, bias, N, Cin, H, W, Cout, K, K, stride, stride, pad, pad, groups, want);
    for (int64_t i = 0; rv && i < n; i++) want[i] += rv[i];
    char what[160];
    snprintf(what, sizeof what, "conv2d %s x=[%lld,%lld,%lld,%lld] Cout=%lld k=%lld s=%d p=%d g=%d bias=%d res=%d",
             dg_dtype_name(dt), (long long)N, (long long)Cin, (long long)H, (long long)W, (long long)Cout, (long long)K,
             stride, pad, groups, with_bias, res);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(w);
  free(bias);
  free(rv);
}

static void check_conv2d(dg_dtype dt, int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout, int64_t K, int stride,
                         int pad, int groups, bool with_bias) {
  check_conv2d_res(dt, N, Cin, H, W, Cout, K, stride, pad, groups, with_bias, 0);
}

// No top/left padding, one row and column at the bottom/right (the VAE encoder's downsampling).
static void check_conv2d_end_pad(dg_dtype dt, int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout, int stride) {
  int64_t Ho = (H + 1 - 3) / stride + 1, Wo = (W + 1 - 3) / stride + 1;
  int64_t sx[4] = {N, Cin, H, W}, sw[4] = {Cout, Cin, 3, 3}, sb[1] = {Cout}, sy[4] = {N, Cout, Ho, Wo};
  float *x, *w, *bias;
  dg_tensor X = dg_test_tensor(dt, 4, sx, -1, 1, &x), Wt = dg_test_tensor(dt, 4, sw, -1, 1, &w);
  dg_tensor B = dg_test_tensor(dt, 1, sb, -1, 1, &bias), Y = dg_test_poisoned(dt, 4, sy);
  dg_conv2d_params p = {.stride_h = stride, .stride_w = stride, .pad_b = 1, .pad_r = 1};
  if (dg_test_ok(dg_conv2d(T.stream, &X, &Wt, &B, &p, &Y), "conv2d")) {
    int64_t n = N * Cout * Ho * Wo;
    float *got = dg_test_read(&Y), *want = malloc((size_t)n * sizeof *want);
    dg_ref_conv2d_pads(x, w, bias, N, Cin, H, W, Cout, 3, 3, stride, stride, (int[4]){0, 0, 1, 1}, 1, want);
    char what[160];
    snprintf(what, sizeof what, "conv2d %s x=[%lld,%lld,%lld,%lld] Cout=%lld s=%d padding (0, 1, 0, 1)",
             dg_dtype_name(dt), (long long)N, (long long)Cin, (long long)H, (long long)W, (long long)Cout, stride);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(w);
  free(bias);
}

// The weight drawn in PyTorch's [Cout, Cin, k, 1, 1] (the reference's layout), given tap-major.
static void check_temporal_res(dg_dtype dt, int64_t N, int64_t Cin, int64_t F, int64_t H, int64_t W, int64_t Cout,
                               int64_t k, int pad, bool with_bias, int res) {
  int64_t Fo = F + 2 * pad - k + 1;
  int64_t sx[5] = {N, Cin, F, H, W}, sw[5] = {Cout, Cin, k, 1, 1}, sb[1] = {Cout}, sy[5] = {N, Cout, Fo, H, W};
  float *x, *w, *bias = NULL;
  dg_tensor X = dg_test_tensor(dt, 5, sx, -1, 1, &x);
  dg_test_tensor(dt, 5, sw, -1, 1, &w);
  float *t = malloc((size_t)(Cout * Cin * k) * sizeof *t);
  dg_conv_temporal_taps(w, Cout, Cin, k, t);
  dg_tensor Wt = dg_test_tensor(dt, 3, (int64_t[3]){k, Cout, Cin}, 0, 0, NULL);
  dg_tensor_write_f32(&Wt, t);
  free(t);
  dg_tensor B = with_bias ? dg_test_tensor(dt, 1, sb, -1, 1, &bias) : (dg_tensor){0};
  float *rv = NULL;
  dg_tensor R = res ? dg_test_tensor(dt, 5, sy, -1, 1, &rv) : (dg_tensor){0};
  dg_tensor Y = res == 2 ? R : dg_test_poisoned(dt, 5, sy);
  if (dg_test_ok(dg_conv_temporal(T.stream, &X, &Wt, with_bias ? &B : NULL, pad, res ? &R : NULL, &Y),
                 "conv_temporal")) {
    int64_t n = N * Cout * Fo * H * W;
    float *got = dg_test_read(&Y), *want = malloc((size_t)n * sizeof *want);
    dg_ref_conv_temporal(x, w, bias, N, Cin, F, H * W, Cout, k, pad, want);
    for (int64_t i = 0; rv && i < n; i++) want[i] += rv[i];
    char what[160];
    snprintf(what, sizeof what,
             "conv_temporal %s x=[%lld,%lld,%lld,%lld,%lld] Cout=%lld k=%lld pad=%d bias=%d res=%d",
             dg_dtype_name(dt), (long long)N, (long long)Cin, (long long)F, (long long)H, (long long)W, (long long)Cout,
             (long long)k, pad, with_bias, res);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
  free(w);
  free(bias);
  free(rv);
}

static void check_temporal(dg_dtype dt, int64_t N, int64_t Cin, int64_t F, int64_t H, int64_t W, int64_t Cout,
                           int64_t k, int pad, bool with_bias) {
  check_temporal_res(dt, N, Cin, F, H, W, Cout, k, pad, with_bias, 0);
}

static int64_t r(int lo, int hi) { return dg_test_int(lo, hi); }

int main(void) {
  dg_test_init("test_conv");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    // 3x3 vectorised path (Cin % 4 == 0, W % 4 == 0), incl. a width that is not a multiple of 8
    check_conv2d(dt, r(1, 2), 4 * r(1, 3), r(1, 13), 4 * r(1, 5), r(1, 19), 3, 1, 1, 1, true);
    check_conv2d(dt, 1, 8, r(3, 9), 12, r(1, 9), 3, 1, 1, 1, false);
    // general path: odd sizes, stride 2 (downsample), 5x5, no padding, groups
    check_conv2d(dt, r(1, 2), r(1, 7), r(3, 17), r(3, 17), r(1, 11), 3, 1, 1, 1, true);
    check_conv2d(dt, r(1, 2), r(1, 7), r(3, 17), r(3, 17), r(1, 11), 3, 2, 1, 1, true);
    check_conv2d(dt, 1, r(1, 5), r(5, 12), r(5, 12), r(1, 6), 5, 1, 2, 1, false);
    check_conv2d(dt, 1, r(1, 5), r(3, 12), r(3, 12), r(1, 6), 3, 1, 0, 1, true);
    int64_t g = r(2, 3);
    check_conv2d(dt, 2, g * r(1, 4), r(3, 10), r(3, 10), g * r(1, 5), 3, 1, 1, (int)g, true);
    check_conv2d(dt, 1, g * 4, r(3, 10), 8, g * r(1, 5), 3, 1, 1, (int)g, true);
    check_conv2d_end_pad(dt, r(1, 2), r(1, 7), r(3, 12), r(3, 12), r(1, 9), 2);
    check_conv2d_end_pad(dt, 1, 8, r(3, 9), 8, r(1, 9), 1);
    // 1x1 (matmul path), with groups and odd sizes
    check_conv2d(dt, r(1, 3), r(1, 9), r(1, 11), r(1, 11), r(1, 13), 1, 1, 0, 1, true);
    check_conv2d(dt, 2, 2 * r(1, 4), r(1, 9), r(1, 9), 2 * r(1, 5), 1, 1, 0, 2, false);
    // larger than a 64 KiB binding (input, output and weights)
    check_conv2d(dt, 2, 8, r(40, 48), 4 * r(10, 12), r(8, 10), 3, 1, 1, 1, true);
    check_conv2d(dt, 1, r(5, 7), r(45, 55), r(45, 55), r(5, 7), 3, 2, 1, 1, true);
    check_conv2d(dt, 1, 64, r(9, 15), r(9, 15), 72, 3, 1, 1, 1, true);
    check_conv2d(dt, 2, 48, r(20, 25), r(20, 25), 40, 1, 1, 0, 1, true);
    check_conv2d(dt, 1, 2, r(130, 140), 128, 2, 3, 1, 1, 1, true); // one f32 plane > 64 KiB: row bands
    // Row bands of 135 (f32) or 272 (f16) rows: a middle band reads two input rows more than the first,
    // which is what a 64 KiB window just takes.
    check_conv2d(dt, 1, 1, d ? 1088 : 540, 120, 1, 3, 1, 1, 1, true);
    // fused residual epilogue: 3x3 fast and general paths, 1x1 (matmul), split into bands and input
    // channel passes (the residual is added once), a separate residual and y itself
    for (int res = 1; res <= 2; res++) {
      check_conv2d_res(dt, r(1, 2), 4 * r(1, 3), r(1, 13), 4 * r(1, 5), r(1, 19), 3, 1, 1, 1, true, res);
      check_conv2d_res(dt, r(1, 2), r(1, 7), r(3, 17), r(3, 17), r(1, 11), 3, 2, 1, 1, res == 1, res);
      check_conv2d_res(dt, r(1, 3), r(1, 9), r(1, 11), r(1, 11), r(1, 13), 1, 1, 0, 1, true, res);
      check_conv2d_res(dt, 2, 2 * r(1, 4), r(1, 9), r(1, 9), 2 * r(1, 5), 1, 1, 0, 2, false, res);
      check_conv2d_res(dt, 1, 64, r(9, 15), r(9, 15), 72, 3, 1, 1, 1, true, res);
      check_conv2d_res(dt, 2, 48, r(20, 25), r(20, 25), 40, 1, 1, 0, 1, true, res);
      check_conv2d_res(dt, 1, 2, r(130, 140), 128, 2, 3, 1, 1, 1, true, res);
    }
    // temporal k x 1 x 1
    check_temporal(dt, r(1, 2), r(1, 9), r(1, 6), r(1, 7), r(1, 7), r(1, 9), 3, 1, true);
    check_temporal(dt, r(1, 2), 4 * r(1, 3), r(3, 6), r(1, 7), 4 * r(1, 3), r(1, 9), 3, 0, false);
    check_temporal(dt, 1, r(1, 5), r(1, 4), r(1, 5), r(1, 5), r(1, 5), 1, 0, true);
    check_temporal(dt, 1, r(1, 5), r(5, 8), r(2, 5), r(2, 5), r(1, 5), 5, 2, true);
    check_temporal(dt, 2, 16, r(4, 6), r(14, 18), r(14, 18), 12, 3, 1, true); // splits
    for (int res = 1; res <= 2; res++) {
      check_temporal_res(dt, r(1, 2), r(1, 9), r(1, 6), r(1, 7), r(1, 7), r(1, 9), 3, 1, true, res);
      check_temporal_res(dt, 2, 16, r(4, 6), r(14, 18), r(14, 18), 16, 3, 1, true, res); // splits
    }
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  // The path conv2d.comp's vectorised 3x3 kernel was written for: on a CPU device with 8-lane subgroups it
  // shares weights by broadcast, and with buffer device addresses reads x and w through them
  // (conv2d_bda.comp; DIRIGENT_NO_BUFFER_ADDRESS=1, test_conv_ssbo, checks the storage-buffer kernel).
  const dg_device_info *info = dg_device_get_info(T.device);
  if (!strcmp(info->type, "cpu") && info->subgroup_size == 8) {
    for (int d = 0; d < 2; d++) {
      dg_conv_counts c0 = dg_conv_get_counts();
      check_conv2d(d ? DG_F16 : DG_F32, 2, 8, 9, 16, 20, 3, 1, 1, 1, true);
      dg_conv_counts c1 = dg_conv_get_counts();
      uint64_t n = c1.direct - c0.direct, sh = c1.shared - c0.shared, ad = c1.address - c0.address;
      dg_check(n > 0 && sh == n, "3x3 conv on %s: %llu of %llu dispatches share weights", info->name,
               (unsigned long long)sh, (unsigned long long)n);
      dg_check(ad == (info->buffer_address ? n : 0), "3x3 conv on %s (addresses %d): %llu of %llu dispatches through addresses",
               info->name, info->buffer_address, (unsigned long long)ad, (unsigned long long)n);
    }
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  // Winograd F(4x4, 3x3): f32 3x3 convs of at least 128 output tiles on a CPU device with 8-lane subgroups
  // (heights that leave partial tiles, widths that leave partial groups of four tiles, bias, a residual, the
  // residual being y). Not where DIRIGENT_CONV_NO_WINOGRAD=1 (test_conv_ssbo: the direct kernels on these
  // shapes) or a small binding limit (test_conv_split) keeps the temporaries out.
  dg_conv_counts w0 = dg_conv_get_counts();
  check_conv2d_res(DG_F32, 2, 32, 37, 28, 40, 3, 1, 1, 1, true, 1);
  check_conv2d_res(DG_F32, 1, 64, 50, 52, 24, 3, 1, 1, 1, true, 0);
  check_conv2d_res(DG_F32, 1, 48, 48, 48, 64, 3, 1, 1, 1, false, 2);
  uint64_t wn = dg_conv_get_counts().winograd - w0.winograd;
  if (getenv("DIRIGENT_CONV_NO_WINOGRAD"))
    dg_check(wn == 0, "DIRIGENT_CONV_NO_WINOGRAD=1: %llu convs took Winograd", (unsigned long long)wn);
  else if (!strcmp(info->type, "cpu") && info->subgroup_size == 8 && !getenv("DIRIGENT_MAX_BINDING"))
    dg_check(wn == 3, "3x3 conv on %s: %llu of 3 large f32 convs took Winograd", info->name, (unsigned long long)wn);
  dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  // Argument errors are reported, not crashed on.
  int64_t sx[4] = {1, 4, 8, 8}, sw[4] = {6, 4, 3, 3}, sw2[4] = {6, 3, 3, 3}, sy[4] = {1, 6, 8, 8},
          sy2[4] = {1, 6, 6, 6};
  int64_t sb[1] = {5}, sx5[5] = {1, 4, 3, 2, 2}, sw5[3] = {3, 2, 4}, sy5[5] = {1, 2, 3, 2, 2};
  dg_tensor x = dg_test_tensor(DG_F32, 4, sx, 0, 1, NULL), w = dg_test_tensor(DG_F32, 4, sw, 0, 1, NULL);
  dg_tensor w2 = dg_test_tensor(DG_F32, 4, sw2, 0, 1, NULL), y = dg_test_poisoned(DG_F32, 4, sy);
  dg_tensor y2 = dg_test_poisoned(DG_F32, 4, sy2), b5 = dg_test_tensor(DG_F32, 1, sb, 0, 1, NULL);
  dg_tensor xh = dg_test_tensor(DG_F16, 4, sx, 0, 1, NULL);
  dg_tensor x5 = dg_test_tensor(DG_F32, 5, sx5, 0, 1, NULL), w5 = dg_test_tensor(DG_F32, 3, sw5, 0, 1, NULL);
  dg_tensor y5 = dg_test_poisoned(DG_F32, 5, sy5);
  dg_conv2d_params same = {.pad_h = 1, .pad_w = 1}, g2 = {.pad_h = 1, .pad_w = 1, .groups = 2}, bad = {.stride_h = -1};
  dg_check_error(dg_conv2d(T.stream, &x, &w, NULL, &same, &y2), DG_ERR_ARG, "y has shape", "conv2d bad y");
  dg_check_error(dg_conv2d(T.stream, &x, &w2, NULL, &same, &y), DG_ERR_ARG, "groups", "conv2d channel mismatch");
  dg_check_error(dg_conv2d(T.stream, &x, &w, NULL, &g2, &y), DG_ERR_ARG, "groups", "conv2d groups mismatch");
  dg_check_error(dg_conv2d(T.stream, &x, &w, NULL, &bad, &y), DG_ERR_ARG, "bad params", "conv2d bad stride");
  dg_check_error(dg_conv2d(T.stream, &x, &w, &b5, &same, &y), DG_ERR_ARG, "bias", "conv2d bias size");
  dg_check_error(dg_conv2d(T.stream, &xh, &w, NULL, &same, &y), DG_ERR_ARG, "dtype", "conv2d dtype");
  dg_check_error(dg_conv2d(T.stream, &x5, &w, NULL, &same, &y), DG_ERR_ARG, "must be", "conv2d 5-D x");
  dg_check_error(dg_conv_temporal(T.stream, &x5, &w5, NULL, 2, NULL, &y5), DG_ERR_ARG, "padding", "temporal pad");
  dg_check_error(dg_conv_temporal(T.stream, &x5, &w5, NULL, 0, NULL, &y5), DG_ERR_ARG, "y has shape", "temporal bad y");
  dg_check_error(dg_conv_temporal(T.stream, &x, &w5, NULL, 1, NULL, &y5), DG_ERR_ARG, "must be", "temporal 4-D x");
  dg_check_error(dg_conv2d_ex(T.stream, &x, &w, NULL, &same, &y2, &y), DG_ERR_ARG, "residual", "conv2d residual size");
  return dg_test_finish();
}
