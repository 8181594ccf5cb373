#include "dg_stylize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_fft.h"
#include "dg_memory.h"
#include "dg_resample.h"
#include "dg_spectral.h"
#include "dg_stylize_mne.h"

struct dg_stylize {
  dg_device *device;
  dg_fft *fft;
  dg_stream *stream;
  dg_arena *arena;
  dg_stylize_mne *mne; // the MNE models of the last MNE call
};

const char *dg_stylize_method_name(dg_stylize_method m) { return m == DG_STYLIZE_MNE ? "mne" : "fda"; }

bool dg_stylize_method_parse(const char *name, dg_stylize_method *out) {
  if (!strcmp(name, "fda")) *out = DG_STYLIZE_FDA;
  else if (!strcmp(name, "mne")) *out = DG_STYLIZE_MNE;
  else return false;
  return true;
}

dg_status dg_stylize_create(dg_device *d, dg_stylize **out) {
  *out = NULL;
  dg_stylize *st = calloc(1, sizeof *st);
  if (!st) return dg_memory_fail("the stylize task", sizeof *st);
  st->device = d;
  dg_status s = dg_fft_create(d, &st->fft);
  if (s == DG_OK) s = dg_stream_create(d, 0, &st->stream);
  if (s == DG_OK) s = dg_arena_create(d, 0, &st->arena);
  if (s != DG_OK) {
    dg_stylize_destroy(st);
    return s;
  }
  *out = st;
  return DG_OK;
}

void dg_stylize_destroy(dg_stylize *st) {
  if (!st) return;
  dg_stylize_mne_close(st->mne);
  dg_stream_destroy(st->stream);
  dg_fft_destroy(st->fft);
  dg_arena_destroy(st->arena);
  free(st);
}

static dg_status check_image(const char *what, const dg_media *m) {
  if (!m || !m->data || m->frames != 1 || m->channels != 3 || m->width < 2 || m->height < 2)
    return dg_fail(DG_ERR_ARG, "stylize: the %s must be one RGB image of at least 2x2 pixels", what);
  return DG_OK;
}

// Interleaved RGB8 -> 3 planes of floats times `scale`, copied into `dst` (mapped or staged memory).
static dg_status put_planes(const dg_media *m, float scale, dg_range dst) {
  size_t n = (size_t)m->width * (size_t)m->height;
  float *planes = dg_memory_alloc("an image's planes", 3 * n * sizeof *planes);
  if (!planes) return DG_ERR_OOM;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      planes[(size_t)c * n + i] = (float)m->data[3 * i + (size_t)c] * scale;
  dg_status s = dg_range_write(dst, 0, planes, 3 * n * sizeof *planes);
  free(planes);
  return s;
}

// 3 planes of `real` (a plan's [P, H, W]) starting at `first`, as a tensor.
static dg_tensor planes_view(const dg_tensor *real, int first) {
  int64_t plane = real->shape[1] * real->shape[2];
  dg_tensor v = {.data = real->data, .dtype = DG_F32, .ndim = 3, .shape = {3, real->shape[1], real->shape[2]}};
  v.data.offset += (uint64_t)(first * plane) * 4u;
  v.data.size = (uint64_t)(3 * plane) * 4u;
  return v;
}

// The style's planes, resized to the content's size on the device when it differs.
static dg_status put_style(dg_stylize *st, const dg_media *style, dg_tensor *dst) {
  if (style->width == dst->shape[2] && style->height == dst->shape[1]) return put_planes(style, 1.0f, dst->data);
  dg_tensor src;
  const int64_t shape[3] = {3, style->height, style->width};
  DG_TRY(dg_tensor_alloc(st->arena, DG_F32, 3, shape, &src));
  DG_TRY(put_planes(style, 1.0f, src.data));
  return dg_resize_bilinear(st->stream, &src, false, dst);
}

static dg_status fda(dg_stylize *st, const dg_media *content, const dg_media *style, const dg_stylize_params *p,
                     dg_media *out) {
  int w = content->width, h = content->height;
  dg_fft_plan *plan;
  DG_TRY(dg_fft_plan_get(st->fft, 6, h, w, &plan));
  dg_tensor *real = dg_fft_plan_real(plan);
  dg_tensor c = planes_view(real, 0), sv = planes_view(real, 3);
  DG_TRY(put_planes(content, 1.0f, c.data));
  DG_TRY(put_style(st, style, &sv));
  int b = p->beta > 0 ? (int)floor((double)(w < h ? w : h) * p->beta) : -1;
  DG_TRY(dg_fft_forward(st->stream, plan));
  DG_TRY(dg_fda_swap(st->stream, dg_fft_plan_spectrum(plan), b, (float)p->strength));
  DG_TRY(dg_fft_inverse(st->stream, plan));
  DG_TRY(dg_stream_finish(st->stream));
  size_t n = (size_t)w * (size_t)h;
  float *planes = dg_memory_alloc("the stylized planes", 3 * n * sizeof *planes);
  if (!planes) return DG_ERR_OOM;
  dg_status s = dg_range_read(c.data, 0, planes, 3 * n * sizeof *planes);
  if (s == DG_OK) s = dg_media_alloc(out, 1, w, h, 3);
  for (size_t i = 0; s == DG_OK && i < n; i++)
    for (int k = 0; k < 3; k++) {
      float v = roundf(planes[(size_t)k * n + i]);
      out->data[3 * i + (size_t)k] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
    }
  free(planes);
  return s;
}

// The MNE models of p, opened unless the last call's are the same files.
static dg_status mne_models(dg_stylize *st, const dg_stylize_params *p) {
  if (!p->encoder || !p->generator)
    return dg_fail(DG_ERR_ARG, "stylize: the mne method needs an encoder and a generator file");
  if (dg_stylize_mne_is(st->mne, p->encoder, p->generator)) return DG_OK;
  dg_stylize_mne_close(st->mne);
  st->mne = NULL;
  return dg_stylize_mne_open(st->device, p->encoder, p->generator, &st->mne);
}

dg_status dg_stylize_run(dg_stylize *st, const dg_media *content, const dg_media *style, const dg_stylize_params *p,
                         dg_media *out) {
  return dg_stylize_run_styles(st, content, &style, 1, p, out);
}

dg_status dg_stylize_run_styles(dg_stylize *st, const dg_media *content, const dg_media *const *styles, int n_styles,
                                const dg_stylize_params *p, dg_media *out) {
  *out = (dg_media){0};
  if (p->method != DG_STYLIZE_FDA && p->method != DG_STYLIZE_MNE)
    return dg_fail(DG_ERR_ARG, "stylize: unknown method %d", (int)p->method);
  if (!(p->strength >= 0.0 && p->strength <= 1.0))
    return dg_fail(DG_ERR_ARG, "stylize: strength %g outside 0..1", p->strength);
  if (!(p->beta >= 0.0 && p->beta <= DG_STYLIZE_MAX_BETA))
    return dg_fail(DG_ERR_ARG, "stylize: beta %g outside 0..%g", p->beta, DG_STYLIZE_MAX_BETA);
  if (n_styles < 1 || n_styles > DG_STYLIZE_MAX_STYLES)
    return dg_fail(DG_ERR_ARG, "stylize: %d style images (1 to %d)", n_styles, DG_STYLIZE_MAX_STYLES);
  if (p->method == DG_STYLIZE_FDA && n_styles != 1)
    return dg_fail(DG_ERR_ARG, "stylize: fda takes one style image, not %d (mne averages several)", n_styles);
  DG_TRY(check_image("content", content));
  for (int i = 0; i < n_styles; i++)
    DG_TRY(check_image("style image", styles[i]));
  if (p->method == DG_STYLIZE_MNE) DG_TRY(mne_models(st, p));
  dg_arena_mark mark = dg_arena_get_mark(st->arena);
  dg_status s = p->method == DG_STYLIZE_MNE
                    ? dg_stylize_mne_run(st->mne, st->stream, st->arena, content, styles, n_styles, (float)p->strength, out)
                    : fda(st, content, styles[0], p, out);
  if (s != DG_OK) {
    dg_stream_finish(st->stream); // nothing of this call left in flight
    dg_media_clear(out);
  }
  dg_arena_release(st->arena, mark);
  return s;
}

// Sums the half spectrum's power into radius bins (each column 0 < kx < W/2 stands for itself and its
// mirror -k too).
static void radial_bins(const float *spec, int planes, int h, int w, double *sum, double *count, int bins) {
  int w2 = w / 2 + 1;
  for (int p = 0; p < planes; p++)
    for (int y = 0; y < h; y++) {
      int ky = y <= h / 2 ? y : y - h;
      for (int x = 0; x < w2; x++) {
        int r = (int)lround(sqrt((double)ky * ky + (double)x * x));
        if (r >= bins) continue;
        const float *v = spec + 2 * (((size_t)p * (size_t)h + (size_t)y) * (size_t)w2 + (size_t)x);
        double weight = x == 0 || (w % 2 == 0 && x == w / 2) ? 1.0 : 2.0;
        sum[r] += weight * ((double)v[0] * v[0] + (double)v[1] * v[1]);
        count[r] += weight;
      }
    }
}

dg_status dg_stylize_spectrum(dg_stylize *st, const dg_media *image, bool log, dg_spectrum *out) {
  *out = (dg_spectrum){0};
  DG_TRY(check_image("image", image));
  int w = image->width, h = image->height, bins = (w < h ? w : h) / 2 + 1;
  dg_fft_plan *plan;
  DG_TRY(dg_fft_plan_get(st->fft, 3, h, w, &plan));
  DG_TRY(put_planes(image, 1.0f / 255.0f, dg_fft_plan_real(plan)->data));
  dg_status s = dg_fft_forward(st->stream, plan);
  if (s == DG_OK) s = dg_stream_finish(st->stream);
  else dg_stream_finish(st->stream);
  DG_TRY(s);
  dg_range spectrum = dg_fft_plan_spectrum(plan)->data;
  double *sum = calloc(2 * (size_t)bins, sizeof *sum);
  float *half = dg_memory_alloc("the spectrum", spectrum.size);
  if (!sum || !half) {
    free(sum);
    free(half);
    return dg_memory_fail("the power spectrum", spectrum.size);
  }
  s = dg_range_read(spectrum, 0, half, spectrum.size);
  if (s != DG_OK) {
    free(sum);
    free(half);
    return s;
  }
  radial_bins(half, 3, h, w, sum, sum + bins, bins);
  free(half);
  for (int r = 0; r < bins; r++) { // every radius up to min(H, W) / 2 has frequencies
    sum[r] /= sum[bins + r] * (double)w * (double)h;
    if (log) sum[r] = log10(sum[r] > 1e-30 ? sum[r] : 1e-30);
  }
  *out = (dg_spectrum){.bins = bins, .power = sum, .log = log};
  return DG_OK;
}

void dg_spectrum_clear(dg_spectrum *s) {
  free(s->power);
  *s = (dg_spectrum){0};
}
