// The model context's seams on the tiny UNet of the golden fixtures (f32):
// - hooks cost nothing when unset: an empty hook set, or a capture selecting no layer, gives the same
//   eps bits with the same number of dispatches;
// - capture of cross-attention probabilities reaches every transformer once, with probabilities of the
//   chosen tokens, and leaves eps as it was;
// - frames folded into the batch: F = 2 frames of one item with one context equal a batch of two
//   items with that context twice, bit for bit; so does the per-frame context hook;
// - the denoise loop on a 5-D latent [1, 2, C, h, w] equals the 4-D loop on [2, C, h, w], and its
//   pre-step hook runs before every step and may change the latent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_denoise.h"
#include "dg_test.h"
#include "dg_unet.h"
#include "golden_util.h"

static const dg_unet *U;
static dg_tensor cond, uncond, cond2, uncond2; // [1, L, D] and the same twice, [2, L, D]

// eps (host, caller frees) of the UNet on host x [n, 4, 8, 16] at timestep 500 for every item; the
// dispatches it took in *dispatches.
static float *eps_of(const dg_nn_ctx *nn, const float *x, int64_t n, const dg_tensor *context, uint64_t *dispatches) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  int64_t xs[4] = {n, 4, 8, 16};
  float t[4] = {500, 500, 500, 500}, *out = malloc((size_t)(n * 4 * 8 * 16) * sizeof *out);
  dg_tensor tx, eps;
  dg_status s = dg_tensor_alloc(T.arena, DG_F32, 4, xs, &tx);
  if (s == DG_OK) s = dg_stream_finish(T.stream);
  if (s == DG_OK) dg_tensor_write_f32(&tx, x);
  uint64_t d0 = dg_stream_dispatch_count(T.stream);
  if (s == DG_OK) s = dg_unet_forward(nn, U, &tx, t, context, NULL, &eps);
  if (s == DG_OK) s = dg_stream_finish(T.stream);
  if (dispatches) *dispatches = dg_stream_dispatch_count(T.stream) - d0;
  if (dg_test_ok(s, "unet forward")) dg_tensor_read_f32(&eps, out);
  dg_arena_release(T.arena, mark);
  return out;
}

static bool same(const float *a, const float *b, int64_t n) { return !memcmp(a, b, (size_t)n * sizeof *a); }

typedef struct capture_log {
  int calls, bad;
  unsigned seen; // bit per transformer index
} capture_log;

static dg_status on_probs(void *user, int layer, int block, int64_t h, int64_t w, const dg_tensor *probs) {
  capture_log *c = user;
  c->calls++;
  c->seen |= 1u << layer;
  if (block != 0 || probs->ndim != 3 || probs->shape[0] != 2 || probs->shape[1] != h * w || probs->shape[2] != 3) {
    c->bad++;
    return DG_OK;
  }
  DG_TRY(dg_stream_finish(T.stream)); // the layer keeps probs until it goes on
  int64_t n = dg_tensor_numel(probs);
  float *p = malloc((size_t)n * sizeof *p);
  dg_tensor_read_f32(probs, p);
  for (int64_t r = 0; r < n / 3; r++) {
    float sum = p[3 * r] + p[3 * r + 1] + p[3 * r + 2];
    bool ok = sum <= 1.0001f;
    for (int k = 0; k < 3; k++)
      ok = ok && p[3 * r + k] >= 0 && p[3 * r + k] <= 1;
    c->bad += !ok;
  }
  free(p);
  return DG_OK;
}

static void test_hooks(void) {
  int64_t n = 4 * 8 * 16;
  float *x = malloc((size_t)n * sizeof *x);
  for (int64_t i = 0; i < n; i++)
    x[i] = dg_test_normal();
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
  uint64_t d_plain, d_empty, d_none, d_cap;
  float *plain = eps_of(&nn, x, 1, &cond, &d_plain);
  dg_nn_hooks empty = {0};
  nn.hooks = &empty;
  float *with_empty = eps_of(&nn, x, 1, &cond, &d_empty);
  capture_log log = {0};
  dg_nn_attn_capture none = {.first_token = 3, .n_tokens = 3, .layers = 0, .fn = on_probs, .user = &log};
  dg_nn_hooks select_none = {.attn_capture = &none};
  nn.hooks = &select_none;
  float *with_none = eps_of(&nn, x, 1, &cond, &d_none);
  dg_check(same(plain, with_empty, n) && same(plain, with_none, n), "unset hooks leave eps bit for bit");
  dg_check(d_empty == d_plain && d_none == d_plain && log.calls == 0,
           "unset hooks add no dispatch: %llu, %llu, %llu", (unsigned long long)d_plain, (unsigned long long)d_empty,
           (unsigned long long)d_none);
  printf("  unet forward: %llu dispatches without hooks, %llu with an empty hook set, %llu capturing nothing\n",
         (unsigned long long)d_plain, (unsigned long long)d_empty, (unsigned long long)d_none);

  dg_nn_attn_capture all = {.first_token = 3, .n_tokens = 3, .layers = ~0ull, .fn = on_probs, .user = &log};
  dg_nn_hooks capture = {.attn_capture = &all};
  nn.hooks = &capture;
  float *with_cap = eps_of(&nn, x, 1, &cond, &d_cap);
  unsigned want = (1u << U->n_attn) - 1;
  dg_check(log.calls == U->n_attn && log.seen == want && log.bad == 0,
           "capture: %d calls for %d transformers (seen %#x), %d bad rows", log.calls, U->n_attn, log.seen, log.bad);
  dg_check(same(plain, with_cap, n), "capture leaves eps bit for bit");
  printf("  capture of 3 tokens at %d transformers: %llu dispatches (%llu without)\n", U->n_attn,
         (unsigned long long)d_cap, (unsigned long long)d_plain);
  free(x), free(plain), free(with_empty), free(with_none), free(with_cap);
}

static void test_frames(void) {
  int64_t n = 2 * 4 * 8 * 16;
  float *x = malloc((size_t)n * sizeof *x);
  for (int64_t i = 0; i < n; i++)
    x[i] = dg_test_normal();
  dg_nn_ctx batch = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
  dg_nn_ctx frames = batch;
  frames.frames = 2;
  float *a = eps_of(&batch, x, 2, &cond2, NULL); // two items, the context twice
  float *b = eps_of(&frames, x, 2, &cond, NULL); // one item of two frames, one context
  dg_nn_hooks per_frame = {.frame_context = &cond2};
  frames.hooks = &per_frame;
  float *c = eps_of(&frames, x, 2, &cond, NULL); // the per-frame context replaces it
  dg_check(same(a, b, n), "two frames of one item = two items, bit for bit");
  dg_check(same(a, c, n), "per-frame context hook = the context per frame, bit for bit");
  free(x), free(a), free(b), free(c);
}

typedef struct prestep_log {
  int calls, last_step;
  float add;
} prestep_log;

static dg_status pre_step(void *user, int step, int t, float *x) {
  prestep_log *p = user;
  (void)t;
  p->calls++;
  p->last_step = step;
  if (p->add != 0)
    for (int i = 0; i < 2 * 4 * 8 * 16; i++)
      x[i] += p->add;
  return DG_OK;
}

static float *denoise(int ndim, const int64_t *shape, const dg_tensor *c, const dg_tensor *u, prestep_log *log) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
  dg_denoise_model m = {.unet = U, .cond = c, .uncond = u, .cfg_scale = 5.0f, .control_scale = 1.0f};
  dg_denoise_params p = {.sampler = {.kind = DG_SAMPLER_DDIM, .steps = 3, .seed = 3}, .pre_step = log ? pre_step : NULL,
                         .pre_user = log};
  float *x = malloc(2 * 4 * 8 * 16 * sizeof *x);
  dg_denoiser *d = NULL;
  dg_status s = dg_denoiser_new(&nn, &m, ndim, shape, &d);
  if (s == DG_OK) s = dg_denoise(d, &p, x);
  dg_test_ok(s, ndim == 5 ? "denoise 5-D" : "denoise 4-D");
  dg_denoiser_free(d);
  dg_arena_release(T.arena, mark);
  return x;
}

static void test_denoise(void) {
  int64_t n = 2 * 4 * 8 * 16, s4[4] = {2, 4, 8, 16}, s5[5] = {1, 2, 4, 8, 16};
  float *a = denoise(4, s4, &cond2, &uncond2, NULL);
  prestep_log noop = {0}, shift = {.add = 0.1f};
  float *b = denoise(5, s5, &cond, &uncond, &noop);
  float *c = denoise(5, s5, &cond, &uncond, &shift);
  dg_check(same(a, b, n), "denoise on [1, 2, C, h, w] = on [2, C, h, w], bit for bit");
  dg_check(noop.calls == 3 && noop.last_step == 2, "pre-step hook before each of 3 steps: %d calls", noop.calls);
  dg_check(shift.calls == 3 && !same(a, c, n), "a pre-step hook's change of the latent takes effect");
  free(a), free(b), free(c);
}

// [2, L, D] = t twice along dim 0.
static dg_tensor twice(const dg_tensor *t) {
  int64_t shape[3] = {2 * t->shape[0], t->shape[1], t->shape[2]}, n = dg_tensor_numel(t);
  dg_tensor out;
  dg_tensor_alloc(T.arena, DG_F32, 3, shape, &out);
  float *h = malloc((size_t)(2 * n) * sizeof *h);
  dg_stream_finish(T.stream);
  dg_tensor_read_f32(t, h);
  memcpy(h + n, h, (size_t)n * sizeof *h);
  dg_tensor_write_f32(&out, h);
  free(h);
  return out;
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_nn_ctx");
  dg_weights *w = golden_weights("unet_weights.safetensors");
  dg_unet *u = calloc(1, sizeof *u);
  dg_nn_src src = {w, T.arena, DG_F32};
  if (w && dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), "unet load")) {
    U = u;
    dg_safetensors *st = golden_open("sample_ddim.safetensors");
    cond = golden_tensor(st, "cond", DG_F32);
    uncond = golden_tensor(st, "uncond", DG_F32);
    cond2 = twice(&cond);
    uncond2 = twice(&uncond);
    test_hooks();
    test_frames();
    test_denoise();
    dg_safetensors_close(st);
  }
  free(u);
  if (w) dg_weights_close(w);
  return dg_test_finish();
}
