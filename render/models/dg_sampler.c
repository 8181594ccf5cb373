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

static int64_t numel4(const int64_t *s) { return s[0] * s[1] * s[2] * s[3]; }

static dg_status ddim(const dg_sampler_opts *o, const double *ac, dg_eps_fn fn, void *user, float *x, float *eps,
                      float *x0, float *noise) {
  int64_t n = numel4(o->shape);
  int ts[T_TRAIN];
  DG_TRY(dg_sampler_timesteps(o, ts));
  for (int i = 0; i < o->steps; i++) {
    int t = ts[i];
    double a = ac[t], ap = i + 1 < o->steps ? ac[ts[i + 1]] : ac[0];
    double sigma = o->eta * sqrt((1 - ap) / (1 - a) * (1 - a / ap));
    DG_TRY(fn(user, x, t, eps));
    if (sigma > 0) dg_randn(o->seed, 1 + (uint64_t)i, (size_t)n, noise);
    float c_eps = (float)sqrt(1 - a), sa = (float)sqrt(a), c_x0 = (float)sqrt(ap),
          c_dir = (float)sqrt(1 - ap - sigma * sigma), c_noise = (float)sigma;
    for (int64_t j = 0; j < n; j++) {
      x0[j] = (x[j] - c_eps * eps[j]) / sa;
      float xp = c_x0 * x0[j] + c_dir * eps[j];
      if (sigma > 0) xp = xp + c_noise * noise[j];
      x[j] = xp;
    }
    if (o->on_step) o->on_step(o->step_user, i, o->steps, x, x0);
  }
  return DG_OK;
}

static dg_status plms(const dg_sampler_opts *o, const double *ac, dg_eps_fn fn, void *user, float *x, float *e,
                      float *x0, float *ets[4], float *cur) {
  int64_t n = numel4(o->shape);
  int ts[T_TRAIN + 1], total = dg_sampler_evaluations(o), ratio = T_TRAIN / o->steps, n_ets = 0;
  DG_TRY(dg_sampler_timesteps(o, ts));
  float *slot[4] = {ets[0], ets[1], ets[2], ets[3]}; // slot[0] oldest .. slot[n_ets-1] newest
  for (int counter = 0; counter < total; counter++) {
    int tt = ts[counter], tp = tt - ratio;
    DG_TRY(fn(user, x, tt, e));
    float af = (float)ac[tt], c_eps = sqrtf(1.0f - af), sa = sqrtf(af); // predict_x0 with f32 alphas
    for (int64_t j = 0; j < n; j++)
      x0[j] = (x[j] - c_eps * e[j]) / sa;
    if (counter != 1) { // ets = ets[-3:] + [e]
      if (n_ets == 4) {
        float *old = slot[0];
        memmove(slot, slot + 1, 3 * sizeof *slot);
        slot[3] = old;
        n_ets = 3;
      }
      memcpy(slot[n_ets++], e, (size_t)n * sizeof *e);
    } else {
      tp = tt;
      tt = tt + ratio;
    }
    float *E[4] = {NULL, NULL, NULL, NULL}; // E[0] newest
    for (int k = 0; k < n_ets; k++)
      E[k] = slot[n_ets - 1 - k];
    if (n_ets == 1 && counter == 0) {
      memcpy(cur, x, (size_t)n * sizeof *x);
    } else if (n_ets == 1 && counter == 1) {
      for (int64_t j = 0; j < n; j++)
        e[j] = (e[j] + E[0][j]) / 2.0f;
      memcpy(x, cur, (size_t)n * sizeof *x);
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
    double a = ac[tt], ap = tp >= 0 ? ac[tp] : ac[0];
    double denom = a * sqrt(1 - ap) + sqrt(a * (1 - a) * ap);
    float c_x = (float)sqrt(ap / a), c_e = (float)((ap - a) / denom);
    for (int64_t j = 0; j < n; j++)
      x[j] = c_x * x[j] - c_e * e[j];
    if (o->on_step) o->on_step(o->step_user, counter, total, x, x0);
  }
  return DG_OK;
}

dg_status dg_sample(const dg_sampler_opts *o, dg_eps_fn fn, void *user, float *x_out) {
  if (o->kind != DG_SAMPLER_DDIM && o->kind != DG_SAMPLER_PLMS) return dg_fail(DG_ERR_ARG, "sampler: bad kind");
  if (o->eta < 0 || (o->eta > 0 && o->kind != DG_SAMPLER_DDIM))
    return dg_fail(DG_ERR_ARG, "sampler: eta %g (DDIM only, >= 0)", o->eta);
  int64_t n = numel4(o->shape);
  if (n <= 0) return dg_fail(DG_ERR_ARG, "sampler: empty latent shape");
  int ts[T_TRAIN + 1];
  DG_TRY(dg_sampler_timesteps(o, ts));
  double *ac = malloc(T_TRAIN * sizeof *ac);
  float *buf = malloc((size_t)n * 8 * sizeof *buf);
  if (!ac || !buf) {
    free(ac);
    free(buf);
    return dg_memory_fail("the sampler's buffers", T_TRAIN * sizeof *ac + (uint64_t)n * 8 * sizeof *buf);
  }
  alphas_cumprod(ac);
  float *x = x_out, *eps = buf, *x0 = buf + n, *aux = buf + 2 * n;
  if (o->x_T)
    memcpy(x, o->x_T, (size_t)n * sizeof *x);
  else
    dg_randn(o->seed, 0, (size_t)n, x);
  dg_status st;
  if (o->kind == DG_SAMPLER_DDIM) {
    st = ddim(o, ac, fn, user, x, eps, x0, aux);
  } else {
    float *ets[4] = {buf + 3 * n, buf + 4 * n, buf + 5 * n, buf + 6 * n};
    st = plms(o, ac, fn, user, x, eps, x0, ets, buf + 7 * n);
  }
  free(ac);
  free(buf);
  return st;
}

// ---- UNet (+ ControlNet) with classifier-free guidance ----

static dg_status doubled(const dg_nn *nn, const dg_tensor *a, const dg_tensor *b, dg_tensor *out) {
  int64_t na = dg_tensor_numel(a), nb = b ? dg_tensor_numel(b) : 0;
  int64_t shape[DG_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[0] = a->shape[0] + (b ? b->shape[0] : 0);
  DG_TRY(dg_tensor_alloc(nn->scratch, nn->dtype, a->ndim, shape, out));
  float *h = malloc((size_t)(na + nb) * sizeof *h);
  if (!h) return dg_memory_fail("the guidance inputs", (uint64_t)(na + nb) * sizeof *h);
  dg_tensor_read_f32(a, h);
  if (b) dg_tensor_read_f32(b, h + na);
  dg_tensor_write_f32(out, h);
  free(h);
  return DG_OK;
}

dg_status dg_guided_init(dg_guided *g, const dg_nn *nn, const dg_unet *unet, const dg_controlnet *control,
                         const dg_tensor *cond, const dg_tensor *uncond, const dg_tensor *hint, float cfg_scale,
                         float control_scale, const int64_t latent_shape[4]) {
  memset(g, 0, sizeof *g);
  if (control && !hint) return dg_fail(DG_ERR_ARG, "sampler: a ControlNet needs a hint");
  if (cond->shape[0] != latent_shape[0] || (uncond && uncond->shape[0] != cond->shape[0]))
    return dg_fail(DG_ERR_ARG, "sampler: cond/uncond batch must equal the latent batch %lld",
                   (long long)latent_shape[0]);
  g->nn = *nn;
  g->unet = unet;
  g->control = control;
  g->cfg_scale = cfg_scale;
  g->control_scale = control_scale;
  g->batch = latent_shape[0];
  g->guided = uncond && cfg_scale != 1.0f;
  // The stream must be idle here: contexts and hints are staged through the host.
  DG_TRY(dg_stream_finish(nn->s));
  DG_TRY(doubled(nn, g->guided ? uncond : cond, g->guided ? cond : NULL, &g->context));
  if (control) {
    dg_tensor h;
    DG_TRY(doubled(nn, hint, g->guided ? hint : NULL, &h));
    DG_TRY(dg_controlnet_hint(nn, control, &h, &g->hint));
  }
  int64_t xs[4] = {latent_shape[0] * (g->guided ? 2 : 1), latent_shape[1], latent_shape[2], latent_shape[3]};
  DG_TRY(dg_tensor_alloc(nn->scratch, nn->dtype, 4, xs, &g->x));
  int64_t n = xs[0] * xs[1] * xs[2] * xs[3];
  g->x2 = malloc((size_t)n * sizeof *g->x2);
  g->eps2 = malloc((size_t)n * sizeof *g->eps2);
  if (!g->x2 || !g->eps2) return dg_memory_fail("the guided latents", 2 * (uint64_t)n * sizeof *g->x2);
  return DG_OK;
}

void dg_guided_free(dg_guided *g) {
  free(g->x2);
  free(g->eps2);
  g->x2 = g->eps2 = NULL;
}

dg_status dg_guided_eps(void *user, const float *x, int t, float *eps) {
  dg_guided *g = user;
  int64_t half = dg_tensor_numel(&g->x) / (g->guided ? 2 : 1), nb = g->x.shape[0];
  memcpy(g->x2, x, (size_t)half * sizeof *x);
  if (g->guided) memcpy(g->x2 + half, x, (size_t)half * sizeof *x);
  dg_tensor_write_f32(&g->x, g->x2);
  float tt[2 * DG_UNET_MAX_BLOCKS];
  float *tv = nb <= (int64_t)(sizeof tt / sizeof *tt) ? tt : malloc((size_t)nb * sizeof *tv);
  if (!tv) return dg_memory_fail("the timesteps", (uint64_t)nb * sizeof *tv);
  for (int64_t i = 0; i < nb; i++)
    tv[i] = (float)t;
  dg_arena_mark mark = dg_arena_get_mark(g->nn.scratch);
  dg_tensor ctl[DG_UNET_MAX_BLOCKS + 1], e;
  const dg_tensor *ctlp[DG_UNET_MAX_BLOCKS + 1];
  dg_status st = DG_OK;
  if (g->control) {
    st = dg_controlnet_forward(&g->nn, g->control, &g->x, &g->hint, tv, &g->context, g->control_scale, ctl);
    for (int i = 0; i < dg_controlnet_num_outputs(g->control); i++)
      ctlp[i] = &ctl[i];
  }
  if (st == DG_OK) st = dg_unet_forward(&g->nn, g->unet, &g->x, tv, &g->context, g->control ? ctlp : NULL, &e);
  dg_status fin = dg_stream_finish(g->nn.s);
  if (st == DG_OK) st = fin;
  if (st == DG_OK) dg_tensor_read_f32(&e, g->eps2);
  dg_arena_release(g->nn.scratch, mark);
  if (tv != tt) free(tv);
  DG_TRY(st);
  if (!g->guided) {
    memcpy(eps, g->eps2, (size_t)half * sizeof *eps);
    return DG_OK;
  }
  const float *eu = g->eps2, *ec = g->eps2 + half;
  for (int64_t j = 0; j < half; j++)
    eps[j] = eu[j] + g->cfg_scale * (ec[j] - eu[j]);
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
