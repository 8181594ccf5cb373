// `build/tests/bench/dirigent-bench-grad [UNET.safetensors] [RUNS]`: seconds of a plain UNet forward
// against dg_unet_attention_grad (forward in a grad scope + backward to the latent) on a latent
// [1, 4, 16, 32] with a random context, the loss on 3 tokens at the transformers of the finest
// resolution with attention (Divide & Bind's maps). With DIRIGENT_PROFILE=1 it also prints the GPU
// time per op label of the last grad call. Run by hand; not a test.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dg_bench_util.h"
#include "dg_model_config.h"
#include "dg_test.h"
#include "dg_unet.h"
#include "dg_unet_grad.h"

typedef struct sizes {
  int64_t largest;
  uint64_t finest; // transformers whose maps have the largest size
} sizes;

static dg_status loss_one(void *user, int layer, int block, int64_t h, int64_t w, int64_t rows, int n_tokens,
                      const float *p, float *dp) {
  sizes *s = user;
  (void)block;
  if (h * w > s->largest) s->largest = h * w, s->finest = 0;
  if (h * w == s->largest) s->finest |= 1ull << layer;
  int64_t n = rows * h * w * n_tokens;
  for (int64_t i = 0; i < n; i++) dp[i] = (1.0f - 2.0f * (float)(i % 3)) / (float)n + p[i] / (float)n;
  return DG_OK;
}

static dg_status loss(void *user, int n, const dg_unet_attn_probs *c) {
  for (int i = 0; i < n; i++)
    DG_TRY(loss_one(user, c[i].layer, c[i].block, c[i].h, c[i].w, c[i].rows, c[i].n_tokens, c[i].probs, c[i].dprobs));
  return DG_OK;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : DG_BENCH_UNET;
  int runs = argc > 2 ? atoi(argv[2]) : 3;
  dg_test_init("bench_grad");
  dg_weights *w;
  dg_model_info info;
  dg_model_config cfg = {0};
  dg_unet_heads heads;
  dg_unet *u = calloc(1, sizeof *u);
  if (!dg_bench_ok(dg_weights_open(path, &w), path) || !dg_bench_ok(dg_weights_detect(w, &info), path) ||
      !dg_bench_ok(dg_model_config_load_optional(path, w, &cfg), path) ||
      !dg_bench_ok(dg_unet_heads_read(&cfg, &info.unet, &heads), path))
    return 1;
  dg_nn_src src = {w, T.arena, DG_F32};
  if (!dg_bench_ok(dg_unet_load(&src, heads, u), "unet load")) return 1;
  int64_t zs[4] = {1, 4, 16, 32}, cs[3] = {1, 77, info.unet.context_dim}, n = 4 * 16 * 32;
  dg_tensor ctx = dg_test_tensor(DG_F32, 3, cs, -1, 1, NULL), zt, eps;
  float *z = malloc((size_t)n * sizeof *z), *dz = malloc((size_t)n * sizeof *dz), t[1] = {500};
  for (int64_t i = 0; i < n; i++) z[i] = dg_test_normal();
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
  sizes sz = {0};
  dg_unet_attn_grad_args a = {.first_token = 1, .n_tokens = 3, .layers = ~0ull, .loss = loss, .user = &sz};
  dg_tape *tape;
  if (!dg_bench_ok(dg_tape_create(T.device, &tape), "tape")) return 1;
  // Warm-up (kernel builds), which also finds the finest transformers.
  if (!dg_bench_ok(dg_unet_attention_grad(&nn, tape, u, z, zs, t, &ctx, &a, dz, NULL), "grad")) return 1;
  a.layers = sz.finest;
  if (!dg_bench_ok(dg_unet_attention_grad(&nn, tape, u, z, zs, t, &ctx, &a, dz, NULL), "grad")) return 1;
  dg_arena_mark mark;
  // The CFG pass of a denoising step: the batch of two (uncond; cond).
  int64_t z2s[4] = {2, 4, 16, 32}, c2s[3] = {2, 77, info.unet.context_dim};
  dg_tensor ctx2 = dg_test_tensor(DG_F32, 3, c2s, -1, 1, NULL);
  float tt2[2] = {500, 500};
  mark = dg_arena_get_mark(T.arena);
  double fwd = 1e30, grad = 1e30, cfg2 = 1e30;
  dg_unet_grad_stats gs;
  for (int r = 0; r < runs; r++) {
    double t0 = dg_bench_now();
    if (!dg_bench_ok(dg_tensor_alloc(T.arena, DG_F32, 4, zs, &zt), "alloc") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    dg_tensor_write_f32(&zt, z);
    if (!dg_bench_ok(dg_unet_forward(&nn, u, &zt, t, &ctx, NULL, &eps), "forward") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    dg_tensor_read_f32(&eps, dz);
    double t1 = dg_bench_now();
    dg_arena_release(T.arena, mark);
    dg_stream_profile_reset(T.stream);
    if (!dg_bench_ok(dg_unet_attention_grad(&nn, tape, u, z, zs, t, &ctx, &a, dz, &gs), "grad")) return 1;
    double t2 = dg_bench_now();
    if (!dg_bench_ok(dg_tensor_alloc(T.arena, DG_F32, 4, z2s, &zt), "alloc") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    if (!dg_bench_ok(dg_unet_forward(&nn, u, &zt, tt2, &ctx2, NULL, &eps), "forward") ||
        !dg_bench_ok(dg_stream_finish(T.stream), "finish"))
      return 1;
    double t3 = dg_bench_now();
    dg_arena_release(T.arena, mark);
    if (t1 - t0 < fwd) fwd = t1 - t0;
    if (t2 - t1 < grad) grad = t2 - t1;
    if (t3 - t2 < cfg2) cfg2 = t3 - t2;
  }
  printf("%s, latent [1, 4, 16, 32], loss at transformers %#llx (maps of %lld tokens), best of %d\n", path,
         (unsigned long long)a.layers, (long long)sz.largest, runs);
  printf("plain forward:        %.3f s\n", fwd);
  printf("CFG forward (batch 2): %.3f s\n", cfg2);
  printf("forward + backward:   %.3f s (%.2fx; %llu + %llu dispatches, %d tape entries)\n", grad, grad / fwd,
         (unsigned long long)gs.forward_dispatches, (unsigned long long)gs.backward_dispatches, gs.entries);
  // Divide & Bind adds a grad pass at each of the first half of the steps to the CFG pass.
  printf("UNet time of a Divide & Bind image vs a plain one: 1 + grad / (2 CFG) = %.2fx\n", 1 + grad / (2 * cfg2));
  const dg_profile_entry *pe;
  int np = dg_stream_profile(T.stream, &pe);
  for (int i = 0; i < np; i++) printf("  %-28s %9.2f ms  %6llu\n", pe[i].label, pe[i].total_ms, (unsigned long long)pe[i].count);
  dg_tape_free(tape);
  dg_model_config_free(&cfg);
  free(z), free(dz), free(u);
  dg_weights_close(w);
  return dg_test_finish();
}
