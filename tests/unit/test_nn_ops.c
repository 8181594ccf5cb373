// The model-layer ops (dg_nn_ops.h) against their CPU references, f32 and f16, on random and odd
// shapes (causal attention, head dims not a multiple of 4), and their argument checks.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_nn_ops.h"
#include "dg_ref.h"
#include "dg_ref_nn.h"
#include "dg_test.h"

static void compare(const char *what, dg_dtype dt, const dg_tensor *got, const float *want) {
  float *g = dg_test_read(got);
  char w[128];
  snprintf(w, sizeof w, "%s %s", what, dg_dtype_name(dt));
  dg_test_close(w, g, want, dg_tensor_numel(got), dg_test_tolerance(dt));
  free(g);
}

static void check_attention(dg_dtype dt, int64_t n, int64_t lq, int64_t lk, int heads, int64_t d, bool causal) {
  int64_t qs[3] = {n, lq, heads * d}, ks[3] = {n, lk, heads * d};
  float *q, *k, *v, *want = malloc((size_t)(n * lq * heads * d) * sizeof *want);
  dg_tensor tq = dg_test_tensor(dt, 3, qs, -2, 2, &q), tk = dg_test_tensor(dt, 3, ks, -2, 2, &k),
            tv = dg_test_tensor(dt, 3, ks, -1, 1, &v), to = dg_test_poisoned(dt, 3, qs);
  float scale = 1.0f / sqrtf((float)d);
  if (dg_test_ok(dg_nn_attention(T.stream, &tq, &tk, &tv, heads, scale, causal, &to), "attention")) {
    dg_ref_attention(q, k, v, n, lq, lk, heads, d, scale, NULL, false, causal, NULL, 0, NULL, want);
    compare(causal ? "attention causal" : "attention", dt, &to, want);
  }
  free(q);
  free(k);
  free(v);
  free(want);
}

static void check_layout(dg_dtype dt) {
  int64_t a = dg_test_int(1, 3), b = dg_test_int(1, 20), c = dg_test_int(1, 20); // under 64 KiB (split run)
  int64_t s[3] = {a, b, c}, st[3] = {a, c, b};
  float *x, *want = malloc((size_t)(12 * a * (b + 2) * c) * sizeof *want);
  dg_tensor tx = dg_test_tensor(dt, 3, s, -1, 1, &x), to = dg_test_poisoned(dt, 3, st);
  if (dg_test_ok(dg_nn_transpose(T.stream, &tx, a, b, c, &to), "transpose")) {
    dg_ref_transpose(x, a, b, c, want);
    compare("transpose", dt, &to, want);
  }
  int64_t s4[4] = {a, b, c, 3}, u4[4] = {a, b, 2 * c, 6};
  dg_tensor x4 = dg_test_tensor(dt, 4, s4, -1, 1, NULL), u = dg_test_poisoned(dt, 4, u4);
  float *x4h = dg_test_read(&x4);
  if (dg_test_ok(dg_nn_upsample2x(T.stream, &x4, &u), "upsample2x")) {
    dg_ref_upsample2x(x4h, a * b, c, 3, want);
    compare("upsample2x", dt, &u, want);
  }
  // Concatenate two tensors along channels and take them apart again.
  int64_t s1[4] = {a, b, c, 3}, s2[4] = {a, 2, c, 3}, sc[4] = {a, b + 2, c, 3};
  float *p1, *p2;
  dg_tensor t1 = dg_test_tensor(dt, 4, s1, -1, 1, &p1), t2 = dg_test_tensor(dt, 4, s2, -1, 1, &p2);
  dg_tensor cat = dg_test_poisoned(dt, 4, sc), back = dg_test_poisoned(dt, 4, s2);
  dg_status st2 = dg_nn_put_channels(T.stream, &t1, 0, &cat);
  if (st2 == DG_OK) st2 = dg_nn_put_channels(T.stream, &t2, b, &cat);
  if (st2 == DG_OK) st2 = dg_nn_get_channels(T.stream, &cat, b, &back);
  if (dg_test_ok(st2, "channels")) {
    for (int64_t i = 0; i < a; i++) {
      memcpy(want + i * (b + 2) * c * 3, p1 + i * b * c * 3, (size_t)(b * c * 3) * sizeof *want);
      memcpy(want + i * (b + 2) * c * 3 + b * c * 3, p2 + i * 2 * c * 3, (size_t)(2 * c * 3) * sizeof *want);
    }
    compare("put_channels", dt, &cat, want);
    compare("get_channels", dt, &back, p2);
  }
  int64_t gs[2] = {b, 2 * c}, go[2] = {b, c};
  float *g;
  dg_tensor tg = dg_test_tensor(dt, 2, gs, -3, 3, &g), tgo = dg_test_poisoned(dt, 2, go);
  if (dg_test_ok(dg_nn_geglu(T.stream, &tg, &tgo), "geglu")) {
    dg_ref_geglu(g, b, c, want);
    compare("geglu", dt, &tgo, want);
  }
  int64_t es[2] = {b, c}, eo[2] = {7, c};
  float *e;
  dg_tensor te = dg_test_tensor(dt, 2, es, -1, 1, &e), teo = dg_test_poisoned(dt, 2, eo);
  uint32_t ids[7];
  for (int i = 0; i < 7; i++)
    ids[i] = (uint32_t)dg_test_int(0, (int)b - 1);
  if (dg_test_ok(dg_nn_embed(T.stream, T.arena, &te, ids, 7, &teo), "embed")) {
    for (int i = 0; i < 7; i++)
      memcpy(want + i * c, e + ids[i] * c, (size_t)c * sizeof *want);
    compare("embed", dt, &teo, want);
  }
  ids[3] = (uint32_t)b;
  dg_check_error(dg_nn_embed(T.stream, T.arena, &te, ids, 7, &teo), DG_ERR_ARG, "outside", "embed bad id");
  free(x);
  free(x4h);
  free(p1);
  free(p2);
  free(g);
  free(e);
  free(want);
}

int main(void) {
  dg_test_init("test_nn_ops");
  for (int d = 0; d < 2; d++) {
    dg_dtype dt = d ? DG_F16 : DG_F32;
    check_attention(dt, 2, dg_test_int(1, 40), dg_test_int(1, 40), 2, 8, false);
    check_attention(dt, 1, 77, 77, 4, 8, true);
    check_attention(dt, 1, 12, 7, 1, 40, false);
    check_attention(dt, 2, 9, 5, 3, 6, false); // head dim not a multiple of 4: scalar loads
    check_layout(dt);
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t q3[3] = {1, 4, 6};
  dg_tensor q = dg_test_tensor(DG_F32, 3, q3, 0, 1, NULL);
  dg_check_error(dg_nn_attention(T.stream, &q, &q, &q, 4, 1, false, &q), DG_ERR_ARG, "heads", "attention heads");
  return dg_test_finish();
}
