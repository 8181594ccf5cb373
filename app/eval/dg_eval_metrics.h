// The numbers of `dirigent-cli eval`: a segmentation confusion matrix with per-class IoU and mIoU (as
// tools/train/dgtrain/segmenter.py computes them), and the Frechet distance between Gaussians fitted to
// two sets of feature vectors (as FID does, on any features), with the matrix square root taken by a
// symmetric (Jacobi) eigen-decomposition.
#pragma once
#include <stdint.h>

#include "dg_status.h"

// conf [k * k] (rows: truth, columns: prediction) += the n pixels; truth == ignore is skipped, and so
// is any id >= k.
void dg_eval_confusion_add(int64_t *conf, int k, const uint8_t *truth, const uint8_t *pred, int64_t n, int ignore);
// iou[k]: per class (NaN where the class is absent in both truth and prediction); *miou: the mean over
// the classes that are not NaN (NaN if none); *acc: pixel accuracy (NaN if no pixel was counted).
void dg_eval_iou(const int64_t *conf, int k, double *iou, double *miou, double *acc);

// Running first and second moments of `dim`-dimensional samples.
typedef struct dg_eval_moments {
  int dim;
  int64_t n;
  double *sum;   // [dim]
  double *outer; // [dim * dim], sum of x x^T
} dg_eval_moments;
dg_status dg_eval_moments_init(dg_eval_moments *m, int dim);
void dg_eval_moments_add(dg_eval_moments *m, const float *x);
void dg_eval_moments_free(dg_eval_moments *m);
// Mean [dim] and unbiased covariance [dim * dim] (n - 1, as numpy.cov); needs n >= 2.
dg_status dg_eval_moments_stats(const dg_eval_moments *m, double *mean, double *cov);

// |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(sqrt(S1) S2 sqrt(S1))): the Frechet distance of the two
// fitted Gaussians (each set needs n >= 2; rank-deficient covariances are fine).
dg_status dg_eval_frechet(const dg_eval_moments *a, const dg_eval_moments *b, double *out);

// Eigen-decomposition of the symmetric n x n matrix a (row-major; destroyed) by cyclic Jacobi
// rotations: eigenvalues w[n], eigenvectors as the columns of v [n * n], a = v diag(w) v^T.
void dg_eval_jacobi(double *a, int n, double *w, double *v);
// The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues from
// rounding are taken as 0): out [n * n] with out out = a.
dg_status dg_eval_sqrtm_psd(const double *a, int n, double *out);

// The q-quantile (0..1) of x[n], linear interpolation as numpy.percentile; sorts x in place. 0 when n is 0.
double dg_eval_quantile(double *x, int n, double q);

// The mean of x[n] and its percentile bootstrap interval: `resamples` means of n values drawn with
// replacement (splitmix64 from `seed`, so reruns agree), *lo and *hi their (1 - level) / 2 and
// (1 + level) / 2 quantiles (linear interpolation, as numpy.percentile). NaN values of x are left out
// first; all three are NaN when none is left.
dg_status dg_eval_bootstrap(const double *x, int n, int resamples, uint64_t seed, double level, double *mean,
                            double *lo, double *hi);
