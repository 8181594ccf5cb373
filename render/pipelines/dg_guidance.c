#include "dg_guidance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_attn_maps.h"
#include "dg_controlnet.h"
#include "dg_guidance_loss.h"
#include "dg_memory.h"
#include "dg_unet_grad.h"

static const char *const names[] = {"none", "attend-excite", "divide-bind"};

const char *dg_guidance_name(dg_guidance_kind k) {
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "none";
}

dg_status dg_guidance_parse(const char *name, dg_guidance_kind *out) {
  *out = DG_GUIDANCE_NONE;
  if (!name || !*name) return DG_OK;
  for (unsigned k = 0; k < sizeof names / sizeof *names; k++)
    if (!strcmp(name, names[k])) {
      *out = (dg_guidance_kind)k;
      return DG_OK;
    }
  return dg_fail(DG_ERR_ARG, "guidance '%s': expected none, attend-excite or divide-bind", name);
}

static int at_fraction(int tenths50, int evaluations) { return (tenths50 * evaluations + 25) / 50; }

void dg_guidance_schedule_for(dg_guidance_kind kind, int evaluations, dg_guidance_schedule *out) {
  bool ae = kind == DG_GUIDANCE_ATTEND_EXCITE;
  int e = evaluations;
  *out = (dg_guidance_schedule){
      .max_alter = e / 2,
      .refine_at = {0, at_fraction(10, e), at_fraction(20, e)},
      .thresholds = {0.05f, ae ? 0.5f : 0.2f, ae ? 0.8f : 0.3f},
      .coefs = {1, 5, 10},
  };
  // D&B's first cap is A&E's 20, not the reference's 50: on this CPU 50 (scaled) broke the 3x cost limit
  // whenever the indicator never reached its threshold (docs/evaluation.md).
  int caps50[3] = {20, 20, 20};
  for (int k = 0; k < 3; k++) {
    int c = (caps50[k] * e + 25) / 51;
    out->caps[k] = c < 1 ? 1 : c;
  }
}

float dg_guidance_step_size(int i, int evaluations) {
  double f = evaluations > 1 ? 1.0 - 0.5 * i / (evaluations - 1) : 1.0;
  return (float)(20.0 * sqrt(f));
}

#define MAX_ATTR_TOKENS 16

struct dg_guidance {
  dg_nn_ctx nn;
  dg_guidance_setup s;
  dg_guidance_schedule sched;
  dg_tape *tape;
  dg_tensor hint; // encoded, when a ControlNet
  int ds, mh, mw, n;
  uint64_t main_layers, finer_layers;
  dg_guidance_term terms[DG_MARKS_MAX];
  int attr_tokens[DG_MARKS_MAX][MAX_ATTR_TOKENS];
  int n_terms;
  float coef;
  float *avg, *inter, *davg, *dinter, *dz; // [mh*mw, n] x 4, the latent's gradient
  dg_guidance_eval eval;
  dg_guidance_stats stats;
};

void dg_guidance_free(dg_guidance *g) {
  if (!g) return;
  dg_tape_free(g->tape);
  free(g->avg), free(g->inter), free(g->davg), free(g->dinter), free(g->dz);
  free(g);
}

dg_status dg_guidance_new(const dg_nn_ctx *nn, const dg_guidance_setup *s, dg_guidance **out) {
  *out = NULL;
  if (s->kind == DG_GUIDANCE_NONE || !s->marks || s->marks->n_objects < 1)
    return dg_fail(DG_ERR_ARG, "guidance %s needs at least one marked object", dg_guidance_name(s->kind));
  if (s->n_prompt_tokens < 1)
    return dg_fail(DG_ERR_ARG, "guidance %s: the prompt has %d tokens (at least 1)", dg_guidance_name(s->kind),
                   s->n_prompt_tokens);
  dg_guidance *g = calloc(1, sizeof *g);
  if (!g) return dg_memory_fail("the guidance", sizeof *g);
  g->nn = (dg_nn_ctx){.s = nn->s, .scratch = nn->scratch, .dtype = nn->dtype};
  g->s = *s;
  g->n = s->n_prompt_tokens;
  dg_guidance_schedule_for(s->kind, s->evaluations, &g->sched);
  // Each object's term: its tokens, and those of the attributes bound to it (their maps averaged).
  const dg_marks *m = s->marks;
  for (int o = 0; o < m->n_objects; o++) {
    dg_guidance_term *t = &g->terms[o];
    *t = (dg_guidance_term){m->objects[o].tokens, m->objects[o].n_tokens, NULL, 0};
    for (int a = 0; a < m->n_attrs; a++)
      for (int k = 0; k < m->attrs[a].n_tokens && m->attr_object[a] == o && t->n_attr_tokens < MAX_ATTR_TOKENS; k++)
        g->attr_tokens[o][t->n_attr_tokens++] = m->attrs[a].tokens[k];
    if (t->n_attr_tokens) t->attr_tokens = g->attr_tokens[o];
  }
  g->n_terms = m->n_objects;
  dg_status st = dg_attn_maps_select(s->unet, s->lh, s->lw, &g->ds, &g->mh, &g->mw, &g->main_layers);
  if (st == DG_OK && s->kind == DG_GUIDANCE_DIVIDE_BIND && m->n_attrs) g->finer_layers = dg_attn_maps_finer(s->unet, g->ds);
  size_t maps = (size_t)g->mh * g->mw * g->n, latent = (size_t)s->unet->enc.cfg.in_channels * s->lh * s->lw;
  if (st == DG_OK) {
    g->avg = malloc(maps * sizeof *g->avg), g->inter = malloc(maps * sizeof *g->inter);
    g->davg = malloc(maps * sizeof *g->davg), g->dinter = malloc(maps * sizeof *g->dinter);
    g->dz = malloc(latent * sizeof *g->dz);
    if (!g->avg || !g->inter || !g->davg || !g->dinter || !g->dz)
      st = dg_memory_fail("the guidance's maps", (4 * maps + latent) * sizeof(float));
  }
  if (st == DG_OK) st = dg_tape_create(dg_arena_device(nn->scratch), &g->tape);
  if (st == DG_OK && s->control) st = dg_controlnet_hint(&g->nn, s->control, s->hint, &g->hint);
  if (st != DG_OK) {
    dg_guidance_free(g);
    return st;
  }
  *out = g;
  return DG_OK;
}

// The loss on the captured probabilities: averages them (main maps, and the finer ones nearest-sampled
// to the main size), evaluates dg_guidance_loss and spreads its gradient back over the captures.
static dg_status attn_loss(void *user, int nc, const dg_unet_attn_probs *caps) {
  dg_guidance *g = user;
  int hw = g->mh * g->mw, n = g->n;
  size_t maps = (size_t)hw * n;
  memset(g->avg, 0, maps * sizeof *g->avg);
  memset(g->inter, 0, maps * sizeof *g->inter);
  int main_count = 0, finer_count = 0;
  for (int pass = 0; pass < 2; pass++) // 0: sums; 1: gradients
    for (int c = 0; c < nc; c++) {
      const dg_unet_attn_probs *p = &caps[c];
      bool is_main = p->h == g->mh && p->w == g->mw;
      int r = (int)(p->h / g->mh);
      if (p->n_tokens != n || (!is_main && (r < 2 || p->h != (int64_t)g->mh * r || p->w != (int64_t)g->mw * r)))
        return dg_fail(DG_ERR_ARG, "guidance: transformer %d gives %lldx%lld maps of %d tokens, expected %dx%d "
                                   "(or a multiple) of %d", p->layer, (long long)p->h, (long long)p->w, p->n_tokens,
                       g->mh, g->mw, n);
      float *sum = is_main ? g->avg : g->inter;
      const float *grad = is_main ? g->davg : g->dinter;
      float scale = pass ? 1.0f / (float)(is_main ? main_count : finer_count) : 0;
      for (int64_t row = 0; row < p->rows; row++)
        for (int y = 0; y < g->mh; y++)
          for (int x = 0; x < g->mw; x++) {
            size_t src = ((size_t)row * p->h * p->w + (size_t)(y * r) * p->w + (size_t)(x * r)) * n;
            size_t dst = (size_t)(y * g->mw + x) * n;
            for (int j = 0; j < n; j++)
              if (pass)
                p->dprobs[src + j] = grad[dst + j] * scale;
              else
                sum[dst + j] += p->probs[src + j];
          }
      if (!pass) *(is_main ? &main_count : &finer_count) += (int)p->rows;
      if (pass || c + 1 < nc) continue;
      // all summed: the loss
      if (!main_count) return dg_fail(DG_ERR_ARG, "guidance: no cross-attention at %dx%d was captured", g->mh, g->mw);
      for (size_t i = 0; i < maps; i++) {
        g->avg[i] /= (float)main_count;
        if (finer_count) g->inter[i] /= (float)finer_count;
      }
      DG_TRY(dg_guidance_loss(g->s.kind, g->avg, finer_count ? g->inter : NULL, g->mh, g->mw, n, g->terms, g->n_terms,
                              g->coef, &g->eval, g->davg, finer_count ? g->dinter : NULL));
    }
  return DG_OK;
}

// eval and dz at latent x (host), timestep t.
static dg_status gradient(dg_guidance *g, int t, const float *x) {
  dg_arena_mark mark = dg_arena_get_mark(g->nn.scratch);
  int64_t zs[4] = {1, g->s.unet->enc.cfg.in_channels, g->s.lh, g->s.lw};
  float tv[1] = {(float)t};
  dg_tensor ctl[DG_UNET_MAX_BLOCKS + 1];
  const dg_tensor *ctlp[DG_UNET_MAX_BLOCKS + 1];
  dg_status st = DG_OK;
  if (g->s.control) {
    dg_tensor xt;
    st = dg_stream_finish(g->nn.s);
    if (st == DG_OK) st = dg_nn_alloc(&g->nn, 4, zs, &xt);
    if (st == DG_OK) {
      st = dg_tensor_write_f32(&xt, x);
    }
    if (st == DG_OK) {
      st = dg_controlnet_forward(&g->nn, g->s.control, &xt, &g->hint, tv, g->s.cond, g->s.control_scale, ctl);
    }
    for (int i = 0; i < dg_controlnet_num_outputs(g->s.control); i++)
      ctlp[i] = &ctl[i];
  }
  dg_unet_attn_grad_args a = {.first_token = 1, .n_tokens = g->n, .layers = g->main_layers | g->finer_layers,
                              .loss = attn_loss, .user = g, .control = g->s.control ? ctlp : NULL};
  if (st == DG_OK) st = dg_unet_attention_grad(&g->nn, g->tape, g->s.unet, x, zs, tv, g->s.cond, &a, g->dz, NULL);
  dg_stream_finish(g->nn.s);
  dg_arena_release(g->nn.scratch, mark);
  return st;
}

static void update(dg_guidance *g, float *x, float step, bool refinement) {
  if (getenv("DG_GUIDANCE_TRACE")) {
    int64_t n = (int64_t)g->s.unet->enc.cfg.in_channels * g->s.lh * g->s.lw;
    double ss = 0, xs = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)g->dz[i] * g->dz[i], xs += (double)x[i] * x[i];
    fprintf(stderr, "guidance: loss %.5f indicator %.5f worst %d |step dz| %.4g |x| %.4g%s\n", g->eval.loss,
            g->eval.indicator, g->eval.worst, step * sqrt(ss / n), sqrt(xs / n), refinement ? " (refinement)" : "");
  }
  if (g->eval.loss != 0) {
    int64_t n = (int64_t)g->s.unet->enc.cfg.in_channels * g->s.lh * g->s.lw;
    for (int64_t i = 0; i < n; i++)
      x[i] -= step * g->dz[i];
  }
  g->stats.updates++;
  g->stats.refinement_updates += refinement;
  g->stats.last_indicator = (float)g->eval.indicator;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

dg_status dg_guidance_pre_step(void *guidance, int i, int t, float *x) {
  dg_guidance *g = guidance;
  const dg_guidance_schedule *sc = &g->sched;
  if (i >= sc->max_alter) return DG_OK;
  double t0 = now_s();
  g->coef = i >= sc->refine_at[2] ? sc->coefs[2] : i >= sc->refine_at[1] ? sc->coefs[1] : sc->coefs[0];
  float step = dg_guidance_step_size(i, g->s.evaluations);
  dg_status st = gradient(g, t, x);
  for (int k = 0; k < 3 && st == DG_OK; k++) {
    if (i != sc->refine_at[k]) continue;
    // Iterative refinement: update until the indicator reaches the threshold or the cap.
    // It also stops when an iteration closes less than 1% of the gap to the threshold: a model whose
    // maps barely respond (the small default model) would spend every capped iteration for nothing.
    for (int it = 0; it < sc->caps[k] && g->eval.indicator < sc->thresholds[k] && st == DG_OK; it++) {
      double before = g->eval.indicator;
      update(g, x, step, true);
      st = gradient(g, t, x);
      if (st == DG_OK && g->eval.indicator - before < 0.01 * (sc->thresholds[k] - before)) break;
    }
    break;
  }
  if (st == DG_OK) update(g, x, step, false);
  g->stats.seconds += now_s() - t0;
  return st;
}

void dg_guidance_get_stats(const dg_guidance *g, dg_guidance_stats *out) { *out = g->stats; }
