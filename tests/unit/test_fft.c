// The FFT path (render/gpu/dg_fft on VkFFT, dg_fda_swap) against the naive double-precision DFT of
// render/ops/ref: forward and inverse on power-of-two and other sizes, odd ones included, several planes;
// FDA's swap with its identities (no window, strength 0). Tolerance: max|got - want| / max|want| under
// 1e-5 (f32 FFTs of these sizes measure about 1e-7 to 1e-6). In the split run (64 KiB binding limit)
// sizes whose spectrum passes the limit must be refused with an error naming it.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_fft.h"
#include "dg_ref.h"
#include "dg_spectral.h"
#include "dg_test.h"

#define TOL 1e-5

static dg_fft *fft;

// The plan for this size, or NULL after checking that a size over the binding limit is refused.
static dg_fft_plan *plan_for(int planes, int h, int w) {
  dg_fft_plan *p = NULL;
  uint64_t spectrum = (uint64_t)planes * (uint64_t)h * (uint64_t)(w / 2 + 1) * 8u;
  dg_status s = dg_fft_plan_get(fft, planes, h, w, &p);
  char what[96];
  snprintf(what, sizeof what, "fft plan %d planes of %dx%d", planes, w, h);
  if (spectrum > dg_device_get_info(T.device)->max_binding_bytes) {
    dg_check_error(s, DG_ERR_UNSUPPORTED, "binding limit", what);
    return NULL;
  }
  return dg_check_status(s, what) ? p : NULL;
}

// Half spectrum (plan layout) of planes x via the reference DFT.
static float *ref_spectrum(const float *x, int planes, int h, int w) {
  int w2 = w / 2 + 1;
  size_t n = (size_t)h * (size_t)w;
  double *in = malloc(n * sizeof *in), *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
  float *out = malloc((size_t)planes * (size_t)h * (size_t)w2 * 2 * sizeof *out);
  for (int p = 0; p < planes; p++) {
    for (size_t i = 0; i < n; i++)
      in[i] = x[(size_t)p * n + i];
    dg_ref_dft2d(in, NULL, h, w, -1, re, im);
    for (int y = 0; y < h; y++)
      for (int k = 0; k < w2; k++) {
        float *o = out + 2 * (((size_t)p * (size_t)h + (size_t)y) * (size_t)w2 + (size_t)k);
        o[0] = (float)re[(size_t)y * (size_t)w + (size_t)k];
        o[1] = (float)im[(size_t)y * (size_t)w + (size_t)k];
      }
  }
  free(in), free(re), free(im);
  return out;
}

// Writes `in` into the plan's input side, poisons `out`, runs one direction and compares with `want`.
static void one_way(dg_fft_plan *p, bool inverse, const float *in, dg_tensor *out, const float *want) {
  dg_tensor *src = inverse ? dg_fft_plan_spectrum(p) : dg_fft_plan_real(p);
  char what[96];
  snprintf(what, sizeof what, "fft %s %lld values -> [%lld, %lld, %lld]", inverse ? "inverse" : "forward",
           (long long)dg_tensor_numel(src), (long long)out->shape[0], (long long)out->shape[1], (long long)out->shape[2]);
  dg_tensor_write_f32(src, in);
  dg_tensor_fill_f32(out, NAN);
  if (dg_test_ok(inverse ? dg_fft_inverse(T.stream, p) : dg_fft_forward(T.stream, p), what)) {
    float *got = dg_test_read(out);
    dg_test_close(what, got, want, dg_tensor_numel(out), TOL);
    free(got);
  }
}

static void check_transforms(int planes, int h, int w) {
  dg_fft_plan *p = plan_for(planes, h, w);
  if (!p) return;
  dg_tensor *real = dg_fft_plan_real(p), *spec = dg_fft_plan_spectrum(p);
  int64_t nr = dg_tensor_numel(real);
  float *x = malloc((size_t)nr * sizeof *x);
  for (int64_t i = 0; i < nr; i++)
    x[i] = dg_test_uniform(-1, 1);
  float *want = ref_spectrum(x, planes, h, w);
  one_way(p, false, x, spec, want); // forward against the reference
  one_way(p, true, want, real, x);   // the inverse of the reference spectrum gives the planes back
  free(x);
  free(want);
}

// FDA on `planes` content and style planes (values 0..255) against dg_ref_fda.
static void check_fda(int planes, int h, int w, int b, float strength) {
  dg_fft_plan *p = plan_for(2 * planes, h, w);
  if (!p) return;
  dg_tensor *real = dg_fft_plan_real(p);
  int64_t nr = dg_tensor_numel(real), half = nr / 2;
  float *x = malloc((size_t)nr * sizeof *x), *want = malloc((size_t)half * sizeof *want);
  for (int64_t i = 0; i < nr; i++)
    x[i] = dg_test_uniform(0, 255);
  dg_ref_fda(x, x + half, planes, h, w, b, strength, want);
  dg_tensor_write_f32(real, x);
  char what[112];
  snprintf(what, sizeof what, "fda %d planes of %dx%d b=%d strength=%g", planes, w, h, b, (double)strength);
  dg_status s = dg_fft_forward(T.stream, p);
  if (s == DG_OK) s = dg_fda_swap(T.stream, dg_fft_plan_spectrum(p), b, strength);
  if (s == DG_OK) s = dg_fft_inverse(T.stream, p);
  if (dg_test_ok(s, what)) {
    float *got = dg_test_read(real);
    dg_test_close(what, got, want, half, TOL);
    if (b < 0 || strength == 0.0f) { // the identities, against the input itself
      snprintf(what + strlen(what), sizeof what - strlen(what), " (identity)");
      dg_test_close(what, got, x, half, TOL);
    }
    free(got);
  }
  free(x);
  free(want);
}

int main(void) {
  dg_test_init("fft");
  dg_check_status(dg_fft_create(T.device, &fft), "fft create");
  // Few sizes: each plan is a VkFFT shader compile, slow under the validation layer. The FDA cases below
  // reuse the 6-plane plans.
  const int sizes[][3] = {{1, 8, 8}, {1, 96, 160}, {6, 128, 256}, {6, 37, 50}, {2, 7, 9}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    check_transforms(sizes[i][0], sizes[i][1], sizes[i][2]);
  check_transforms(1, 96, 160); // a cached plan
  dg_check(dg_fft_plans_made(fft) == (int)(sizeof sizes / sizeof sizes[0]) ||
               dg_device_get_info(T.device)->max_binding_bytes < (1u << 20),
           "plans cached per size: %d made", dg_fft_plans_made(fft));
  check_fda(3, 37, 50, 3, 1.0f);
  check_fda(3, 37, 50, 3, 0.5f);
  check_fda(3, 37, 50, 0, 1.0f);  // the mean only
  check_fda(3, 37, 50, 18, 0.8f); // every row
  check_fda(3, 37, 50, -1, 1.0f); // no window: identity
  check_fda(3, 37, 50, 5, 0.0f);  // strength 0: identity
  check_fda(3, 128, 256, 6, 0.8f);
  dg_check_error(dg_fft_plan_get(fft, 1, 1, 64, &(dg_fft_plan *){0}), DG_ERR_ARG, "1 planes of 64x1", "fft 64x1");
  dg_check_error(dg_fda_swap(T.stream, dg_fft_plan_real(plan_for(1, 8, 8)), 1, 1.0f), DG_ERR_ARG,
                 "expected f32 [2P, H, W/2 + 1, 2]", "fda_swap on a real tensor");
  dg_fft_destroy(fft);
  return dg_test_finish();
}
