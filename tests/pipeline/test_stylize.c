// The stylize task (render/pipelines/dg_stylize) on RGB images against the CPU references: FDA through
// dg_ref_fda (the naive double DFT), with the style resized by dg_ref_resize_bilinear when its size
// differs, within 1 level of 8 bits (rounding of f32 against double results); beta 0 and strength 0
// give the content back exactly; the radial power spectrum against the full reference DFT's (relative
// error under 1e-4 per radius); and the errors (MNE without model files or with a missing one, FDA with two
// styles, values out of range).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_ref.h"
#include "dg_stylize.h"
#include "dg_test.h"

static dg_stylize *task;

// A smooth image with noise: different low frequencies per seed.
static dg_media image(int w, int h) {
  dg_media m;
  dg_media_alloc(&m, 1, w, h, 3);
  float f[3], a[3];
  for (int c = 0; c < 3; c++)
    f[c] = dg_test_uniform(0.02f, 0.3f), a[c] = dg_test_uniform(40, 120);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        float v = 128 + a[c] * sinf(f[c] * (float)(x + 2 * c * y)) + dg_test_uniform(-30, 30);
        m.data[3 * (y * w + x) + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lroundf(v));
      }
  return m;
}

static float *planes_of(const dg_media *m) {
  size_t n = (size_t)m->width * (size_t)m->height;
  float *p = malloc(3 * n * sizeof *p);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      p[(size_t)c * n + i] = m->data[3 * i + (size_t)c];
  return p;
}

static void check_fda(int w, int h, int sw, int sh, double strength, double beta) {
  dg_media c = image(w, h), s = image(sw, sh), out;
  dg_stylize_params p = {.method = DG_STYLIZE_FDA, .strength = strength, .beta = beta};
  char what[128];
  snprintf(what, sizeof what, "stylize fda %dx%d style %dx%d strength %g beta %g", w, h, sw, sh, strength, beta);
  if (dg_check_status(dg_stylize_run(task, &c, &s, &p, &out), what) &&
      dg_check(out.width == w && out.height == h && out.channels == 3, "%s: output %dx%d", what, out.width,
               out.height)) {
    size_t n = (size_t)w * (size_t)h;
    float *cp = planes_of(&c), *sp = planes_of(&s), *rs = malloc(3 * n * sizeof *rs), *want = malloc(3 * n * sizeof *want);
    if (sw != w || sh != h) dg_ref_resize_bilinear(sp, 3, sh, sw, h, w, false, rs);
    else memcpy(rs, sp, 3 * n * sizeof *rs);
    int b = beta > 0 ? (int)floor((w < h ? w : h) * beta) : -1;
    dg_ref_fda(cp, rs, 3, h, w, b, (float)strength, want);
    int worst = 0, identity = 0, ref_changed = 0;
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) {
        float v = roundf(want[(size_t)k * n + i]);
        int ref = (int)(v < 0 ? 0 : v > 255 ? 255 : v), got = out.data[3 * i + (size_t)k];
        if (abs(got - ref) > worst) worst = abs(got - ref);
        if (got != c.data[3 * i + (size_t)k]) identity++;
        if (abs(ref - c.data[3 * i + (size_t)k]) > 1) ref_changed++;
      }
    dg_check(worst <= 1, "%s: %d levels from the reference", what, worst);
    if (beta == 0 || strength == 0) dg_check(identity == 0, "%s: %d values changed (identity expected)", what, identity);
    // A band of radius 0 swaps only the mean, which random images may share to within a level.
    else if (ref_changed > 0) dg_check(identity > 0, "%s: nothing changed (reference changes %d values)", what, ref_changed);
    free(cp), free(sp), free(rs), free(want);
  }
  dg_media_clear(&c);
  dg_media_clear(&s);
  dg_media_clear(&out);
}

static void check_spectrum(int w, int h, bool log) {
  dg_media m = image(w, h);
  dg_spectrum sp;
  char what[64];
  snprintf(what, sizeof what, "spectrum %dx%d%s", w, h, log ? " log" : "");
  if (dg_check_status(dg_stylize_spectrum(task, &m, log, &sp), what)) {
    int bins = (w < h ? w : h) / 2 + 1;
    size_t n = (size_t)w * (size_t)h;
    double *sum = calloc((size_t)bins, sizeof *sum), *count = calloc((size_t)bins, sizeof *count);
    double *x = malloc(n * sizeof *x), *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    for (int c = 0; c < 3; c++) { // the full spectrum, every frequency once
      for (size_t i = 0; i < n; i++)
        x[i] = m.data[3 * i + (size_t)c] / 255.0;
      dg_ref_dft2d(x, NULL, h, w, -1, re, im);
      for (int y = 0; y < h; y++)
        for (int k = 0; k < w; k++) {
          double fy = y <= h / 2 ? y : y - h, fx = k <= w / 2 ? k : k - w;
          long r = lround(sqrt(fy * fy + fx * fx));
          size_t i = (size_t)y * (size_t)w + (size_t)k;
          if (r < bins) sum[r] += (re[i] * re[i] + im[i] * im[i]) / (double)n, count[r] += 1;
        }
    }
    double worst = 0;
    for (int r = 0; r < bins; r++) {
      double want = sum[r] / count[r], got = log ? pow(10.0, sp.power[r]) : sp.power[r];
      if (fabs(got - want) / want > worst) worst = fabs(got - want) / want;
    }
    dg_check(sp.bins == bins && sp.log == log, "%s: %d bins", what, sp.bins);
    dg_check(worst < 1e-4, "%s: relative error %.3g", what, worst);
    free(sum), free(count), free(x), free(re), free(im);
    dg_spectrum_clear(&sp);
  }
  dg_media_clear(&m);
}

int main(void) {
  dg_test_init("stylize");
  dg_check_status(dg_stylize_create(T.device, &task), "stylize create");
  check_fda(64, 48, 64, 48, 1.0, 0.1);
  check_fda(64, 48, 64, 48, 0.8, 0.05);
  check_fda(64, 48, 64, 48, 0.7, 0.5); // every row
  check_fda(64, 48, 40, 30, 1.0, 0.1); // style resized
  check_fda(64, 48, 90, 70, 0.6, 0.02);
  check_fda(64, 48, 64, 48, 1.0, 0.0); // beta 0: identity
  check_fda(64, 48, 64, 48, 0.0, 0.2); // strength 0: identity
  check_fda(45, 33, 45, 33, 0.9, 0.1); // odd sizes
  check_spectrum(64, 48, false);
  check_spectrum(45, 33, true);

  dg_media c = image(16, 16), one = {0}, out;
  dg_media_alloc(&one, 1, 1, 1, 3);
  dg_stylize_params mne = {.method = DG_STYLIZE_MNE, .strength = 0.8, .beta = 0.05},
                    missing = {.method = DG_STYLIZE_MNE, .strength = 0.8, .encoder = "/nonexistent/mne.safetensors",
                               .generator = "/nonexistent/g.safetensors"},
                    beta = {.method = DG_STYLIZE_FDA, .strength = 0.8, .beta = 0.6},
                    strength = {.method = DG_STYLIZE_FDA, .strength = 1.5, .beta = 0.05},
                    ok = {.method = DG_STYLIZE_FDA, .strength = 0.8, .beta = 0.05};
  dg_check_error(dg_stylize_run(task, &c, &c, &mne, &out), DG_ERR_ARG, "needs an encoder and a generator", "mne files");
  dg_status ms = dg_stylize_run(task, &c, &c, &missing, &out);
  dg_check(ms != DG_OK && strstr(dg_last_error(), "/nonexistent/mne.safetensors"), "mne, missing encoder: %s",
           dg_last_error());
  const dg_media *two[2] = {&c, &c};
  dg_check_error(dg_stylize_run_styles(task, &c, two, 2, &ok, &out), DG_ERR_ARG, "fda takes one style image",
                 "fda with two styles");
  dg_check_error(dg_stylize_run(task, &c, &c, &beta, &out), DG_ERR_ARG, "beta 0.6 outside 0..0.5", "beta");
  dg_check_error(dg_stylize_run(task, &c, &c, &strength, &out), DG_ERR_ARG, "strength 1.5", "strength");
  dg_check_error(dg_stylize_run(task, &c, &one, &ok, &out), DG_ERR_ARG, "style image must be", "1x1 style");
  dg_media_clear(&c);
  dg_media_clear(&one);
  dg_stylize_destroy(task);
  return dg_test_finish();
}
