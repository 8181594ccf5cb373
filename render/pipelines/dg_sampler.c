#include "dg_sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"
#include "dg_rng.h"

#define T_TRAIN 1000

static void alphas_cumprod(double *ac) {
  // np.linspace(sqrt(0.00085), sqrt(0.012), 1000) ** 2, cumprod(1 - betas), all in double.
  double s = sqrt(0.00085), e = sqrt(0.012), step = (e - s) / (T_TRAIN - 1), p = 1.0;
  for (int i = 0; i < T_TRAIN; i++) {
    double v = i == T_TRAIN - 1 ? e : s + i * step;
    p *= 1.0 - v * v;
    ac[i] = p;
  }
}

int dg_sampler_evaluations(const dg_sampler_opts *o) { return o->kind == DG_SAMPLER_PLMS ? o->steps + 1 : o->steps; }

dg_status dg_sampler_timesteps(const dg_sampler_opts *o, int *ts) {
  if (o->steps < 1 || o->steps > T_TRAIN || (o->kind == DG_SAMPLER_PLMS && o->steps < 2))
    return dg_fail(DG_ERR_ARG, "sampler: %d steps (1..1000, PLMS at least 2)", o->steps);
  int ratio = T_TRAIN / o->steps;
  if (o->kind == DG_SAMPLER_DDIM) {
    for (int i = 0; i < o->steps; i++)
      ts[i] = 1 + (o->steps - 1 - i) * ratio;
  } else { // leading spacing + 1, the second-to-last entry repeated, reversed
    int n = 0;
    ts[n++] = (o->steps - 1) * ratio + 1;
    ts[n++] = (o->steps - 2) * ratio + 1;
    for (int k = o->steps - 2; k >= 0; k--)
      ts[n++] = k * ratio + 1;
  }
  return DG_OK;
}

struct dg_sampler {
  dg_sampler_opts o;
  int64_t n;
  int ts[T_TRAIN + 1];
  double ac[T_TRAIN];
  int next; // the evaluation the next step must be
  // DDIM: the eta noise. PLMS: the current eps (combined in place), the last four eps values
  // (slot[0] oldest .. slot[n_ets - 1] newest) and the latent kept over the first two evaluations.
  float *e, *noise, *slot[4], *cur;
  int n_ets;
  float *buf;
};

dg_status dg_sampler_new(const dg_sampler_opts *o, int64_t n, dg_sampler **out) {
  *out = NULL;
  if (o->kind != DG_SAMPLER_DDIM && o->kind != DG_SAMPLER_PLMS) return dg_fail(DG_ERR_ARG, "sampler: bad kind");
  if (o->eta < 0 || (o->eta > 0 && o->kind != DG_SAMPLER_DDIM))
    return dg_fail(DG_ERR_ARG, "sampler: eta %g (DDIM only, >= 0)", o->eta);
  if (n <= 0) return dg_fail(DG_ERR_ARG, "sampler: empty latent shape");
  dg_sampler *s = calloc(1, sizeof *s);
  if (!s) return dg_fail(DG_ERR_OOM, "sampler: out of host memory");
  s->o = *o;
  s->n = n;
  dg_status st = dg_sampler_timesteps(o, s->ts);
  s->buf = st == DG_OK ? malloc((size_t)n * 6 * sizeof *s->buf) : NULL;
  if (st == DG_OK && !s->buf) st = dg_memory_fail("the sampler's buffers", (uint64_t)n * 6 * sizeof *s->buf);
  if (st != DG_OK) {
    dg_sampler_free(s);
    return st;
  }
  alphas_cumprod(s->ac);
  s->e = s->buf;
  s->noise = s->buf + n;
  for (int k = 0; k < 4; k++)
    s->slot[k] = s->buf + (1 + k) * n;
  s->cur = s->buf + 5 * n;
  *out = s;
  return DG_OK;
}

void dg_sampler_free(dg_sampler *s) {
  if (!s) return;
  free(s->buf);
  free(s);
}

int dg_sampler_timestep(const dg_sampler *s, int i) { return s->ts[i]; }

static void ddim_step(dg_sampler *s, int i, float *x, const float *eps, float *x0) {
  const dg_sampler_opts *o = &s->o;
  int64_t n = s->n;
  int t = s->ts[i];
  double a = s->ac[t], ap = i + 1 < o->steps ? s->ac[s->ts[i + 1]] : s->ac[0];
  double sigma = o->eta * sqrt((1 - ap) / (1 - a) * (1 - a / ap));
  if (sigma > 0) dg_randn(o->seed, 1 + (uint64_t)i, (size_t)n, s->noise);
  float c_eps = (float)sqrt(1 - a), sa = (float)sqrt(a), c_x0 = (float)sqrt(ap),
        c_dir = (float)sqrt(1 - ap - sigma * sigma), c_noise = (float)sigma;
  for (int64_t j = 0; j < n; j++) {
    x0[j] = (x[j] - c_eps * eps[j]) / sa;
    float xp = c_x0 * x0[j] + c_dir * eps[j];
    if (sigma > 0) xp = xp + c_noise * s->noise[j];
    x[j] = xp;
  }
}

static void plms_step(dg_sampler *s, int counter, float *x, const float *eps, float *x0) {
  int64_t n = s->n;
  float *e = s->e, **slot = s->slot;
  int tt = s->ts[counter], ratio = T_TRAIN / s->o.steps, tp = tt - ratio;
  memcpy(e, eps, (size_t)n * sizeof *e);
  float af = (float)s->ac[tt], c_eps = sqrtf(1.0f - af), sa = sqrtf(af); // predict_x0 with f32 alphas
  for (int64_t j = 0; j < n; j++)
    x0[j] = (x[j] - c_eps * e[j]) / sa;
  if (counter != 1) { // ets = ets[-3:] + [e]
    if (s->n_ets == 4) {
      float *old = slot[0];
      memmove(slot, slot + 1, 3 * sizeof *slot);
      slot[3] = old;
      s->n_ets = 3;
    }
    memcpy(slot[s->n_ets++], e, (size_t)n * sizeof *e);
  } else {
    tp = tt;
    tt = tt + ratio;
  }
  int n_ets = s->n_ets;
  float *E[4] = {NULL, NULL, NULL, NULL}; // E[0] newest
  for (int k = 0; k < n_ets; k++)
    E[k] = slot[n_ets - 1 - k];
  if (n_ets == 1 && counter == 0) {
    memcpy(s->cur, x, (size_t)n * sizeof *x);
  } else if (n_ets == 1 && counter == 1) {
    for (int64_t j = 0; j < n; j++)
      e[j] = (e[j] + E[0][j]) / 2.0f;
    memcpy(x, s->cur, (size_t)n * sizeof *x);
  } else if (n_ets == 2) {
    for (int64_t j = 0; j < n; j++)
      e[j] = (3.0f * E[0][j] - E[1][j]) / 2.0f;
  } else if (n_ets == 3) {
    for (int64_t j = 0; j < n; j++)
      e[j] = (23.0f * E[0][j] - 16.0f * E[1][j] + 5.0f * E[2][j]) / 12.0f;
  } else {
    for (int64_t j = 0; j < n; j++)
      e[j] = (55.0f * E[0][j] - 59.0f * E[1][j] + 37.0f * E[2][j] - 9.0f * E[3][j]) / 24.0f;
  }
  double a = s->ac[tt], ap = tp >= 0 ? s->ac[tp] : s->ac[0];
  double denom = a * sqrt(1 - ap) + sqrt(a * (1 - a) * ap);
  float c_x = (float)sqrt(ap / a), c_e = (float)((ap - a) / denom);
  for (int64_t j = 0; j < n; j++)
    x[j] = c_x * x[j] - c_e * e[j];
}

dg_status dg_sampler_step(dg_sampler *s, int i, float *x, const float *eps, float *x0) {
  if (i != s->next || i >= dg_sampler_evaluations(&s->o))
    return dg_fail(DG_ERR_ARG, "sampler: step %d out of order (expected %d of %d)", i, s->next,
                   dg_sampler_evaluations(&s->o));
  if (s->o.kind == DG_SAMPLER_DDIM)
    ddim_step(s, i, x, eps, x0);
  else
    plms_step(s, i, x, eps, x0);
  s->next++;
  return DG_OK;
}

void dg_sampler_preview_rgb(const float *latent, int64_t h, int64_t w, uint8_t *rgb) {
  // A least-squares fit of SD 1.5's decoder colours to its (scaled) latent channels.
  static const float m[4][3] = {
      {0.298f, 0.207f, 0.208f}, {0.187f, 0.286f, 0.173f}, {-0.158f, 0.189f, 0.264f}, {-0.184f, -0.271f, -0.473f}};
  for (int64_t i = 0; i < h * w; i++)
    for (int c = 0; c < 3; c++) {
      float v = 0;
      for (int k = 0; k < 4; k++)
        v += m[k][c] * latent[k * h * w + i];
      v = (v + 1.0f) * 127.5f;
      rgb[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
    }
}
