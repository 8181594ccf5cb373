// The UNet against the PyTorch fixtures `unet` and `unet_control` (tests/golden/README.md), in f32
// and f16 storage, with the forward-pass time.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dg_test.h"
#include "dg_unet.h"
#include "golden_util.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void run(dg_dtype dt, dg_weights *w, const char *fixture, bool with_control) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_unet *u = calloc(1, sizeof *u);
  if (!dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), "unet load")) goto done;
  dg_safetensors *st = golden_open(fixture);
  dg_tensor x = golden_tensor(st, "x", dt), ctx = golden_tensor(st, "context", dt);
  float *t = golden_read(st, "t", NULL);
  dg_tensor ctl[DG_UNET_MAX_BLOCKS + 1];
  const dg_tensor *ctlp[DG_UNET_MAX_BLOCKS + 1];
  if (with_control) {
    for (int i = 0; i < dg_unet_num_control(u); i++) {
      char name[32];
      snprintf(name, sizeof name, "control.%d", i);
      ctl[i] = golden_tensor(st, name, dt);
      ctlp[i] = &ctl[i];
    }
  }
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  dg_tensor eps;
  for (int rep = 0; rep < 2; rep++) { // the first run includes pipeline creation
    dg_arena_mark m2 = dg_arena_get_mark(T.arena);
    double t0 = now_ms();
    dg_status s = dg_unet_forward(&nn, u, &x, t, &ctx, with_control ? ctlp : NULL, &eps);
    if (!dg_test_ok(s, "unet forward")) break; // finishes the stream
    double t1 = now_ms();
    if (rep == 1) {
      char what[64];
      snprintf(what, sizeof what, "%s eps", fixture);
      golden_check(what, &eps, st, "eps", dt);
      printf("  %s %s forward %.1f ms (batch %lld, %llu dispatches so far)\n", fixture, dg_dtype_name(dt), t1 - t0,
             (long long)x.shape[0], (unsigned long long)dg_stream_dispatch_count(T.stream));
    }
    dg_arena_release(T.arena, m2);
    if (rep == 0) dg_stream_profile_reset(T.stream);
  }
  if (getenv("DIRIGENT_PROFILE")) {
    const dg_profile_entry *e;
    int n = dg_stream_profile(T.stream, &e);
    for (int i = 0; i < n; i++)
      printf("    %-14s %8.2f ms %6llu x\n", e[i].label, e[i].total_ms, (unsigned long long)e[i].count);
  }
  free(t);
  dg_safetensors_close(st);
done:
  free(u);
  dg_arena_release(T.arena, mark);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_unet");
  char path[1024];
  dg_weights *w = golden_weights("unet_weights.safetensors");
  if (w) {
    for (int d = 0; d < 2; d++) {
      run(d ? DG_F16 : DG_F32, w, "unet.safetensors", false);
      run(d ? DG_F16 : DG_F32, w, "unet_control.safetensors", true);
    }
    // Bad inputs give errors that name the problem.
    dg_arena_mark mark = dg_arena_get_mark(T.arena);
    dg_nn_src src = {w, T.arena, DG_F32};
    dg_unet *u = calloc(1, sizeof *u);
    dg_check_error(dg_unet_load(&src, (dg_unet_heads){0, 0}, u), DG_ERR_ARG, "heads", "no heads");
    dg_check_error(dg_unet_load(&src, (dg_unet_heads){3, 0}, u), DG_ERR_ARG, "heads", "heads not dividing");
    if (dg_test_ok(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), "unet load")) {
      dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32};
      int64_t xs[4] = {1, 4, 8, 16}, odd[4] = {1, 4, 7, 16}, cs[3] = {1, 7, 16}, bad_c[3] = {1, 7, 12};
      dg_tensor x = dg_test_tensor(DG_F32, 4, xs, -1, 1, NULL), xo = dg_test_tensor(DG_F32, 4, odd, -1, 1, NULL);
      dg_tensor c = dg_test_tensor(DG_F32, 3, cs, -1, 1, NULL), cb = dg_test_tensor(DG_F32, 3, bad_c, -1, 1, NULL);
      dg_tensor eps;
      float t[1] = {10};
      dg_check_error(dg_unet_forward(&nn, u, &x, t, &cb, NULL, &eps), DG_ERR_ARG, "context", "context width");
      dg_check_error(dg_unet_forward(&nn, u, &xo, t, &c, NULL, &eps), DG_ERR_ARG, "divisible", "latent size");
    }
    free(u);
    dg_arena_release(T.arena, mark);
    dg_weights_close(w);
  }
  // SD 2.x-style Linear projections, depth-2 transformers, heads by width, a single level
  // (tests/golden/make_fixture_unet_linear.py).
  static char extra[512];
  snprintf(extra, sizeof extra, "%s/../extra", golden_dir);
  snprintf(path, sizeof path, "%s/unet_linear_weights.safetensors", extra);
  if (dg_test_ok(dg_weights_open(path, &w), "open unet_linear weights")) {
    const char *image_dir = golden_dir;
    golden_dir = extra;
    for (int d = 0; d < 2; d++) {
      dg_dtype dt = d ? DG_F16 : DG_F32;
      dg_arena_mark mark = dg_arena_get_mark(T.arena);
      dg_nn_src src = {w, T.arena, dt};
      dg_unet *u = calloc(1, sizeof *u);
      if (dg_test_ok(dg_unet_load(&src, (dg_unet_heads){0, 8}, u), "unet_linear load")) {
        dg_check(u->enc.input[1].attn.linear_proj && u->enc.input[1].attn.depth == 2 &&
                     u->enc.input[1].attn.blocks[0].attn1.heads == 4 && u->n_output == 2,
                 "unet_linear structure");
        dg_safetensors *st = golden_open("unet_linear.safetensors");
        dg_tensor x = golden_tensor(st, "x", dt), ctx = golden_tensor(st, "context", dt), eps;
        float *t = golden_read(st, "t", NULL);
        dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
        if (dg_test_ok(dg_unet_forward(&nn, u, &x, t, &ctx, NULL, &eps), "unet_linear forward"))
          golden_check("unet_linear eps", &eps, st, "eps", dt);
        free(t);
        dg_safetensors_close(st);
      }
      free(u);
      dg_arena_release(T.arena, mark);
    }
    golden_dir = image_dir;
    dg_weights_close(w);
  }
  if ((w = golden_weights("vae_weights.safetensors"))) {
    dg_nn_src src = {w, T.arena, DG_F32};
    dg_unet *u = calloc(1, sizeof *u);
    dg_check_error(dg_unet_load(&src, (dg_unet_heads){2, 0}, u), DG_ERR_FORMAT, "UNet", "UNet from a VAE file");
    free(u);
    dg_weights_close(w);
  }
  return dg_test_finish();
}
