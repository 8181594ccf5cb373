// Attention against the CPU reference: both dtypes, odd head dims and lengths, several heads, heads
// wider than the flash kernel takes, broadcast and per-batch bias, the causal mask, chosen-key probabilities, and (in the split run)
// queries and items spread over several binding windows.
#include <stdlib.h>

#include "dg_attention.h"
#include "dg_ref.h"
#include "dg_test.h"

typedef struct acase {
  int64_t n, lq, lk, d;
  int heads;
  int bias; // 0 none, 1 [Lq, Lk], 2 [B, Lq, Lk]
  bool causal;
  int n_chosen;
} acase;

static void check(dg_dtype dt, acase c) {
  int64_t row = c.heads * c.d, b = c.n * c.heads;
  int64_t window = (int64_t)(dg_device_get_info(T.device)->max_binding_bytes / dg_dtype_size(dt)) - 64;
  bool too_big = c.lk * row > window; // K of one item must fit a binding
  int64_t qs[3] = {c.n, c.lq, row}, ks[3] = {c.n, c.lk, row}, bs[3] = {b, c.lq, c.lk};
  float *q, *k, *v, *bias = NULL;
  dg_tensor tq = dg_test_tensor(dt, 3, qs, -1, 1, &q), tk = dg_test_tensor(dt, 3, ks, -1, 1, &k);
  dg_tensor tv = dg_test_tensor(dt, 3, ks, -1, 1, &v), to = dg_test_poisoned(dt, 3, qs), tb, tp;
  if (c.bias) tb = dg_test_tensor(dt, c.bias == 1 ? 2 : 3, c.bias == 1 ? bs + 1 : bs, -2, 2, &bias);
  if (c.n_chosen > c.lk) c.n_chosen = (int)c.lk;
  int first = c.n_chosen ? dg_test_int(0, (int)c.lk - c.n_chosen) : 0, *chosen = malloc(((size_t)c.n_chosen + 1) * sizeof *chosen);
  for (int i = 0; i < c.n_chosen; i++)
    chosen[i] = first + i;
  int64_t ps[3] = {b, c.lq, c.n_chosen};
  if (c.n_chosen) tp = dg_test_poisoned(dt, 3, ps);
  float scale = dg_test_uniform(0.5f, 1.5f) / (float)c.d;
  dg_attention_args a = {.heads = c.heads,
                         .scale = scale,
                         .bias = c.bias ? &tb : NULL,
                         .causal = c.causal,
                         .chosen_first = first,
                         .n_chosen = c.n_chosen,
                         .probs = c.n_chosen ? &tp : NULL};
  char what[160];
  snprintf(what, sizeof what, "attention %s n=%lld heads=%d lq=%lld lk=%lld d=%lld bias=%d causal=%d chosen=%d",
           dg_dtype_name(dt), (long long)c.n, c.heads, (long long)c.lq, (long long)c.lk, (long long)c.d, c.bias,
           c.causal, c.n_chosen);
  if (too_big) {
    dg_check_error(dg_attention(T.stream, &tq, &tk, &tv, &a, &to), DG_ERR_UNSUPPORTED, "binding limit", what);
  } else if (dg_test_ok(dg_attention(T.stream, &tq, &tk, &tv, &a, &to), what)) {
    int64_t no = c.n * c.lq * row, np = b * c.lq * c.n_chosen;
    float *got = dg_test_read(&to), *want = malloc((size_t)no * sizeof *want);
    float *pwant = malloc((size_t)(np + 1) * sizeof *pwant);
    dg_ref_attention(q, k, v, c.n, c.lq, c.lk, c.heads, c.d, scale, bias, c.bias == 2, c.causal, chosen, c.n_chosen,
                     pwant, want);
    dg_test_close(what, got, want, no, dg_test_tolerance(dt));
    if (c.n_chosen) {
      float *pgot = dg_test_read(&tp);
      char pw[180];
      snprintf(pw, sizeof pw, "%s probs", what);
      dg_test_close(pw, pgot, pwant, np, dg_test_tolerance(dt));
      free(pgot);
    }
    free(got);
    free(want);
    free(pwant);
  }
  free(q);
  free(k);
  free(v);
  free(bias);
  free(chosen);
}

int main(void) {
  dg_test_init("test_attention");
  for (int dti = 0; dti < 2; dti++) {
    dg_dtype dt = dti ? DG_F16 : DG_F32;
    for (int i = 0; i < 6; i++) {
      // Head dims: odd ones (scalar shader) and multiples of 4 (vec4 shader); few distinct values,
      // as each is a pipeline to compile.
      static const int dims[] = {3, 5, 8, 12, 16};
      acase c = {.n = dg_test_int(1, 2),
                 .heads = dg_test_int(1, 3),
                 .d = dims[dg_test_int(0, 4)],
                 .lq = dg_test_int(1, 70),
                 .lk = dg_test_int(1, 90),
                 .bias = i % 3,
                 .causal = i == 4,
                 .n_chosen = i == 1 || i == 5 ? 3 : 0};
      if (c.causal) c.lk = c.lq + dg_test_int(0, 5);
      check(dt, c);
    }
    check(dt, (acase){.n = 1, .heads = 8, .d = 40, .lq = 256, .lk = 77, .n_chosen = 2}); // SD cross-attention
    check(dt, (acase){.n = 2, .heads = 4, .d = 32, .lq = 128, .lk = 77, .n_chosen = 40}); // a long prompt's maps
    check(dt, (acase){.n = 2, .heads = 1, .d = 64, .lq = 77, .lk = 77, .causal = true}); // CLIP text encoder
    check(dt, (acase){.n = 1, .heads = 2, .d = 80, .lq = 130, .lk = 130});               // self-attention
    check(dt, (acase){.n = 3, .heads = 1, .d = 16, .lq = 5, .lk = 16, .bias = 1});       // temporal, band bias
    // Split run: queries of one item exceed a window (chunked per head), and many small items.
    check(dt, (acase){.n = 2, .heads = 2, .d = 40, .lq = 300, .lk = 77, .bias = 2, .n_chosen = 2});
    check(dt, (acase){.n = 1, .heads = 2, .d = 40, .lq = 150, .lk = 152, .bias = 1, .causal = true});
    check(dt, (acase){.n = 40, .heads = 2, .d = 16, .lq = 50, .lk = 40, .bias = 2});
    // Heads wider than DG_ATTENTION_MAX_D (the VAE mid-block's single head): the one-query-per-lane
    // kernel, vec4 and scalar loads, with every option; queries split over windows in the split run.
    check(dt, (acase){.n = 2, .heads = 1, .d = 512, .lq = 40, .lk = 24, .bias = 2, .n_chosen = 2});
    check(dt, (acase){.n = 1, .heads = 2, .d = 258, .lq = 20, .lk = 20, .bias = 1, .causal = true});
    dg_arena_release(T.arena, (dg_arena_mark){0, 0});
  }
  int64_t qs[3] = {2, 10, 16}, ks[3] = {2, 7, 16}, bad[3] = {2, 7, 8}, bs[2] = {10, 6}, ps[3] = {4, 10, 2};
  dg_tensor q = dg_test_tensor(DG_F32, 3, qs, 0, 1, NULL), k = dg_test_tensor(DG_F32, 3, ks, 0, 1, NULL);
  dg_tensor kb = dg_test_tensor(DG_F32, 3, bad, 0, 1, NULL), o = dg_test_poisoned(DG_F32, 3, qs);
  dg_tensor b = dg_test_tensor(DG_F32, 2, bs, 0, 1, NULL), p = dg_test_poisoned(DG_F32, 3, ps);
  dg_tensor h = dg_test_poisoned(DG_F16, 3, qs);
  dg_attention_args a = {.heads = 2};
  dg_check_error(dg_attention(T.stream, &q, &kb, &kb, &a, &o), DG_ERR_ARG, "k", "k shape");
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &h), DG_ERR_ARG, "dtype", "out dtype");
  a.heads = 3;
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &o), DG_ERR_ARG, "heads", "heads");
  a = (dg_attention_args){.heads = 2, .bias = &b};
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &o), DG_ERR_ARG, "bias", "bias shape");
  a = (dg_attention_args){.heads = 2, .chosen_first = 6, .n_chosen = 2, .probs = &p};
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &o), DG_ERR_ARG, "6..7", "chosen keys past the 7 keys");
  a.chosen_first = -1;
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &o), DG_ERR_ARG, "chosen", "chosen keys before key 0");
  a = (dg_attention_args){.heads = 2, .chosen_first = 1, .n_chosen = 3, .probs = &p};
  dg_check_error(dg_attention(T.stream, &q, &k, &k, &a, &o), DG_ERR_ARG, "probs", "probs of 2 columns for 3 keys");
  return dg_test_finish();
}
