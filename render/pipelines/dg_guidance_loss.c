#include "dg_guidance_loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_attn_maps.h"
#include "dg_memory.h"

// softmax(100 avg) over the n tokens of each pixel: soft [n, hw].
static void token_softmax(const float *avg, int hw, int n, double *soft) {
  for (int p = 0; p < hw; p++) {
    const float *row = avg + (size_t)p * n;
    double mx = row[0], sum = 0;
    for (int j = 1; j < n; j++)
      mx = row[j] > mx ? row[j] : mx;
    for (int j = 0; j < n; j++)
      sum += exp(100.0 * (row[j] - mx));
    for (int j = 0; j < n; j++)
      soft[(size_t)j * hw + p] = exp(100.0 * (row[j] - mx)) / sum;
  }
}

// The 3x3 smoothing (reflect padding) of one map, and its adjoint (accumulating into din).
static void smooth(const double *in, int h, int w, const float k[3], double *out) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double acc = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
          acc += (double)k[dy + 1] * k[dx + 1] *
                 in[dg_attn_maps_reflect(y + dy, h) * w + dg_attn_maps_reflect(x + dx, w)];
      out[y * w + x] = acc;
    }
}
static void smooth_adjoint(const double *dout, int h, int w, const float k[3], double *din) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
          din[dg_attn_maps_reflect(y + dy, h) * w + dg_attn_maps_reflect(x + dx, w)] +=
              (double)k[dy + 1] * k[dx + 1] * dout[y * w + x];
}

// A word's map: the mean of its tokens' smoothed maps (sm [n, hw]); and the adjoint into dsm.
static void word_map(const double *sm, int hw, const int *tok, int nt, double *out) {
  memset(out, 0, (size_t)hw * sizeof *out);
  for (int i = 0; i < nt; i++)
    for (int p = 0; p < hw; p++)
      out[p] += sm[(size_t)(tok[i] - 1) * hw + p] / nt;
}
static void word_adjoint(const double *d, int hw, const int *tok, int nt, double *dsm) {
  for (int i = 0; i < nt; i++)
    for (int p = 0; p < hw; p++)
      dsm[(size_t)(tok[i] - 1) * hw + p] += d[p] / nt;
}

static int argmax(const double *v, int n) {
  int a = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[a]) a = i;
  return a;
}

static double sign(double v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }

// TV of S [h, w]; dS += g * d TV / d S.
static double tv(const double *s, int h, int w, double g, double *ds) {
  double a = 0, b = 0;
  int na = h * (w - 1), nb = (h - 1) * w;
  for (int y = 0; y < h; y++)
    for (int x = 0; x + 1 < w; x++) {
      double d = s[y * w + x] - s[y * w + x + 1];
      a += fabs(d);
      if (ds) ds[y * w + x] += g * sign(d) / na, ds[y * w + x + 1] -= g * sign(d) / na;
    }
  for (int y = 0; y + 1 < h; y++)
    for (int x = 0; x < w; x++) {
      double d = s[y * w + x] - s[(y + 1) * w + x];
      b += fabs(d);
      if (ds) ds[y * w + x] += g * sign(d) / nb, ds[(y + 1) * w + x] -= g * sign(d) / nb;
    }
  return (na ? a / na : 0) + (nb ? b / nb : 0);
}

// softmax over the n values of v into p.
static void softmax(const double *v, int n, double *p) {
  double mx = v[argmax(v, n)], sum = 0;
  for (int i = 0; i < n; i++)
    sum += p[i] = exp(v[i] - mx);
  for (int i = 0; i < n; i++)
    p[i] /= sum;
}
// dv += softmax backward of dp at p.
static void softmax_adjoint(const double *p, const double *dp, int n, double *dv) {
  double dot = 0;
  for (int i = 0; i < n; i++)
    dot += p[i] * dp[i];
  for (int i = 0; i < n; i++)
    dv[i] += p[i] * (dp[i] - dot);
}

// JSD of the reference's bind term between object map s and attribute map c (hw pixels); with g != 0,
// ds += g dJSD/ds and dc += g dJSD/dc. work: 8 hw doubles.
static double jsd(const double *s, const double *c, int hw, double k, double g, double *ds, double *dc, double *work) {
  double *cr = work, *p = work + hw, *q = work + 2 * hw, *pp = work + 3 * hw, *qq = work + 4 * hw;
  double *dp = work + 5 * hw, *dq = work + 6 * hw, *dcr = work + 7 * hw;
  int as = argmax(s, hw), ac = argmax(c, hw);
  double ms = s[as], mc = c[ac] > 0 ? c[ac] : 1e-30;
  for (int i = 0; i < hw; i++)
    cr[i] = c[i] / mc * ms;
  softmax(s, hw, p);
  softmax(cr, hw, q);
  int ap = argmax(p, hw);
  double t = k * p[ap], j = 0;
  for (int i = 0; i < hw; i++) {
    pp[i] = (p[i] > t ? p[i] - t : 0) + 1e-5;
    qq[i] = (q[i] > t ? q[i] - t : 0) + 1e-5;
    double m = 0.5 * (pp[i] + qq[i]);
    j += 0.5 * (pp[i] * log(pp[i] / m) + qq[i] * log(qq[i] / m));
  }
  if (g == 0) return j;
  double dt = 0;
  for (int i = 0; i < hw; i++) {
    double m = 0.5 * (pp[i] + qq[i]);
    double dpp = g * 0.5 * log(pp[i] / m), dqq = g * 0.5 * log(qq[i] / m);
    dp[i] = p[i] > t ? dpp : 0;
    dq[i] = q[i] > t ? dqq : 0;
    dt -= dp[i] + dq[i];
  }
  dp[ap] += k * dt; // t = k max(p)
  memset(dcr, 0, (size_t)hw * sizeof *dcr);
  softmax_adjoint(p, dp, hw, ds);
  softmax_adjoint(q, dq, hw, dcr);
  double dms = 0, dmc = 0; // cr = c ms / mc
  for (int i = 0; i < hw; i++) {
    dc[i] += dcr[i] * ms / mc;
    dms += dcr[i] * c[i] / mc;
    dmc -= dcr[i] * c[i] * ms / (mc * mc);
  }
  ds[as] += dms;
  dc[ac] += dmc;
  return j;
}

// davg [hw, n] = d/d avg of dsm [n, hw] through smoothing and the token softmax at soft.
static void maps_adjoint(const double *soft, double *dsm, int h, int w, int n, const float k[3], double *dsoft,
                         float *davg) {
  int hw = h * w;
  memset(dsoft, 0, (size_t)n * hw * sizeof *dsoft);
  for (int j = 0; j < n; j++)
    smooth_adjoint(dsm + (size_t)j * hw, h, w, k, dsoft + (size_t)j * hw);
  for (int p = 0; p < hw; p++) {
    double dot = 0;
    for (int j = 0; j < n; j++)
      dot += soft[(size_t)j * hw + p] * dsoft[(size_t)j * hw + p];
    for (int j = 0; j < n; j++)
      davg[(size_t)p * n + j] = (float)(100.0 * soft[(size_t)j * hw + p] * (dsoft[(size_t)j * hw + p] - dot));
  }
}

dg_status dg_guidance_loss(dg_guidance_kind kind, const float *avg, const float *inter, int h, int w, int n,
                           const dg_guidance_term *terms, int n_terms, float coef, dg_guidance_eval *out,
                           float *davg, float *dinter) {
  *out = (dg_guidance_eval){0};
  if (kind == DG_GUIDANCE_NONE || n_terms < 1) return dg_fail(DG_ERR_ARG, "guidance loss: no objects");
  for (int o = 0; o < n_terms; o++) {
    const dg_guidance_term *t = &terms[o];
    for (int i = 0; i < t->n_tokens + (t->attr_tokens ? t->n_attr_tokens : 0); i++) {
      int tok = i < t->n_tokens ? t->tokens[i] : t->attr_tokens[i - t->n_tokens];
      if (tok < 1 || tok > n) return dg_fail(DG_ERR_ARG, "guidance loss: token %d outside the prompt's 1..%d", tok, n);
    }
    if (t->n_tokens < 1) return dg_fail(DG_ERR_ARG, "guidance loss: object %d has no tokens", o);
  }
  int hw = h * w;
  bool bind = kind == DG_GUIDANCE_DIVIDE_BIND;
  // soft, sm (and isoft, ism for the attribute maps), dsm, dism, word maps and their gradients, work, dsoft
  size_t nd = (size_t)n * hw * 7 + (size_t)hw * 12;
  double *buf = malloc(nd * sizeof *buf);
  if (!buf) return dg_memory_fail("the guidance loss", nd * sizeof *buf);
  double *soft = buf, *sm = soft + (size_t)n * hw, *isoft = sm + (size_t)n * hw, *ism = isoft + (size_t)n * hw;
  double *dsm = ism + (size_t)n * hw, *dism = dsm + (size_t)n * hw, *s = dism + (size_t)n * hw, *c = s + hw;
  double *dS = c + hw, *dC = dS + hw, *work = dC + hw, *dsoft = work + 8 * hw; // work: 8 hw
  float k[3];
  dg_attn_maps_kernel(0.5f, k);
  token_softmax(avg, hw, n, soft);
  for (int j = 0; j < n; j++)
    smooth(soft + (size_t)j * hw, h, w, k, sm + (size_t)j * hw);
  if (bind && inter) {
    token_softmax(inter, hw, n, isoft);
    for (int j = 0; j < n; j++)
      smooth(isoft + (size_t)j * hw, h, w, k, ism + (size_t)j * hw);
  }
  const double *attr_sm = bind && inter ? ism : sm;
  // Forward: each object's term; the loss is the worst.
  double worst = -INFINITY, indicator = INFINITY;
  int wo = 0;
  for (int o = 0; o < n_terms; o++) {
    const dg_guidance_term *t = &terms[o];
    word_map(sm, hw, t->tokens, t->n_tokens, s);
    double l, ind;
    if (bind) {
      double v = ind = tv(s, h, w, 0, NULL);
      if (t->attr_tokens && t->n_attr_tokens) {
        word_map(attr_sm, hw, t->attr_tokens, t->n_attr_tokens, c);
        v -= coef * jsd(s, c, hw, ind < 0.1 ? 0.3 : 0.2, 0, NULL, NULL, work);
      }
      l = -v;
    } else {
      ind = s[argmax(s, hw)];
      l = ind < 1 ? 1 - ind : 0;
    }
    if (l > worst) worst = l, wo = o;
    if (ind < indicator) indicator = ind;
  }
  *out = (dg_guidance_eval){worst, indicator, wo};
  if (!davg) return free(buf), DG_OK;
  // Backward through the worst object's term.
  const dg_guidance_term *t = &terms[wo];
  memset(dsm, 0, (size_t)n * hw * 2 * sizeof *dsm);
  memset(dS, 0, (size_t)hw * 2 * sizeof *dS);
  word_map(sm, hw, t->tokens, t->n_tokens, s);
  if (bind) {
    double tvv = tv(s, h, w, -1, dS); // d(-TV)
    if (t->attr_tokens && t->n_attr_tokens) {
      word_map(attr_sm, hw, t->attr_tokens, t->n_attr_tokens, c);
      jsd(s, c, hw, tvv < 0.1 ? 0.3 : 0.2, coef, dS, dC, work);
      word_adjoint(dC, hw, t->attr_tokens, t->n_attr_tokens, inter ? dism : dsm);
    }
  } else if (worst > 0) {
    dS[argmax(s, hw)] = -1;
  }
  word_adjoint(dS, hw, t->tokens, t->n_tokens, dsm);
  maps_adjoint(soft, dsm, h, w, n, k, dsoft, davg);
  if (inter && dinter) {
    if (bind)
      maps_adjoint(isoft, dism, h, w, n, k, dsoft, dinter);
    else
      memset(dinter, 0, (size_t)hw * n * sizeof *dinter);
  }
  free(buf);
  return DG_OK;
}
