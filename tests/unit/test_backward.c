// The backward ops (dg_backward.h) against their CPU references in f32 and f16 storage, and each
// CPU reference against central finite differences of the forward reference (loss = sum(R * f(x))
// with random R, so the reference's dx with dy = R is the loss gradient).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_backward.h"
#include "dg_ref.h"
#include "dg_test.h"

// ---- finite differences of a loss through the forward references ----

typedef double (*loss_fn)(void *ctx, const float *x);

// Checks grad (the reference backward) at 12 random elements of x against central differences.
static void fd_check(const char *what, loss_fn f, void *ctx, float *x, int64_t n, const float *grad) {
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(grad[i]));
  for (int t = 0; t < 12; t++) {
    int64_t i = dg_test_int(0, (int)n - 1);
    float keep = x[i], h = 1e-2f;
    x[i] = keep + h;
    double lp = f(ctx, x);
    x[i] = keep - h;
    double lm = f(ctx, x);
    x[i] = keep;
    double fd = (lp - lm) / (2.0 * ((double)(keep + h) - (double)keep));
    worst = fmax(worst, fabs(fd - grad[i]));
  }
  char name[160];
  snprintf(name, sizeof name, "%s: reference vs finite differences", what);
  dg_check(worst <= 1e-2 * scale + 1e-3, "%s: error %.3g (largest gradient %.3g)", name, worst, scale);
}

static double dot(const float *a, const float *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

static float *rnd(int64_t n, float lo, float hi) {
  float *p = malloc((size_t)n * sizeof *p);
  for (int64_t i = 0; i < n; i++) p[i] = dg_test_uniform(lo, hi);
  return p;
}

// Compares a GPU result with the reference and frees both.
static void compare(const char *what, dg_dtype dt, const dg_tensor *got_t, float *want, int64_t n) {
  float *got = dg_test_read(got_t);
  char name[160];
  snprintf(name, sizeof name, "%s %s", what, dg_dtype_name(dt));
  dg_test_close(name, got, want, n, dg_dtype_size(dt) == 2 ? 2e-2 : 1e-4);
  free(got);
  free(want);
}

// ---- conv2d ----

typedef struct conv_case {
  int64_t n, ci, h, w, co, k, ho, wo;
  int s, p;
  const float *wt, *r;
} conv_case;

static double conv_loss(void *ctx, const float *x) {
  conv_case *c = ctx;
  int64_t ny = c->n * c->co * c->ho * c->wo;
  float *y = malloc((size_t)ny * sizeof *y);
  dg_ref_conv2d(x, c->wt, NULL, c->n, c->ci, c->h, c->w, c->co, c->k, c->k, c->s, c->s, c->p, c->p, 1, y);
  double l = dot(y, c->r, ny);
  free(y);
  return l;
}

static void check_conv(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t k, int s, int p) {
  conv_case c = {n, ci, h, w, co, k, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1, s, p, NULL, NULL};
  int64_t xs[4] = {n, ci, h, w}, ws[4] = {co, ci, k, k}, ys[4] = {n, co, c.ho, c.wo};
  int64_t nx = n * ci * h * w;
  char what[128];
  snprintf(what, sizeof what, "conv2d_backward [%lld,%lld,%lld,%lld] k%lld s%d p%d", (long long)n, (long long)ci,
           (long long)h, (long long)w, (long long)k, s, p);
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    float *hw, *hdy;
    dg_tensor tw = dg_test_tensor(dt, 4, ws, -1, 1, &hw), tdy = dg_test_tensor(dt, 4, ys, -1, 1, &hdy);
    dg_tensor tdx = dg_test_poisoned(dt, 4, xs);
    dg_conv2d_params pr = {.stride_h = s, .stride_w = s, .pad_h = p, .pad_w = p};
    float *want = malloc((size_t)nx * sizeof *want);
    dg_ref_conv2d_backward(hdy, hw, n, ci, h, w, co, c.ho, c.wo, k, k, s, s, p, p, want);
    if (dg_test_ok(dg_conv2d_backward(T.stream, &tdy, &tw, &pr, &tdx), what)) compare(what, dt, &tdx, want, nx);
    else free(want);
    if (!d) { // the reference against finite differences
      float *x = rnd(nx, -1, 1), *g = malloc((size_t)nx * sizeof *g);
      c.wt = hw;
      c.r = hdy;
      dg_ref_conv2d_backward(hdy, hw, n, ci, h, w, co, c.ho, c.wo, k, k, s, s, p, p, g);
      fd_check(what, conv_loss, &c, x, nx, g);
      free(x);
      free(g);
    }
    free(hw);
    free(hdy);
  }
}

// ---- group norm and layer norm ----

typedef struct norm_case {
  int64_t n, c, hw;
  int groups; // 0: layer norm over rows n of c
  bool silu;
  const float *g, *b, *r;
} norm_case;

static double norm_loss(void *ctx, const float *x) {
  norm_case *c = ctx;
  int64_t nx = c->n * c->c * c->hw;
  float *y = malloc((size_t)nx * sizeof *y);
  if (c->groups) dg_ref_group_norm(x, c->n, c->c, c->hw, c->groups, c->g, c->b, 1e-5f, c->silu, y);
  else {
    dg_ref_layer_norm(x, c->n, c->c, c->g, c->b, 1e-5f, y);
    if (c->silu) dg_ref_unary(DG_SILU, y, nx, 0, 0, y);
  }
  double l = dot(y, c->r, nx);
  free(y);
  return l;
}

static void check_norm(int64_t n, int64_t ch, int64_t hw, int groups, bool silu) {
  norm_case c = {n, ch, hw, groups, silu, NULL, NULL, NULL};
  int64_t xs[3] = {n, ch, hw}, cs[1] = {ch}, nx = n * ch * hw;
  char what[128];
  snprintf(what, sizeof what, "%s_backward [%lld,%lld,%lld] G=%d silu=%d", groups ? "group_norm" : "layer_norm",
           (long long)n, (long long)ch, (long long)hw, groups, silu);
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    float *hx, *hg, *hb, *hdy;
    float off = dg_test_uniform(-2, 2);
    dg_tensor tx = dg_test_tensor(dt, groups ? 3 : 2, xs, off - 2, off + 2, &hx);
    dg_tensor tdy = dg_test_tensor(dt, groups ? 3 : 2, xs, -1, 1, &hdy);
    dg_tensor tg = dg_test_tensor(dt, 1, cs, 0.5f, 1.5f, &hg), tb = dg_test_tensor(dt, 1, cs, -1, 1, &hb);
    dg_tensor tdx = dg_test_poisoned(dt, groups ? 3 : 2, xs);
    float *want = malloc((size_t)nx * sizeof *want);
    dg_status st;
    if (groups) {
      dg_ref_group_norm_backward(hx, hdy, n, ch, hw, groups, hg, hb, 1e-5f, silu, want);
      st = dg_group_norm_backward(T.stream, &tx, &tdy, groups, &tg, &tb, 1e-5f, silu, &tdx);
    } else {
      dg_ref_layer_norm_backward(hx, hdy, n, ch, hg, hb, 1e-5f, silu, want);
      st = dg_layer_norm_backward(T.stream, &tx, &tdy, &tg, &tb, 1e-5f, silu, &tdx);
    }
    if (dg_test_ok(st, what)) compare(what, dt, &tdx, want, nx);
    else free(want);
    if (!d) {
      float *g = malloc((size_t)nx * sizeof *g);
      c.g = hg, c.b = hb, c.r = hdy;
      if (groups) dg_ref_group_norm_backward(hx, hdy, n, ch, hw, groups, hg, hb, 1e-5f, silu, g);
      else dg_ref_layer_norm_backward(hx, hdy, n, ch, hg, hb, 1e-5f, silu, g);
      fd_check(what, norm_loss, &c, hx, nx, g);
      free(g);
    }
    free(hx);
    free(hg);
    free(hb);
    free(hdy);
  }
}

// ---- softmax (probabilities as output) ----

typedef struct softmax_case {
  int64_t rows, len;
  float scale;
  const float *r, *rc;
  const int *chosen;
  int n_chosen;
} softmax_case;

static double softmax_loss(void *ctx, const float *x) {
  softmax_case *c = ctx;
  int64_t n = c->rows * c->len;
  float *p = malloc((size_t)n * sizeof *p);
  dg_ref_softmax(x, c->rows, c->len, c->scale, p);
  double l = c->r ? dot(p, c->r, n) : 0;
  for (int64_t i = 0; i < c->rows; i++)
    for (int k = 0; k < c->n_chosen; k++) l += (double)p[i * c->len + c->chosen[k]] * c->rc[i * c->n_chosen + k];
  free(p);
  return l;
}

static void check_softmax(int64_t rows, int64_t len, float scale, bool with_dp, int n_chosen) {
  int chosen[80], first = n_chosen ? dg_test_int(0, (int)len - n_chosen) : 0; // a range of columns
  for (int k = 0; k < n_chosen; k++) chosen[k] = first + k;
  softmax_case c = {rows, len, scale, NULL, NULL, chosen, n_chosen};
  int64_t s2[2] = {rows, len}, sc[2] = {rows, n_chosen > 0 ? n_chosen : 1}, n = rows * len;
  char what[128];
  snprintf(what, sizeof what, "softmax_backward [%lld,%lld] dp=%d chosen=%d", (long long)rows, (long long)len,
           with_dp, n_chosen);
  float *hx = rnd(n, -3, 3);
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    float *hp = malloc((size_t)n * sizeof *hp), *hdp = NULL, *hgc = NULL;
    dg_ref_softmax(hx, rows, len, scale, hp);
    dg_tensor tp, tdp, tgc, tds = dg_test_poisoned(dt, 2, s2);
    tp = dg_test_tensor(dt, 2, s2, 0, 0, NULL);
    dg_tensor_write_f32(&tp, hp);
    float *stored = dg_test_read(&tp); // P as stored (f16 rounding)
    if (with_dp) tdp = dg_test_tensor(dt, 2, s2, -1, 1, &hdp);
    if (n_chosen) tgc = dg_test_tensor(dt, 2, sc, -1, 1, &hgc);
    float *want = malloc((size_t)n * sizeof *want);
    dg_ref_softmax_backward(stored, hdp, hgc, chosen, n_chosen, rows, len, scale, want);
    if (dg_test_ok(dg_softmax_backward(T.stream, &tp, with_dp ? &tdp : NULL, n_chosen ? &tgc : NULL, first, n_chosen,
                                       scale, &tds),
                   what))
      compare(what, dt, &tds, want, n);
    else free(want);
    if (!d) {
      float *g = malloc((size_t)n * sizeof *g);
      c.r = hdp, c.rc = hgc;
      dg_ref_softmax_backward(hp, hdp, hgc, chosen, n_chosen, rows, len, scale, g);
      fd_check(what, softmax_loss, &c, hx, n, g);
      free(g);
    }
    free(stored);
    free(hp);
    free(hdp);
    free(hgc);
  }
  free(hx);
}

// ---- GEGLU ----

typedef struct geglu_case {
  int64_t rows, f;
  const float *r;
} geglu_case;

static double geglu_loss(void *ctx, const float *x) {
  geglu_case *c = ctx;
  float *y = malloc((size_t)(c->rows * c->f) * sizeof *y);
  dg_ref_geglu(x, c->rows, c->f, y);
  double l = dot(y, c->r, c->rows * c->f);
  free(y);
  return l;
}

static void check_geglu(int64_t rows, int64_t f) {
  int64_t xs[2] = {rows, 2 * f}, ys[2] = {rows, f};
  char what[96];
  snprintf(what, sizeof what, "geglu_backward [%lld,%lld]", (long long)rows, (long long)f);
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    float *hx, *hdy;
    dg_tensor tx = dg_test_tensor(dt, 2, xs, -3, 3, &hx), tdy = dg_test_tensor(dt, 2, ys, -1, 1, &hdy);
    dg_tensor tdx = dg_test_poisoned(dt, 2, xs);
    float *want = malloc((size_t)(2 * rows * f) * sizeof *want);
    dg_ref_geglu_backward(hx, hdy, rows, f, want);
    if (dg_test_ok(dg_geglu_backward(T.stream, &tx, &tdy, &tdx), what)) compare(what, dt, &tdx, want, 2 * rows * f);
    else free(want);
    if (!d) {
      geglu_case c = {rows, f, hdy};
      float *g = malloc((size_t)(2 * rows * f) * sizeof *g);
      dg_ref_geglu_backward(hx, hdy, rows, f, g);
      fd_check(what, geglu_loss, &c, hx, 2 * rows * f, g);
      free(g);
    }
    free(hx);
    free(hdy);
  }
}

// ---- attention ----

typedef struct attn_case {
  int64_t n, lq, lk, d;
  int heads, n_chosen, which; // which: 0 q, 1 k, 2 v is the variable
  const int *chosen;
  const float *q, *k, *v, *ro, *rp;
} attn_case;

static double attn_loss(void *ctx, const float *x) {
  attn_case *c = ctx;
  int64_t w = c->heads * c->d, no = c->n * c->lq * w, np = c->n * c->heads * c->lq * c->n_chosen;
  float *o = malloc((size_t)no * sizeof *o), *p = malloc((size_t)(np ? np : 1) * sizeof *p);
  dg_ref_attention(c->which == 0 ? x : c->q, c->which == 1 ? x : c->k, c->which == 2 ? x : c->v, c->n, c->lq, c->lk,
                   c->heads, c->d, 1.0f / sqrtf((float)c->d), NULL, false, false, c->chosen, c->n_chosen, p, o);
  double l = (c->ro ? dot(o, c->ro, no) : 0) + (c->rp ? dot(p, c->rp, np) : 0);
  free(o);
  free(p);
  return l;
}

static void check_attention(int64_t n, int64_t lq, int64_t lk, int heads, int64_t d, bool self, bool with_do,
                            int n_chosen) {
  int chosen[80], first = n_chosen ? dg_test_int(0, (int)lk - n_chosen) : 0; // a range of keys
  for (int k = 0; k < n_chosen; k++) chosen[k] = first + k;
  int64_t w = heads * d, qs[3] = {n, lq, w}, ks[3] = {n, lk, w}, ps[3] = {n * heads, lq, n_chosen ? n_chosen : 1};
  int64_t nq = n * lq * w, nk = n * lk * w;
  char what[160];
  snprintf(what, sizeof what, "attention_backward n%lld lq%lld lk%lld h%d d%lld dk/dv=%d dO=%d chosen=%d",
           (long long)n, (long long)lq, (long long)lk, heads, (long long)d, self, with_do, n_chosen);
  for (int dd = 0; dd < 2; dd++) {
    dg_dtype dt = dd ? DG_F16 : DG_F32;
    float *hq, *hk, *hv, *hdo = NULL, *hgp = NULL;
    dg_tensor tq = dg_test_tensor(dt, 3, qs, -1, 1, &hq), tk = dg_test_tensor(dt, 3, ks, -1, 1, &hk);
    dg_tensor tv = dg_test_tensor(dt, 3, ks, -1, 1, &hv), tdo, tgp;
    if (with_do) tdo = dg_test_tensor(dt, 3, qs, -1, 1, &hdo);
    if (n_chosen) tgp = dg_test_tensor(dt, 3, ps, -1, 1, &hgp);
    dg_tensor dq = dg_test_poisoned(dt, 3, qs), dk = dg_test_poisoned(dt, 3, ks), dv = dg_test_poisoned(dt, 3, ks);
    float *wq = malloc((size_t)nq * sizeof *wq), *wk = malloc((size_t)nk * sizeof *wk), *wv = malloc((size_t)nk * sizeof *wv);
    float scale = 1.0f / sqrtf((float)d);
    dg_ref_attention_backward(hq, hk, hv, hdo, hgp, chosen, n_chosen, n, lq, lk, heads, d, scale, wq,
                              self ? wk : NULL, self ? wv : NULL);
    dg_attention_grad_args a = {.heads = heads, .d_out = with_do ? &tdo : NULL, .gprobs = n_chosen ? &tgp : NULL,
                                .chosen_first = first, .n_chosen = n_chosen};
    if (dg_test_ok(dg_attention_backward(T.stream, T.arena, &tq, &tk, &tv, &a, &dq, self ? &dk : NULL, self ? &dv : NULL),
                   what)) {
      char sub[200];
      snprintf(sub, sizeof sub, "%s dq", what);
      compare(sub, dt, &dq, wq, nq);
      wq = NULL;
      if (self) {
        snprintf(sub, sizeof sub, "%s dk", what);
        compare(sub, dt, &dk, wk, nk);
        snprintf(sub, sizeof sub, "%s dv", what);
        compare(sub, dt, &dv, wv, nk);
        wk = wv = NULL;
      }
    }
    if (!dd) {
      float *gq = malloc((size_t)nq * sizeof *gq), *gk = malloc((size_t)nk * sizeof *gk), *gv = malloc((size_t)nk * sizeof *gv);
      dg_ref_attention_backward(hq, hk, hv, hdo, hgp, chosen, n_chosen, n, lq, lk, heads, d, scale, gq,
                                with_do ? gk : NULL, with_do ? gv : NULL);
      attn_case c = {n, lq, lk, d, heads, n_chosen, 0, chosen, hq, hk, hv, hdo, hgp};
      char sub[200];
      snprintf(sub, sizeof sub, "%s dq", what);
      fd_check(sub, attn_loss, &c, hq, nq, gq);
      if (with_do) {
        c.which = 1;
        snprintf(sub, sizeof sub, "%s dk", what);
        fd_check(sub, attn_loss, &c, hk, nk, gk);
        c.which = 2;
        snprintf(sub, sizeof sub, "%s dv", what);
        fd_check(sub, attn_loss, &c, hv, nk, gv);
      }
      free(gq);
      free(gk);
      free(gv);
    }
    free(wq);
    free(wk);
    free(wv);
    free(hq);
    free(hk);
    free(hv);
    free(hdo);
    free(hgp);
  }
}

int main(void) {
  dg_test_init("test_backward");
  check_conv(2, 3, 7, 9, 5, 3, 1, 1);
  check_conv(1, 4, 8, 6, 3, 3, 2, 1); // the UNet's downsampling
  check_conv(1, 6, 5, 5, 4, 1, 1, 0); // 1x1
  check_conv(1, 2, 9, 7, 3, 3, 2, 0);
  check_norm(2, 8, 13, 4, true);
  check_norm(1, 64, 20, 32, false);
  check_norm(17, 40, 1, 0, false);
  check_norm(5, 24, 1, 0, true);
  check_softmax(9, 37, 0.7f, true, 0);
  check_softmax(6, 21, 1.0f, false, 3);
  check_softmax(4, 77, 0.125f, true, 5);
  check_softmax(3, 77, 0.125f, false, 40); // a long prompt's tokens
  check_geglu(7, 13);
  check_geglu(3, 64);
  check_attention(1, 12, 12, 2, 8, true, true, 0);  // self-attention
  check_attention(2, 10, 7, 2, 4, false, true, 3);  // cross-attention with captured probabilities
  check_attention(1, 9, 5, 1, 6, false, false, 2);  // the loss reads only the probabilities
  check_attention(2, 96, 80, 4, 8, true, true, 0);  // split run: scores of one head per binding
  check_attention(1, 96, 77, 3, 8, false, true, 4);
  check_attention(1, 16, 77, 2, 8, false, false, 30); // a long prompt's tokens
  dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  int64_t s4[4] = {1, 2, 4, 4}, w4[4] = {3, 2, 3, 3}, y4[4] = {1, 3, 4, 4};
  dg_tensor dy = dg_test_tensor(DG_F32, 4, y4, 0, 1, NULL), w = dg_test_tensor(DG_F32, 4, w4, 0, 1, NULL);
  dg_tensor dx = dg_test_poisoned(DG_F32, 4, s4);
  dg_check_error(dg_conv2d_backward(T.stream, &dy, &w, NULL, &dx), DG_ERR_ARG, "conv", "conv shapes (no padding)");
  dg_check_error(dg_softmax_backward(T.stream, &dy, NULL, NULL, 0, 0, 1, &dx), DG_ERR_ARG, "neither",
                 "softmax without gradients");
  return dg_test_finish();
}
