// The Attend-and-Excite and Divide & Bind losses of dg_guidance_loss and their gradients against torch
// autograd (tests/golden/grad/guidance_loss.safetensors, tools/train/dgtrain/make_fixture_guidance_loss.py,
// whose CASES this file mirrors): loss and indicator within 1e-5, the worst object the same, d loss / d avg
// (and d loss / d inter) within 1e-4 relative. Also a finite-difference check of one case and the
// refusal of tokens outside the prompt.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_guidance_loss.h"
#include "dg_test.h"
#include "golden_util.h"

typedef struct fixture_case {
  dg_guidance_kind kind;
  int h, w, n, n_obj;
  int tok[3][2], ntok[3], attr[3][1], nattr[3];
  float coef;
  bool inter;
} fixture_case;

static const fixture_case cases[] = {
    {DG_GUIDANCE_ATTEND_EXCITE, 8, 16, 6, 2, {{2}, {5}}, {1, 1}, {{0}}, {0, 0}, 1, false},
    {DG_GUIDANCE_DIVIDE_BIND, 8, 16, 6, 2, {{2}, {5}}, {1, 1}, {{0}}, {0, 0}, 1, false},
    {DG_GUIDANCE_DIVIDE_BIND, 8, 16, 7, 2, {{3, 4}, {7}}, {2, 1}, {{2}, {6}}, {1, 1}, 5, false},
    {DG_GUIDANCE_DIVIDE_BIND, 16, 16, 9, 3, {{3}, {6}, {9}}, {1, 1, 1}, {{2}, {0}, {8}}, {1, 0, 1}, 10, true},
    {DG_GUIDANCE_ATTEND_EXCITE, 16, 16, 4, 2, {{1, 2}, {4}}, {2, 1}, {{0}}, {0, 0}, 1, false},
};

static void terms_of(const fixture_case *c, dg_guidance_term *t) {
  for (int o = 0; o < c->n_obj; o++)
    t[o] = (dg_guidance_term){c->tok[o], c->ntok[o], c->nattr[o] ? c->attr[o] : NULL, c->nattr[o]};
}

static void check_case(const dg_safetensors *st, int i) {
  const fixture_case *c = &cases[i];
  char name[32], what[64];
  int64_t n;
  snprintf(name, sizeof name, "avg.%d", i);
  float *avg = golden_read(st, name, &n);
  float *inter = NULL;
  if (c->inter) {
    snprintf(name, sizeof name, "inter.%d", i);
    inter = golden_read(st, name, &n);
  }
  snprintf(name, sizeof name, "eval.%d", i);
  float *ev = golden_read(st, name, &n);
  float *davg = malloc((size_t)c->h * c->w * c->n * sizeof *davg);
  float *dinter = malloc((size_t)c->h * c->w * c->n * sizeof *dinter);
  dg_guidance_term t[3];
  terms_of(c, t);
  dg_guidance_eval e;
  snprintf(what, sizeof what, "case %d %s", i, dg_guidance_name(c->kind));
  if (dg_test_ok(dg_guidance_loss(c->kind, avg, inter, c->h, c->w, c->n, t, c->n_obj, c->coef, &e, davg, dinter), what)) {
    dg_check(fabs(e.loss - ev[0]) < 1e-5, "%s: loss %.7f, torch %.7f", what, e.loss, ev[0]);
    dg_check(fabs(e.indicator - ev[1]) < 1e-5, "%s: indicator %.7f, torch %.7f", what, e.indicator, ev[1]);
    dg_check(e.worst == (int)ev[2], "%s: worst object %d, torch %d", what, e.worst, (int)ev[2]);
    snprintf(name, sizeof name, "davg.%d", i);
    golden_check_host(what, davg, st, name, 1e-4);
    if (c->inter) {
      snprintf(name, sizeof name, "dinter.%d", i);
      golden_check_host(what, dinter, st, name, 1e-4);
    }
  }
  free(avg), free(inter), free(ev), free(davg), free(dinter);
}

// Central differences of the loss along a few coordinates of avg against the analytic gradient.
static void finite_differences(const dg_safetensors *st) {
  const fixture_case *c = &cases[2];
  int64_t n;
  float *avg = golden_read(st, "avg.2", &n);
  float *g = malloc((size_t)n * sizeof *g);
  dg_guidance_term t[3];
  terms_of(c, t);
  dg_guidance_eval e, ep, em;
  dg_guidance_loss(c->kind, avg, NULL, c->h, c->w, c->n, t, c->n_obj, c->coef, &e, g, NULL);
  int checked = 0;
  double worst = 0;
  for (int64_t i = 0; i < n && checked < 40; i += 7) {
    if (fabsf(g[i]) < 1e-3f) continue;
    float v = avg[i], h = 1e-4f;
    avg[i] = v + h;
    dg_guidance_loss(c->kind, avg, NULL, c->h, c->w, c->n, t, c->n_obj, c->coef, &ep, NULL, NULL);
    avg[i] = v - h;
    dg_guidance_loss(c->kind, avg, NULL, c->h, c->w, c->n, t, c->n_obj, c->coef, &em, NULL, NULL);
    avg[i] = v;
    double fd = (ep.loss - em.loss) / (2.0 * h), err = fabs(fd - g[i]) / fmax(fabs(g[i]), 1e-2);
    worst = err > worst ? err : worst;
    checked++;
  }
  dg_check(checked >= 10 && worst < 5e-2, "finite differences: %d coordinates, worst relative error %.3g", checked,
           worst);
  free(avg), free(g);
}

// The methods' schedule on PLMS 50 (51 evaluations) and its scaling to DDIM 25.
static void schedule(void) {
  dg_guidance_schedule s;
  dg_guidance_schedule_for(DG_GUIDANCE_DIVIDE_BIND, 51, &s);
  dg_check(s.max_alter == 25 && s.refine_at[1] == 10 && s.refine_at[2] == 20 && s.caps[0] == 20 && s.caps[1] == 20 &&
               s.thresholds[0] == 0.05f && s.thresholds[1] == 0.2f && s.thresholds[2] == 0.3f && s.coefs[2] == 10,
           "D&B on 51 evaluations: updates before 25, refinement at 0/10/20 (caps 20/20/20, thresholds 0.05/0.2/0.3)");
  dg_guidance_schedule_for(DG_GUIDANCE_ATTEND_EXCITE, 51, &s);
  dg_check(s.caps[0] == 20 && s.thresholds[1] == 0.5f && s.thresholds[2] == 0.8f, "A&E: cap 20, thresholds .05/.5/.8");
  dg_guidance_schedule_for(DG_GUIDANCE_DIVIDE_BIND, 25, &s);
  dg_check(s.max_alter == 12 && s.refine_at[1] == 5 && s.refine_at[2] == 10 && s.caps[0] == 10 && s.caps[1] == 10,
           "D&B on 25: updates before 12, refinement at 0/5/10, caps 10/10 (got %d, %d/%d, %d/%d)", s.max_alter,
           s.refine_at[1], s.refine_at[2], s.caps[0], s.caps[1]);
  dg_check(fabsf(dg_guidance_step_size(0, 51) - 20) < 1e-5f && fabsf(dg_guidance_step_size(50, 51) - 14.1421f) < 1e-3f &&
               fabsf(dg_guidance_step_size(10, 51) - 18.9737f) < 1e-3f,
           "step size 20 sqrt(linspace(1, 0.5)): 20 at 0, 18.97 at 10, 14.14 at the end");
  dg_guidance_kind k;
  dg_check(dg_guidance_parse("divide-bind", &k) == DG_OK && k == DG_GUIDANCE_DIVIDE_BIND &&
               dg_guidance_parse(NULL, &k) == DG_OK && k == DG_GUIDANCE_NONE,
           "guidance names parse");
  dg_check_error(dg_guidance_parse("divide", &k), DG_ERR_ARG, "'divide'", "an unknown guidance is refused by name");
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_guidance_loss");
  dg_safetensors *st = golden_open("guidance_loss.safetensors");
  if (!st) return dg_test_finish();
  for (int i = 0; i < (int)(sizeof cases / sizeof *cases); i++)
    check_case(st, i);
  finite_differences(st);
  schedule();
  float avg[4 * 2] = {0};
  int bad = 3;
  dg_guidance_term t = {&bad, 1, NULL, 0};
  dg_guidance_eval e;
  dg_check_error(dg_guidance_loss(DG_GUIDANCE_DIVIDE_BIND, avg, NULL, 2, 2, 2, &t, 1, 1, &e, NULL, NULL), DG_ERR_ARG,
                 "token 3", "a token past the prompt is refused");
  dg_safetensors_close(st);
  return dg_test_finish();
}
