#include "dg_denoise.h"

#include <stdlib.h>
#include <string.h>

#include "dg_memory.h"
#include "dg_rng.h"

struct dg_denoiser {
  dg_nn_ctx nn;
  dg_denoise_model m;
  int ndim;
  int64_t shape[DG_MAX_DIMS], numel; // the latent, as the loop sees it
  bool guided;
  dg_tensor context, hint, x; // batch [uncond; cond] (or cond alone without guidance), frames folded
  float *x2, *eps2;           // host staging of x and of the model's eps, both halves
};

static int64_t numel_of(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= shape[i];
  return n;
}

// out [a + b along dim 0] = cat(a, b) (b may be NULL: a copy), staged through the host.
static dg_status doubled(const dg_nn_ctx *nn, const dg_tensor *a, const dg_tensor *b, dg_tensor *out) {
  int64_t na = dg_tensor_numel(a), nb = b ? dg_tensor_numel(b) : 0;
  int64_t shape[DG_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[0] = a->shape[0] + (b ? b->shape[0] : 0);
  DG_TRY(dg_tensor_alloc(nn->scratch, nn->dtype, a->ndim, shape, out));
  float *h = malloc((size_t)(na + nb) * sizeof *h);
  if (!h) return dg_memory_fail("the guidance inputs", (uint64_t)(na + nb) * sizeof *h);
  dg_status s = dg_tensor_read_f32(a, h);
  if (s == DG_OK && b) s = dg_tensor_read_f32(b, h + na);
  if (s == DG_OK) s = dg_tensor_write_f32(out, h);
  free(h);
  return s;
}

void dg_denoiser_free(dg_denoiser *d) {
  if (!d) return;
  free(d->x2);
  free(d->eps2);
  free(d);
}

dg_status dg_denoiser_new(const dg_nn_ctx *nn, const dg_denoise_model *m, int ndim, const int64_t *shape,
                          dg_denoiser **out) {
  *out = NULL;
  if (ndim != 4 && ndim != 5) return dg_fail(DG_ERR_ARG, "denoise: the latent has %d dims (4 or 5)", ndim);
  if (m->control && !m->hint) return dg_fail(DG_ERR_ARG, "denoise: a ControlNet needs a hint");
  int64_t n = shape[0], f = ndim == 5 ? shape[1] : 1;
  const dg_tensor *cond = m->cond, *uncond = m->uncond;
  if ((cond->shape[0] != n && cond->shape[0] != n * f) || (uncond && uncond->shape[0] != cond->shape[0]))
    return dg_fail(DG_ERR_ARG, "denoise: cond/uncond batch must equal the latent batch %lld (or %lld frames)",
                   (long long)n, (long long)(n * f));
  dg_denoiser *d = calloc(1, sizeof *d);
  if (!d) return dg_fail(DG_ERR_OOM, "denoise: out of host memory");
  d->nn = *nn;
  d->nn.frames = (int)f;
  d->m = *m;
  d->ndim = ndim;
  memcpy(d->shape, shape, (size_t)ndim * sizeof *shape);
  d->numel = numel_of(ndim, shape);
  d->guided = uncond && m->cfg_scale != 1.0f;
  // The stream must be idle here: contexts and hints are staged through the host.
  dg_status s = dg_stream_finish(nn->s);
  if (s == DG_OK) s = doubled(nn, d->guided ? uncond : cond, d->guided ? cond : NULL, &d->context);
  if (s == DG_OK && m->control) {
    dg_tensor h;
    s = doubled(nn, m->hint, d->guided ? m->hint : NULL, &h);
    if (s == DG_OK) s = dg_controlnet_hint(&d->nn, m->control, &h, &d->hint);
  }
  // The models' view: [N*F, C, h, w], twice with guidance.
  int64_t xs[4] = {n * f * (d->guided ? 2 : 1), shape[ndim - 3], shape[ndim - 2], shape[ndim - 1]};
  if (s == DG_OK) s = dg_tensor_alloc(nn->scratch, nn->dtype, 4, xs, &d->x);
  if (s == DG_OK) {
    d->x2 = malloc((size_t)dg_tensor_numel(&d->x) * sizeof *d->x2);
    d->eps2 = malloc((size_t)dg_tensor_numel(&d->x) * sizeof *d->eps2);
    if (!d->x2 || !d->eps2) s = dg_memory_fail("the guided latents", 2 * (uint64_t)dg_tensor_numel(&d->x) * sizeof *d->x2);
  }
  if (s == DG_OK)
    *out = d;
  else
    dg_denoiser_free(d);
  return s;
}

// The model on the batched latent: eps2 (host) gets the eps of every batch entry.
static dg_status model_eps(dg_denoiser *d, int t) {
  int64_t items = d->x.shape[0] / dg_nn_frames(&d->nn); // timesteps: one per item, shared by its frames
  float tt[64];
  float *tv = items <= (int64_t)(sizeof tt / sizeof *tt) ? tt : malloc((size_t)items * sizeof *tv);
  if (!tv) return dg_memory_fail("the timesteps", (uint64_t)items * sizeof *tv);
  for (int64_t i = 0; i < items; i++)
    tv[i] = (float)t;
  dg_arena_mark mark = dg_arena_get_mark(d->nn.scratch);
  dg_tensor ctl[DG_UNET_MAX_BLOCKS + 1], e;
  const dg_tensor *ctlp[DG_UNET_MAX_BLOCKS + 1];
  dg_status st = DG_OK;
  if (d->m.control) {
    st = dg_controlnet_forward(&d->nn, d->m.control, &d->x, &d->hint, tv, &d->context, d->m.control_scale, ctl);
    for (int i = 0; i < dg_controlnet_num_outputs(d->m.control); i++)
      ctlp[i] = &ctl[i];
  }
  if (st == DG_OK && d->m.unet3d) {
    float fps[64];
    for (int64_t i = 0; i < items && i < 64; i++)
      fps[i] = d->m.fps;
    st = items > 64 ? dg_fail(DG_ERR_ARG, "denoise: %lld videos in one batch (at most 64)", (long long)items)
                    : dg_unet3d_forward(&d->nn, d->m.unet3d, &d->x, tv, d->m.fps > 0 ? fps : NULL, &d->context,
                                        d->m.control ? ctlp : NULL, &e);
  } else if (st == DG_OK) {
    st = dg_unet_forward(&d->nn, d->m.unet, &d->x, tv, &d->context, d->m.control ? ctlp : NULL, &e);
  }
  dg_status fin = dg_stream_finish(d->nn.s);
  if (st == DG_OK) st = fin;
  if (st == DG_OK) st = dg_tensor_read_f32(&e, d->eps2);
  dg_arena_release(d->nn.scratch, mark);
  if (tv != tt) free(tv);
  return st;
}

// Classifier-free guidance of the model's [uncond; cond] eps: eps = eu + s (ec - eu).
static void guide(const float *eps2, int64_t n, float scale, float *eps) {
  const float *eu = eps2, *ec = eps2 + n;
  for (int64_t j = 0; j < n; j++)
    eps[j] = eu[j] + scale * (ec[j] - eu[j]);
}

dg_status dg_denoiser_eps(dg_denoiser *d, const float *x, int t, float *eps) {
  int64_t n = d->numel;
  memcpy(d->x2, x, (size_t)n * sizeof *x);
  if (d->guided) memcpy(d->x2 + n, x, (size_t)n * sizeof *x);
  DG_TRY(dg_tensor_write_f32(&d->x, d->x2));
  DG_TRY(model_eps(d, t));
  if (d->guided)
    guide(d->eps2, n, d->m.cfg_scale, eps);
  else
    memcpy(eps, d->eps2, (size_t)n * sizeof *eps);
  return DG_OK;
}

dg_status dg_denoise(dg_denoiser *d, const dg_denoise_params *p, float *x_out) {
  int64_t n = d->numel;
  dg_sampler *sm;
  DG_TRY(dg_sampler_new(&p->sampler, n, &sm));
  float *buf = malloc((size_t)n * 2 * sizeof *buf);
  if (!buf) {
    dg_sampler_free(sm);
    return dg_memory_fail("the denoising loop's buffers", (uint64_t)n * 2 * sizeof *buf);
  }
  float *x = x_out, *eps = buf, *x0 = buf + n;
  if (p->x_T)
    memcpy(x, p->x_T, (size_t)n * sizeof *x);
  else
    dg_randn(p->sampler.seed, 0, (size_t)n, x);
  int total = dg_sampler_evaluations(&p->sampler);
  dg_status st = DG_OK;
  for (int i = 0; i < total && st == DG_OK; i++) {
    int t = dg_sampler_timestep(sm, i);
    if (p->pre_step) st = p->pre_step(p->pre_user, i, t, x);
    if (st == DG_OK) st = dg_denoiser_eps(d, x, t, eps);
    if (st == DG_OK) st = dg_sampler_step(sm, i, x, eps, x0);
    if (st == DG_OK && p->on_step) p->on_step(p->step_user, i, total, x, x0);
  }
  free(buf);
  dg_sampler_free(sm);
  return st;
}
