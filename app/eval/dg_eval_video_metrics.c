#include "dg_eval_video_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_eval_metrics.h"

void dg_eval_video_scale_stages(const int *start, const int *end, int n_stages, int src_frames, int frames,
                                int *s_start, int *s_end) {
  for (int k = 0; k < n_stages; k++) {
    s_start[k] = (int)((int64_t)start[k] * frames / src_frames);
    s_end[k] = (int)((int64_t)(end[k] + 1) * frames / src_frames) - 1;
  }
}

void dg_eval_video_truth(const int *start, const int *end, int n_stages, int frames, int *truth) {
  for (int f = 0; f < frames; f++) {
    truth[f] = -1;
    for (int k = 0; k < n_stages; k++)
      if (f >= start[k] && f <= end[k]) truth[f] = k;
  }
}

static int most_similar(const float *row, int n) {
  int best = 0;
  for (int k = 1; k < n; k++)
    if (row[k] > row[best]) best = k;
  return best;
}

double dg_eval_video_stage_accuracy(const float *sim, int frames, int n_stages, const int *truth) {
  if (n_stages < 2) return NAN;
  int judged = 0, right = 0;
  for (int f = 0; f < frames; f++) {
    if (truth[f] < 0) continue;
    judged++;
    right += most_similar(sim + (size_t)f * n_stages, n_stages) == truth[f];
  }
  return judged ? (double)right / judged : NAN;
}

double dg_eval_video_transition_at(const float *sim, int n_stages, int k, const int *start, const int *end) {
  int lo = start[k], hi = end[k + 1], best = -1, ties = 0;
  double sum = 0;
  for (int p = lo + 1; p <= hi; p++) {
    int wrong = 0;
    for (int f = lo; f <= hi; f++) {
      float d = sim[(size_t)f * n_stages + k + 1] - sim[(size_t)f * n_stages + k];
      wrong += f < p ? d > 0 : d < 0;
    }
    if (best < 0 || wrong < best) best = wrong, ties = 0, sum = 0;
    if (wrong == best) ties++, sum += p;
  }
  return ties ? sum / ties : NAN;
}

double dg_eval_video_transition_error(const float *sim, int n_stages, const int *start, const int *end) {
  if (n_stages < 2) return NAN;
  double err = 0;
  for (int k = 0; k + 1 < n_stages; k++)
    err += fabs(dg_eval_video_transition_at(sim, n_stages, k, start, end) - 0.5 * (end[k] + 1 + start[k + 1]));
  return err / (n_stages - 1);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// The median of v[0..n) (sorted in place).
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double dg_eval_video_transition_width_at(const float *sim, int n_stages, int k, const int *start, const int *end) {
  int lo = start[k], n = end[k + 1] - lo + 1;
  double *d = malloc(2 * (size_t)n * sizeof *d), width = NAN;
  if (!d) return NAN;
  double *scratch = d + n;
  for (int i = 0; i < n; i++)
    d[i] = (double)sim[(size_t)(lo + i) * n_stages + k + 1] - sim[(size_t)(lo + i) * n_stages + k];
  int na = end[k] - lo + 1, nb = end[k + 1] - start[k + 1] + 1;
  memcpy(scratch, d, (size_t)na * sizeof *d);
  double from = median(scratch, na);
  memcpy(scratch, d + (start[k + 1] - lo), (size_t)nb * sizeof *d);
  double to = median(scratch, nb);
  if (to - from > 1e-9) {
    int between = 0;
    for (int i = 0; i < n; i++) {
      double u = (d[i] - from) / (to - from);
      between += u > 0.1 && u < 0.9;
    }
    width = between + 1;
  }
  free(d);
  return width;
}

double dg_eval_video_transition_width(const float *sim, int n_stages, const int *start, const int *end) {
  double sum = 0;
  int defined = 0;
  for (int k = 0; k + 1 < n_stages; k++) {
    double w = dg_eval_video_transition_width_at(sim, n_stages, k, start, end);
    if (!isnan(w)) sum += w, defined++;
  }
  return defined ? sum / defined : NAN;
}

double dg_eval_video_band_mass(const float *probs, int frames, int band) {
  double in = 0, all = 0;
  for (int i = 0; i < frames; i++)
    for (int j = 0; j < frames; j++) {
      all += probs[(size_t)i * frames + j];
      if (abs(i - j) <= band) in += probs[(size_t)i * frames + j];
    }
  return all > 0 ? in / all : NAN;
}

double dg_eval_video_adjacent_l1(const uint8_t *rgb, int frames, size_t frame_bytes) {
  if (frames < 2 || !frame_bytes) return NAN;
  double sum = 0;
  for (int f = 0; f + 1 < frames; f++) {
    const uint8_t *a = rgb + (size_t)f * frame_bytes, *b = a + frame_bytes;
    uint64_t d = 0;
    for (size_t i = 0; i < frame_bytes; i++)
      d += (uint64_t)abs((int)a[i] - (int)b[i]);
    sum += (double)d / (double)frame_bytes;
  }
  return sum / (frames - 1);
}

double dg_eval_video_adjacent_cosine(const float *emb, int frames, int dim) {
  if (frames < 2) return NAN;
  double sum = 0;
  for (int f = 0; f + 1 < frames; f++) {
    double dot = 0;
    for (int i = 0; i < dim; i++)
      dot += (double)emb[(size_t)f * dim + i] * emb[(size_t)(f + 1) * dim + i];
    sum += dot;
  }
  return sum / (frames - 1);
}

double dg_eval_video_layout_stability(const uint8_t *classes, int frames, int64_t pixels, int k) {
  if (frames < 2) return NAN;
  int64_t *conf = malloc((size_t)k * k * sizeof *conf);
  double *iou = malloc((size_t)k * sizeof *iou), sum = 0;
  int n = 0;
  for (int f = 0; conf && iou && f + 1 < frames; f++) {
    double miou, acc;
    memset(conf, 0, (size_t)k * k * sizeof *conf);
    dg_eval_confusion_add(conf, k, classes + (size_t)f * pixels, classes + (size_t)(f + 1) * pixels, pixels, -1);
    dg_eval_iou(conf, k, iou, &miou, &acc);
    if (!isnan(miou)) sum += miou, n++;
  }
  free(conf), free(iou);
  return n ? sum / n : NAN;
}
