// The gradient tape against PyTorch autograd (tests/golden/grad, written by
// tools/train/dgtrain/make_fixtures_grad.py): d loss / d x of the tiny golden UNet for a loss on the
// cross-attention probabilities of 3 tokens at the transformers of the finest resolution, through
// dg_unet_attention_grad, in f32 (relative error < 1e-3) and f16 storage (< 3e-2). Also: the captured
// probabilities match torch's, recording costs no dispatch (a taped forward with the capture makes as
// many as a plain one), and a loss independent of z gives a zero gradient. And the whole guided step of
// Attend-and-Excite and Divide & Bind (dg_guidance) against torch's update of the latent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_guidance.h"
#include "dg_test.h"
#include "dg_unet.h"
#include "dg_unet_grad.h"
#include "golden_util.h"

typedef struct loss_ctx {
  const dg_safetensors *st;
  int calls, next;
  double p_err; // largest relative error of the captured probabilities against torch's
  bool zero;    // a loss that ignores the probabilities
} loss_ctx;

// The fixture's loss reads tokens 1, 3 and 4: the capture takes the range 1..4 and this loss the
// columns 0, 2 and 3 of it (token 2's gradient is zero).
static const int fixture_cols[3] = {0, 2, 3};

// dL/dP = (R + P) / numel for L = sum_l mean(P_l R_l + 0.5 P_l^2) (the fixture's loss).
static dg_status loss_one(void *user, int layer, int block, int64_t h, int64_t w, int64_t rows, int n_tokens,
                      const float *captured, float *dp) {
  loss_ctx *c = user;
  (void)layer, (void)block;
  int64_t cells = rows * h * w, n = cells * 3, nr, np;
  c->calls++;
  memset(dp, 0, (size_t)(cells * n_tokens) * sizeof *dp);
  if (c->zero) return DG_OK;
  if (n_tokens != 4) return dg_fail(DG_ERR_ARG, "test: %d captured tokens, 4 expected", n_tokens);
  float *p = malloc((size_t)n * sizeof *p);
  for (int64_t i = 0; i < cells; i++)
    for (int k = 0; k < 3; k++) p[3 * i + k] = captured[4 * i + fixture_cols[k]];
  char name[16];
  snprintf(name, sizeof name, "R.%d", c->next);
  float *r = golden_read(c->st, name, &nr);
  snprintf(name, sizeof name, "P.%d", c->next++);
  float *want = golden_read(c->st, name, &np);
  if (nr != n || np != n) {
    free(r), free(want), free(p);
    return dg_fail(DG_ERR_ARG, "test: %s has %lld elements, the capture %lld", name, (long long)np, (long long)n);
  }
  double e = dg_test_rel_err(p, want, n);
  if (e > c->p_err) c->p_err = e;
  for (int64_t i = 0; i < n; i++) dp[4 * (i / 3) + fixture_cols[i % 3]] = (r[i] + p[i]) / (float)n;
  free(r), free(want), free(p);
  return DG_OK;
}

static dg_status loss(void *user, int n, const dg_unet_attn_probs *c) {
  for (int i = 0; i < n; i++)
    DG_TRY(loss_one(user, c[i].layer, c[i].block, c[i].h, c[i].w, c[i].rows, c[i].n_tokens, c[i].probs, c[i].dprobs));
  return DG_OK;
}

static void run(dg_weights *w, dg_dtype dt) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_safetensors *st = golden_open("unet_grad.safetensors");
  dg_nn_src src = {w, T.arena, dt};
  dg_unet *u = calloc(1, sizeof *u);
  if (!dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, -1}, u), "unet load")) goto done;
  dg_tensor ctx = golden_tensor(st, "context", dt);
  int64_t nx;
  float *x = golden_read(st, "x", &nx), *t = golden_read(st, "t", NULL), *want = golden_read(st, "dx", NULL);
  float *dz = malloc((size_t)nx * sizeof *dz);
  int64_t zs[4] = {1, 4, 8, 16};
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  loss_ctx lc = {.st = st};
  dg_unet_attn_grad_args a = {.first_token = 1, .n_tokens = 4, .layers = 1u << 0 | 1u << 5 | 1u << 6, .loss = loss,
                              .user = &lc};
  dg_unet_grad_stats gs;
  char what[96];
  snprintf(what, sizeof what, "dL/dx %s", dg_dtype_name(dt));
  if (dg_test_ok(dg_unet_attention_grad(&nn, NULL, u, x, zs, t, &ctx, &a, dz, &gs), what)) {
    dg_test_close(what, dz, want, nx, dt == DG_F32 ? 1e-3 : 3e-2);
    printf("  %s: relative error %.3g; %d captures, %d tape entries, %llu forward and %llu backward dispatches\n",
           what, dg_test_rel_err(dz, want, nx), gs.captures, gs.entries, (unsigned long long)gs.forward_dispatches,
           (unsigned long long)gs.backward_dispatches);
    dg_check(gs.captures == 3 && lc.calls == 3, "%s: %d captures (3 wanted)", what, gs.captures);
    dg_check(lc.p_err < (dt == DG_F32 ? 1e-4 : 1e-2), "%s: captured probabilities vs torch: %.3g", what, lc.p_err);

    // Recording costs no dispatch: a taped forward makes as many as a plain unfused one (the capture
    // reads the probabilities from the attention kernel itself; a tape turns the fused epilogues off,
    // dg_nn_set_fusion), and a plain fused one makes fewer.
    dg_tensor zt, eps;
    dg_arena_mark m2 = dg_arena_get_mark(T.arena);
    if (dg_test_ok(dg_tensor_alloc(T.arena, dt, 4, zs, &zt), "alloc")) {
      dg_tensor_write_f32(&zt, x);
      dg_nn_ctx plain = {.s = T.stream, .scratch = T.arena, .dtype = dt};
      uint64_t n[2] = {0, 0};
      for (int f = 0; f < 2; f++) {
        dg_nn_set_fusion(f);
        uint64_t d0 = dg_stream_dispatch_count(T.stream);
        if (dg_test_ok(dg_unet_forward(&plain, u, &zt, t, &ctx, NULL, &eps), "plain forward"))
          n[f] = dg_stream_dispatch_count(T.stream) - d0;
      }
      dg_nn_set_fusion(true);
      dg_check(gs.forward_dispatches == n[0], "%s: a taped forward makes %llu dispatches, a plain unfused one %llu",
               what, (unsigned long long)gs.forward_dispatches, (unsigned long long)n[0]);
      dg_check(n[1] < n[0], "%s: a fused forward makes %llu dispatches, an unfused one %llu", what,
               (unsigned long long)n[1], (unsigned long long)n[0]);
    }
    dg_arena_release(T.arena, m2);

    // A loss that ignores the probabilities: a zero gradient, every element written.
    loss_ctx zc = {.st = st, .zero = true};
    a.user = &zc;
    for (int64_t i = 0; i < nx; i++) dz[i] = NAN;
    if (dg_test_ok(dg_unet_attention_grad(&nn, NULL, u, x, zs, t, &ctx, &a, dz, NULL), "zero loss")) {
      bool zero = true;
      for (int64_t i = 0; i < nx; i++) zero = zero && dz[i] == 0;
      dg_check(zero, "%s: a constant loss gives dL/dx = 0", what);
    }
  }
  a.n_tokens = 0;
  dg_check_error(dg_unet_attention_grad(&nn, NULL, u, x, zs, t, &ctx, &a, dz, NULL), DG_ERR_ARG, "tokens",
                 "no tokens");
  free(x), free(t), free(want), free(dz);
done:
  free(u);
  dg_safetensors_close(st);
  dg_arena_release(T.arena, mark);
}

// The whole guided step (dg_guidance_pre_step before evaluation 1 of 25: one update, no refinement) against
// torch's x - step * d loss / d x for A&E and D&B (guided_step.safetensors): objects token 2 (bound to
// attribute token 1) and the two-token word 4-5, maps of tokens 1..5.
static void guided_step(dg_weights *w, dg_dtype dt) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_safetensors *st = golden_open("guided_step.safetensors");
  dg_nn_src src = {w, T.arena, dt};
  dg_unet *u = calloc(1, sizeof *u);
  if (!st || !dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, -1}, u), "unet load")) goto done;
  dg_tensor ctx = golden_tensor(st, "context", dt);
  int64_t nx;
  float *x0 = golden_read(st, "x", &nx), *t = golden_read(st, "t", NULL);
  float *x = malloc((size_t)nx * sizeof *x), *got = malloc((size_t)nx * sizeof *got), *want = NULL;
  dg_marks marks = {.n_objects = 2, .n_attrs = 1};
  marks.objects[0].tokens[0] = 2, marks.objects[0].n_tokens = 1;
  marks.objects[1].tokens[0] = 4, marks.objects[1].tokens[1] = 5, marks.objects[1].n_tokens = 2;
  marks.attrs[0].tokens[0] = 1, marks.attrs[0].n_tokens = 1, marks.attr_object[0] = 0;
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  for (int k = DG_GUIDANCE_ATTEND_EXCITE; k <= DG_GUIDANCE_DIVIDE_BIND; k++) {
    char name[64], what[96];
    snprintf(name, sizeof name, "x_new.%s", dg_guidance_name(k));
    want = golden_read(st, name, NULL);
    dg_guidance_setup gs = {.kind = k, .unet = u, .cond = &ctx, .marks = &marks, .n_prompt_tokens = 5, .lh = 8,
                            .lw = 16, .evaluations = 25};
    dg_guidance *g = NULL;
    snprintf(what, sizeof what, "guided step %s %s", dg_guidance_name(k), dg_dtype_name(dt));
    memcpy(x, x0, (size_t)nx * sizeof *x);
    if (dg_test_ok(dg_guidance_new(&nn, &gs, &g), what) && dg_test_ok(dg_guidance_pre_step(g, 1, (int)t[0], x), what)) {
      for (int64_t i = 0; i < nx; i++) got[i] = x[i] - x0[i], want[i] -= x0[i]; // the updates
      dg_test_close(what, got, want, nx, dt == DG_F32 ? 1e-3 : 3e-2);
      printf("  %s: relative error of the update %.3g\n", what, dg_test_rel_err(got, want, nx));
      dg_guidance_stats gst;
      dg_guidance_get_stats(g, &gst);
      dg_check(gst.updates == 1 && gst.refinement_updates == 0, "%s: %d updates (%d refinement), 1 wanted", what,
               gst.updates, gst.refinement_updates);
    }
    dg_guidance_free(g);
    free(want);
  }
  free(x0), free(t), free(x), free(got);
done:
  free(u);
  dg_safetensors_close(st);
  dg_arena_release(T.arena, mark);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_grad");
  dg_weights *w = golden_weights("../image/unet_weights.safetensors");
  if (w) {
    run(w, DG_F32);
    run(w, DG_F16);
    guided_step(w, DG_F32);
    guided_step(w, DG_F16);
    dg_weights_close(w);
  }
  return dg_test_finish();
}
