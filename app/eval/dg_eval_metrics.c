#include "dg_eval_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dg_eval_confusion_add(int64_t *conf, int k, const uint8_t *truth, const uint8_t *pred, int64_t n, int ignore) {
  for (int64_t i = 0; i < n; i++)
    if (truth[i] != ignore && truth[i] < k && pred[i] < k) conf[truth[i] * k + pred[i]]++;
}

void dg_eval_iou(const int64_t *conf, int k, double *iou, double *miou, double *acc) {
  double tp_all = 0, total = 0, sum = 0;
  int present = 0;
  for (int c = 0; c < k; c++) {
    double tp = (double)conf[c * k + c], row = 0, col = 0;
    for (int j = 0; j < k; j++)
      row += (double)conf[c * k + j], col += (double)conf[j * k + c];
    double uni = row + col - tp;
    iou[c] = uni > 0 ? tp / uni : NAN;
    if (uni > 0) sum += iou[c], present++;
    tp_all += tp;
    total += row;
  }
  *miou = present ? sum / present : NAN;
  *acc = total > 0 ? tp_all / total : NAN;
}

dg_status dg_eval_moments_init(dg_eval_moments *m, int dim) {
  memset(m, 0, sizeof *m);
  if (dim < 1) return dg_fail(DG_ERR_ARG, "moments: dimension %d", dim);
  m->dim = dim;
  m->sum = calloc((size_t)dim, sizeof *m->sum);
  m->outer = calloc((size_t)dim * dim, sizeof *m->outer);
  if (!m->sum || !m->outer) {
    dg_eval_moments_free(m);
    return dg_fail(DG_ERR_OOM, "moments: out of memory for dimension %d", dim);
  }
  return DG_OK;
}

void dg_eval_moments_add(dg_eval_moments *m, const float *x) {
  int d = m->dim;
  for (int i = 0; i < d; i++) {
    m->sum[i] += x[i];
    for (int j = 0; j < d; j++)
      m->outer[(size_t)i * d + j] += (double)x[i] * x[j];
  }
  m->n++;
}

void dg_eval_moments_free(dg_eval_moments *m) {
  free(m->sum);
  free(m->outer);
  memset(m, 0, sizeof *m);
}

dg_status dg_eval_moments_stats(const dg_eval_moments *m, double *mean, double *cov) {
  if (m->n < 2) return dg_fail(DG_ERR_ARG, "a covariance needs at least 2 samples (got %lld)", (long long)m->n);
  int d = m->dim;
  double n = (double)m->n;
  for (int i = 0; i < d; i++)
    mean[i] = m->sum[i] / n;
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++)
      cov[(size_t)i * d + j] = (m->outer[(size_t)i * d + j] - n * mean[i] * mean[j]) / (n - 1);
  return DG_OK;
}

void dg_eval_jacobi(double *a, int n, double *w, double *v) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      v[(size_t)i * n + j] = i == j;
  double total = 0;
  for (size_t i = 0; i < (size_t)n * n; i++)
    total += a[i] * a[i];
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0;
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++)
        off += a[(size_t)p * n + q] * a[(size_t)p * n + q];
    if (off <= 1e-24 * total) break; // off-diagonal norm below 1e-12 of the matrix's
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = a[(size_t)p * n + q];
        if (fabs(apq) < 1e-300) continue;
        double app = a[(size_t)p * n + p], aqq = a[(size_t)q * n + q];
        // The rotation that zeroes a[p][q] (Numerical Recipes' stable form).
        double theta = (aqq - app) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; k++) { // columns p and q
          double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
          a[(size_t)k * n + p] = c * akp - s * akq;
          a[(size_t)k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) { // rows p and q
          double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
          a[(size_t)p * n + k] = c * apk - s * aqk;
          a[(size_t)q * n + k] = s * apk + c * aqk;
        }
        a[(size_t)p * n + q] = a[(size_t)q * n + p] = 0;
        for (int k = 0; k < n; k++) {
          double vkp = v[(size_t)k * n + p], vkq = v[(size_t)k * n + q];
          v[(size_t)k * n + p] = c * vkp - s * vkq;
          v[(size_t)k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  for (int i = 0; i < n; i++)
    w[i] = a[(size_t)i * n + i];
}

// out = v diag(f) v^T.
static void recompose(const double *v, const double *f, int n, double *out) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int k = 0; k < n; k++)
        s += v[(size_t)i * n + k] * f[k] * v[(size_t)j * n + k];
      out[(size_t)i * n + j] = s;
    }
}

// Eigenvalues of a PSD matrix at or below this are rounding noise around 0 (whose square roots,
// ~1e-8 of the scale, would otherwise add up over the many null directions of a covariance estimated
// from fewer samples than dimensions).
static double noise_level(const double *w, int n) {
  double top = 0;
  for (int i = 0; i < n; i++)
    top = fmax(top, fabs(w[i]));
  return top * 1e-13 * n;
}

dg_status dg_eval_sqrtm_psd(const double *a, int n, double *out) {
  size_t nn = (size_t)n * n;
  double *work = malloc(nn * sizeof *work), *v = malloc(nn * sizeof *v), *w = malloc((size_t)n * sizeof *w);
  if (!work || !v || !w) {
    free(work), free(v), free(w);
    return dg_fail(DG_ERR_OOM, "sqrtm: out of memory for %d x %d", n, n);
  }
  for (int i = 0; i < n; i++) // symmetrise against rounding
    for (int j = 0; j < n; j++)
      work[(size_t)i * n + j] = 0.5 * (a[(size_t)i * n + j] + a[(size_t)j * n + i]);
  dg_eval_jacobi(work, n, w, v);
  double tol = noise_level(w, n);
  for (int i = 0; i < n; i++)
    w[i] = w[i] > tol ? sqrt(w[i]) : 0;
  recompose(v, w, n, out);
  free(work), free(v), free(w);
  return DG_OK;
}

dg_status dg_eval_frechet(const dg_eval_moments *a, const dg_eval_moments *b, double *out) {
  if (a->dim != b->dim) return dg_fail(DG_ERR_ARG, "frechet: dimensions %d and %d differ", a->dim, b->dim);
  int d = a->dim;
  size_t dd = (size_t)d * d;
  double *m1 = malloc((size_t)d * sizeof *m1), *m2 = malloc((size_t)d * sizeof *m2);
  double *s1 = malloc(dd * sizeof *s1), *s2 = malloc(dd * sizeof *s2), *r = malloc(dd * sizeof *r),
         *t = malloc(dd * sizeof *t), *w = malloc((size_t)d * sizeof *w);
  dg_status st = m1 && m2 && s1 && s2 && r && t && w ? DG_OK : dg_fail(DG_ERR_OOM, "frechet: out of memory");
  if (st == DG_OK) st = dg_eval_moments_stats(a, m1, s1);
  if (st == DG_OK) st = dg_eval_moments_stats(b, m2, s2);
  if (st == DG_OK) st = dg_eval_sqrtm_psd(s1, d, r); // r = sqrt(S1)
  if (st == DG_OK) {
    // t = r S2 r (symmetric PSD); tr sqrt(S1 S2) = tr sqrt(t) = sum of sqrt of t's eigenvalues.
    double *u = malloc(dd * sizeof *u);
    if (!u) st = dg_fail(DG_ERR_OOM, "frechet: out of memory");
    for (int i = 0; st == DG_OK && i < d; i++)
      for (int j = 0; j < d; j++) {
        double s = 0;
        for (int k = 0; k < d; k++)
          s += r[(size_t)i * d + k] * s2[(size_t)k * d + j];
        u[(size_t)i * d + j] = s;
      }
    for (int i = 0; st == DG_OK && i < d; i++)
      for (int j = 0; j <= i; j++) {
        double s = 0;
        for (int k = 0; k < d; k++)
          s += u[(size_t)i * d + k] * r[(size_t)k * d + j];
        t[(size_t)i * d + j] = t[(size_t)j * d + i] = s;
      }
    free(u);
    if (st == DG_OK) {
      double *v = malloc(dd * sizeof *v);
      if (!v) st = dg_fail(DG_ERR_OOM, "frechet: out of memory");
      else {
        dg_eval_jacobi(t, d, w, v);
        double tr_sqrt = 0, tr1 = 0, tr2 = 0, diff = 0, tol = noise_level(w, d);
        for (int i = 0; i < d; i++) {
          tr_sqrt += w[i] > tol ? sqrt(w[i]) : 0;
          tr1 += s1[(size_t)i * d + i];
          tr2 += s2[(size_t)i * d + i];
          diff += (m1[i] - m2[i]) * (m1[i] - m2[i]);
        }
        *out = diff + tr1 + tr2 - 2 * tr_sqrt;
        free(v);
      }
    }
  }
  free(m1), free(m2), free(s1), free(s2), free(r), free(t), free(w);
  return st;
}

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q) {
  double pos = q * (n - 1);
  int i = (int)floor(pos);
  if (i >= n - 1) return sorted[n - 1];
  return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

double dg_eval_quantile(double *x, int n, double q) {
  if (n <= 0) return 0;
  qsort(x, (size_t)n, sizeof *x, cmp_double);
  return quantile(x, n, q);
}

dg_status dg_eval_bootstrap(const double *x, int n, int resamples, uint64_t seed, double level, double *mean,
                            double *lo, double *hi) {
  *mean = *lo = *hi = NAN;
  double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
  double *means = malloc((size_t)(resamples > 0 ? resamples : 1) * sizeof *means);
  if (!v || !means) {
    free(v), free(means);
    return dg_fail(DG_ERR_OOM, "out of host memory");
  }
  int m = 0;
  double sum = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(x[i])) v[m++] = x[i], sum += x[i];
  if (m) {
    *mean = sum / m;
    uint64_t st = seed;
    for (int r = 0; r < resamples; r++) {
      double s = 0;
      for (int i = 0; i < m; i++)
        s += v[splitmix64(&st) % (uint64_t)m];
      means[r] = s / m;
    }
    if (resamples > 0) {
      qsort(means, (size_t)resamples, sizeof *means, cmp_double);
      *lo = quantile(means, resamples, (1 - level) / 2);
      *hi = quantile(means, resamples, (1 + level) / 2);
    } else {
      *lo = *hi = *mean;
    }
  }
  free(v), free(means);
  return DG_OK;
}
