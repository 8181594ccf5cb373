// The host RNG against the `rng` fixture (bit-exact), and the samplers against `sample_ddim`,
// `sample_ddim_eta` and `sample_plms` (the tiny UNet with CFG 5): x_T and the eta noise bit-exact,
// the timesteps, the latent and predicted x0 after every step, the final latent. Also cancellation
// through the stream's flag from the step callback.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_denoise.h"
#include "dg_rng.h"
#include "dg_sampler.h"
#include "dg_test.h"
#include "golden_util.h"

static void test_rng(void) {
  dg_safetensors *st = golden_open("rng.safetensors");
  float a[4 * 8 * 16], b[37];
  dg_randn(42, 0, 4 * 8 * 16, a);
  golden_check_host("randn(42, [4,8,16], stream 0) bit-exact", a, st, "randn_seed42_s0", 1e-30);
  dg_randn((1ull << 40) + 5, 7, 37, b);
  golden_check_host("randn(2^40+5, [37], stream 7) bit-exact", b, st, "randn_seed2pow40_s7", 1e-30);
  const dg_st_tensor *t = dg_safetensors_find(st, "philox_words_seed42_s3");
  const unsigned char *raw = dg_safetensors_data(st, t);
  int bad = 0;
  for (int blk = 0; blk < 8; blk++) {
    uint32_t w[4];
    dg_rng_block(42, 3, (uint64_t)blk, w);
    for (int j = 0; j < 4; j++) {
      int64_t v;
      memcpy(&v, raw + 8 * (blk * 4 + j), 8);
      bad += (int64_t)w[j] != v;
    }
  }
  dg_check(bad == 0, "philox words of seed 42 stream 3: %d of 32 differ", bad);
  printf("  philox words seed 42 stream 3 blocks 0..7: %d of 32 differ\n", bad);
  uint32_t ctr[4] = {0, 0, 0, 0}, kat[4];
  dg_philox4x32_10(ctr, 0, 0, kat);
  dg_check(kat[0] == 0x6627e8d5 && kat[1] == 0xe169c58d && kat[2] == 0xbc57ac4c && kat[3] == 0x9b00dbd8,
           "philox known answer (counter 0, key 0)");
  dg_safetensors_close(st);
}

typedef struct record {
  int steps;
  float *x_steps, *pred_x0;
  int64_t n;
  atomic_bool *cancel;
} record;

static void on_step(void *user, int step, int total, const float *x, const float *x0) {
  record *r = user;
  (void)total;
  memcpy(r->x_steps + step * r->n, x, (size_t)r->n * sizeof *x);
  memcpy(r->pred_x0 + step * r->n, x0, (size_t)r->n * sizeof *x0);
  r->steps = step + 1;
  if (r->cancel) atomic_store(r->cancel, true);
}

static void run(dg_dtype dt, const dg_unet *u, const char *fixture, dg_sampler_kind kind, int steps, float eta,
                uint64_t seed, bool cancel) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_safetensors *st = golden_open(fixture);
  dg_tensor cond = golden_tensor(st, "cond", dt), uncond = golden_tensor(st, "uncond", dt);
  dg_sampler_opts o = {.kind = kind, .steps = steps, .eta = eta, .seed = seed};
  int64_t shape[4] = {1, 4, 8, 16};
  int evals = dg_sampler_evaluations(&o);
  int64_t n = 4 * 8 * 16;
  record r = {0, calloc((size_t)(n * evals), sizeof(float)), calloc((size_t)(n * evals), sizeof(float)), n, NULL};
  dg_denoise_params dp = {.sampler = o, .on_step = on_step, .step_user = &r};
  float *x = malloc((size_t)n * sizeof *x);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_denoise_model dm = {.unet = u, .cond = &cond, .uncond = &uncond, .cfg_scale = 5.0f, .control_scale = 1.0f};
  dg_denoiser *g = NULL;
  char what[160];
  atomic_bool flag = false;
  if (!dg_test_ok(dg_denoiser_new(&nn, &dm, 4, shape, &g), "denoiser")) goto done;
  if (cancel) {
    r.cancel = &flag;
    dg_stream_set_cancel(T.stream, &flag);
    dg_status s = dg_denoise(g, &dp, x);
    dg_stream_set_cancel(T.stream, NULL);
    dg_check(s == DG_ERR_CANCELLED && r.steps == 1, "cancel after step 0: status %s after %d steps", dg_status_name(s),
             r.steps);
    printf("  %s: cancelled from the step-0 callback: status %s, %d of %d steps\n", fixture, dg_status_name(s), r.steps,
           evals);
    goto done;
  }
  if (dt == DG_F32) {
    int ts[1001];
    dg_sampler_timesteps(&o, ts);
    float *want = golden_read(st, "timesteps", NULL);
    int bad = 0;
    for (int i = 0; i < evals; i++)
      bad += ts[i] != (int)want[i];
    dg_check(bad == 0, "%s timesteps differ", fixture);
    free(want);
    dg_randn(seed, 0, (size_t)n, x);
    snprintf(what, sizeof what, "%s x_T bit-exact", fixture);
    golden_check_host(what, x, st, "x_T", 1e-30);
    if (eta > 0)
      for (int i = 0; i < steps; i++) {
        dg_randn(seed, 1 + (uint64_t)i, (size_t)n, x);
        int64_t m;
        float *all = golden_read(st, "step_noise", &m);
        double err = dg_test_rel_err(x, all + i * n, n);
        dg_check(err == 0, "%s step_noise[%d] differs (%g)", fixture, i, err);
        free(all);
      }
  }
  if (!dg_test_ok(dg_denoise(g, &dp, x), "sample")) goto done;
  double tol = dg_test_tolerance(dt);
  snprintf(what, sizeof what, "%s %s x_steps (all)", fixture, dg_dtype_name(dt));
  golden_check_host(what, r.x_steps, st, "x_steps", tol);
  snprintf(what, sizeof what, "%s %s pred_x0 (all)", fixture, dg_dtype_name(dt));
  golden_check_host(what, r.pred_x0, st, "pred_x0", tol);
  snprintf(what, sizeof what, "%s %s x_out", fixture, dg_dtype_name(dt));
  golden_check_host(what, x, st, "x_out", tol);
done:
  dg_denoiser_free(g);
  free(r.x_steps);
  free(r.pred_x0);
  free(x);
  dg_safetensors_close(st);
  dg_arena_release(T.arena, mark);
}

static void test_preview(void) {
  float lat[4 * 2] = {0, 1, 0, 0, 0, 0, 0, -9}; // [4, 1, 2]: pixel 0 all zero, pixel 1 = (1, 0, 0, -9)
  uint8_t rgb[6];
  dg_sampler_preview_rgb(lat, 1, 2, rgb);
  // pixel 1: R = (0.298 + 9 * 0.184 + 1) * 127.5 = 376 -> 255, G = (0.207 + 9 * 0.271 + 1) * 127.5 = 465 -> 255,
  // B = (0.208 + 9 * 0.473 + 1) * 127.5 = 696.8 -> 255; pixel 0 is mid-grey.
  dg_check(rgb[0] == 128 && rgb[1] == 128 && rgb[2] == 128 && rgb[3] == 255 && rgb[4] == 255 && rgb[5] == 255,
           "preview rgb %d %d %d / %d %d %d", rgb[0], rgb[1], rgb[2], rgb[3], rgb[4], rgb[5]);
  float lat2[4] = {-1, 0, 0, 0}; // R = (1 - 0.298) * 127.5 = 89.5 -> 90
  dg_sampler_preview_rgb(lat2, 1, 1, rgb);
  dg_check(rgb[0] == 90 && rgb[1] == 101 && rgb[2] == 101, "preview rgb %d %d %d", rgb[0], rgb[1], rgb[2]);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_sampler");
  test_rng();
  test_preview();
  dg_weights *w = golden_weights("unet_weights.safetensors");
  if (w) {
    for (int d = 0; d < 2; d++) {
      dg_dtype dt = d ? DG_F16 : DG_F32;
      dg_arena_mark mark = dg_arena_get_mark(T.arena);
      dg_nn_src src = {w, T.arena, dt};
      dg_unet *u = calloc(1, sizeof *u);
      if (dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), "unet load")) {
        run(dt, u, "sample_ddim.safetensors", DG_SAMPLER_DDIM, 4, 0.0f, 11, false);
        run(dt, u, "sample_ddim_eta.safetensors", DG_SAMPLER_DDIM, 3, 0.5f, 12, false);
        run(dt, u, "sample_plms.safetensors", DG_SAMPLER_PLMS, 4, 0.0f, 13, false);
        if (!d) run(dt, u, "sample_plms.safetensors", DG_SAMPLER_PLMS, 4, 0.0f, 13, true);
      }
      free(u);
      dg_arena_release(T.arena, mark);
    }
    dg_weights_close(w);
  }
  return dg_test_finish();
}
