// StyleGAN2's ops against the CPU reference, both dtypes: upfirdn2d (up, down, padding and cropping, an
// asymmetric filter so a missing flip shows, ADA's upsample2d), and the modulated conv as the engine runs it
// (x * styles, dg_conv2d with the shared weight, dg_modulate_act) against the fused per-sample weights, with
// and without demodulation, noise ([H, W], [N, H, W] and [N, O, H, W]), leaky ReLU and clamp. Tolerances (relative to the
// largest value): f32 1e-4, f16 1e-2.
#include <math.h>
#include <stdlib.h>

#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_modconv.h"
#include "dg_ref.h"
#include "dg_test.h"

static void check_upfirdn(dg_dtype dt, int64_t planes, int64_t h, int64_t w, int fh, int fw, int up, int down, int px0,
                          int px1, int py0, int py1, float gain) {
  int pad[4] = {px0, px1, py0, py1};
  int64_t oh = (h * up + py0 + py1 - fh) / down + 1, ow = (w * up + px0 + px1 - fw) / down + 1;
  int64_t sx[3] = {planes, h, w}, so[3] = {planes, oh, ow};
  float f[16], *x;
  for (int i = 0; i < fh * fw; i++)
    f[i] = dg_test_uniform(-1, 1);
  dg_tensor X = dg_test_tensor(dt, 3, sx, -2, 2, &x), Y = dg_test_poisoned(dt, 3, so);
  char what[160];
  snprintf(what, sizeof what, "upfirdn2d %s [%lld,%lld,%lld] f %dx%d up %d down %d pad %d,%d,%d,%d", dg_dtype_name(dt),
           (long long)planes, (long long)h, (long long)w, fh, fw, up, down, px0, px1, py0, py1);
  if (dg_test_ok(dg_upfirdn2d(T.stream, &X, f, fh, fw, up, down, pad, gain, &Y), what)) {
    int64_t n = planes * oh * ow;
    float *got = dg_test_read(&Y), *want = malloc((size_t)n * sizeof *want);
    dg_ref_upfirdn2d(x, planes, h, w, f, fh, fw, up, down, pad, gain, want);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    free(got);
    free(want);
  }
  free(x);
}

// noise_mode 0: none, 1: [H, W], 2: [N, H, W], 3: [N, O, H, W].
static void check_modconv(dg_dtype dt, int64_t N, int64_t I, int64_t H, int64_t W, int64_t O, int K, bool demod,
                          int noise_mode, bool lrelu, float clamp) {
  int64_t sx[4] = {N, I, H, W}, ss[4] = {N, I, 1, 1}, sw[4] = {O, I, K, K}, sb[1] = {O}, sy[4] = {N, O, H, W};
  int64_t sd[2] = {N, O}, sn[3] = {noise_mode == 2 ? N : 1, H, W}, sn4[4] = {N, O, H, W};
  float *x, *st, *w, *b, *nz = NULL;
  dg_tensor X = dg_test_tensor(dt, 4, sx, -1, 1, &x), S = dg_test_tensor(dt, 4, ss, 0.2f, 2, &st);
  dg_tensor Wt = dg_test_tensor(dt, 4, sw, -1, 1, &w), B = dg_test_tensor(dt, 1, sb, -0.5f, 0.5f, &b);
  dg_tensor Nz = noise_mode == 3 ? dg_test_tensor(dt, 4, sn4, -2, 2, &nz)
                 : noise_mode ? dg_test_tensor(dt, noise_mode == 2 ? 3 : 2, noise_mode == 2 ? sn : sn + 1, -2, 2, &nz)
                              : (dg_tensor){0};
  dg_tensor XS = dg_test_poisoned(dt, 4, sx), Y = dg_test_poisoned(dt, 4, sy), D = dg_test_poisoned(dt, 2, sd);
  float *dsum = malloc((size_t)(N * O) * sizeof *dsum); // sum_i s^2 sum_k w^2, as the model computes it
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++) {
      double acc = 0;
      for (int64_t i = 0; i < I; i++) {
        double wsq = 0;
        for (int k = 0; k < K * K; k++)
          wsq += (double)w[(o * I + i) * K * K + k] * w[(o * I + i) * K * K + k];
        acc += (double)st[n * I + i] * st[n * I + i] * wsq;
      }
      dsum[n * O + o] = (float)acc;
    }
  dg_tensor_write_f32(&D, dsum);
  dg_conv2d_params cp = {.pad_h = K / 2, .pad_w = K / 2};
  dg_modulate_args a = {.dsum = demod ? &D : NULL, .noise = noise_mode ? &Nz : NULL, .strength = 0.7f, .bias = &B,
                        .lrelu = lrelu, .gain = 1.0f, .clamp = clamp};
  dg_status s = dg_binary(T.stream, DG_MUL, &X, &S, &XS);
  if (s == DG_OK) s = dg_conv2d(T.stream, &XS, &Wt, NULL, &cp, &Y);
  if (s == DG_OK) s = dg_modulate_act(T.stream, &Y, &a, &Y);
  char what[160];
  snprintf(what, sizeof what, "modconv %s x=[%lld,%lld,%lld,%lld] O=%lld k=%d demod %d noise %d lrelu %d clamp %g",
           dg_dtype_name(dt), (long long)N, (long long)I, (long long)H, (long long)W, (long long)O, K, demod, noise_mode,
           lrelu, clamp);
  if (dg_test_ok(s, what)) {
    int64_t n = N * O * H * W;
    float *got = dg_test_read(&Y), *want = malloc((size_t)n * sizeof *want);
    dg_ref_modconv(x, w, st, N, I, H, W, O, K, demod, nz, noise_mode, 0.7f, b, lrelu, 1.0f, clamp, want);
    dg_test_close(what, got, want, n, dg_test_tolerance(dt));
    if (clamp >= 0) { // the clamp bites: some values sit at it
      int at = 0;
      for (int64_t i = 0; i < n; i++)
        at += fabsf(want[i]) == clamp;
      dg_check(at > 0, "%s: no value reached the clamp", what);
    }
    free(got);
    free(want);
  }
  free(x), free(st), free(w), free(b), free(nz), free(dsum);
}

int main(void) {
  dg_test_init("test_modconv");
  static const float taps[4] = {1, 3, 3, 1};
  float f[16], sum = 0;
  for (int i = 0; i < 16; i++)
    sum += f[i] = taps[i / 4] * taps[i % 4];
  for (int i = 0; i < 16; i++)
    f[i] /= sum;
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    check_upfirdn(dt, 3, 5, 7, 4, 4, 2, 1, 2, 1, 2, 1, 4.0f);    // upsample2d
    check_upfirdn(dt, 2, 9, 6, 4, 4, 2, 1, 1, 1, 1, 1, 4.0f);    // after the transposed conv
    check_upfirdn(dt, 2, 8, 8, 4, 4, 1, 2, 1, 1, 1, 1, 1.0f);    // downsample2d
    check_upfirdn(dt, 1, 6, 5, 3, 2, 3, 2, -1, 2, 0, -2, 1.5f);  // cropping, odd factors, a 3x2 filter
    check_upfirdn(dt, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 1.0f);    // zero insertion only
    check_upfirdn(dt, 40, 16, 32, 4, 4, 2, 1, 2, 1, 2, 1, 4.0f); // many planes (split run: several windows)
    check_modconv(dt, 2, 5, 6, 7, 4, 3, true, 0, true, -1);
    check_modconv(dt, 2, 5, 6, 7, 4, 3, true, 1, true, -1);
    check_modconv(dt, 3, 6, 5, 4, 3, 3, true, 2, true, 0.5f);
    check_modconv(dt, 2, 8, 4, 8, 3, 1, false, 0, false, -1); // toRGB: 1x1, no demodulation, linear
    check_modconv(dt, 2, 16, 16, 32, 16, 3, true, 2, true, -1);
    check_modconv(dt, 2, 5, 6, 7, 4, 3, true, 3, true, -1);     // an encoder's full-channel layer noise
    check_modconv(dt, 3, 16, 16, 32, 24, 3, true, 3, true, -1); // (split run: noise windowed with y)
  }
  // ADA's upsample2d of a constant plane stays constant inside (gain 4 makes up for the zeros)
  int64_t sh[2] = {4, 4}, so[2] = {8, 8};
  dg_tensor X = dg_test_poisoned(DG_F32, 2, sh), Y = dg_test_poisoned(DG_F32, 2, so);
  dg_tensor_fill_f32(&X, 1.0f);
  int pad[4] = {2, 1, 2, 1};
  if (dg_test_ok(dg_upfirdn2d(T.stream, &X, f, 4, 4, 2, 1, pad, 4.0f, &Y), "upsample2d constant")) {
    float *got = dg_test_read(&Y);
    dg_check(fabsf(got[3 * 8 + 3] - 1.0f) < 1e-6f, "upsample2d constant: inside %g, expected 1", got[3 * 8 + 3]);
    free(got);
  }
  // argument errors name what is wrong
  int64_t bad[2] = {7, 7};
  dg_tensor Z = dg_test_poisoned(DG_F32, 2, bad);
  dg_status st = dg_upfirdn2d(T.stream, &X, f, 4, 4, 2, 1, pad, 4.0f, &Z);
  dg_check(st == DG_ERR_ARG, "upfirdn2d wrong out: status %d", st);
  return dg_test_finish();
}
