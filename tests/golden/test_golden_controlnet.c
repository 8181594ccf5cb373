// The ControlNet against the fixtures `controlnet_id` (ALDM id hint, also built from the label map
// here) and `controlnet_color` (stock colour hint): the 5 residuals and the UNet's eps with them.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dg_controlnet.h"
#include "dg_denoise.h"
#include "dg_test.h"
#include "golden_util.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check_id_hint(const dg_safetensors *st) {
  int64_t nl, nt, nh;
  float *lab = golden_read(st, "label", &nl), *table = golden_read(st, "class_table", &nt);
  float *want = golden_read(st, "hint", &nh);
  const dg_st_tensor *lt = dg_safetensors_find(st, "label"), *tt = dg_safetensors_find(st, "class_table"),
                     *ht = dg_safetensors_find(st, "hint");
  int32_t *l32 = malloc((size_t)nl * sizeof *l32);
  for (int64_t i = 0; i < nl; i++)
    l32[i] = (int32_t)lab[i];
  float *got = malloc((size_t)nh * sizeof *got);
  dg_controlnet_id_hint(l32, (int)lt->shape[1], (int)lt->shape[2], table, (int)tt->shape[0] - 1, (int)tt->shape[1],
                        (int)ht->shape[2], (int)ht->shape[3], got);
  golden_check_host("id hint from label and class table (exact)", got, st, "hint", 1e-12);
  free(lab);
  free(table);
  free(want);
  free(l32);
  free(got);
}

static void run(dg_dtype dt, dg_weights *uw, const char *weights, const char *fixture) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", golden_dir, weights);
  dg_weights *cw = NULL;
  dg_controlnet *c = calloc(1, sizeof *c);
  dg_unet *u = calloc(1, sizeof *u);
  dg_nn_src usrc = {uw, T.arena, dt};
  if (!dg_test_ok(dg_weights_open(path, &cw), "open controlnet weights")) goto done;
  dg_nn_src csrc = {cw, T.arena, dt};
  if (!dg_test_ok(dg_controlnet_load(&csrc, (dg_unet_heads){2, 0}, c), "controlnet load")) goto done;
  if (!dg_test_ok(dg_unet_load(&usrc, (dg_unet_heads){2, 0}, u), "unet load")) goto done;
  dg_safetensors *st = golden_open(fixture);
  if (dt == DG_F32 && c->id_hint) check_id_hint(st);
  dg_tensor x = golden_tensor(st, "x", dt), ctx = golden_tensor(st, "context", dt),
            hint = golden_tensor(st, "hint", dt);
  float *t = golden_read(st, "t", NULL);
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt};
  int n = dg_controlnet_num_outputs(c);
  dg_tensor ctl[DG_UNET_MAX_BLOCKS + 1], eps;
  const dg_tensor *ctlp[DG_UNET_MAX_BLOCKS + 1];
  double t0 = 0, t1 = 0;
  dg_status s = DG_OK;
  for (int rep = 0; rep < 2 && s == DG_OK; rep++) { // the first run includes pipeline creation
    t0 = now_ms();
    dg_tensor g;
    s = dg_controlnet_hint(&nn, c, &hint, &g);
    if (s == DG_OK) s = dg_controlnet_forward(&nn, c, &x, &g, t, &ctx, 1.0f, ctl);
    if (s == DG_OK) s = dg_stream_finish(T.stream);
    t1 = now_ms();
  }
  if (dg_test_ok(s, "controlnet forward")) {
    printf("  %s %s controlnet forward %.1f ms\n", fixture, dg_dtype_name(dt), t1 - t0);
    for (int i = 0; i < n; i++) {
      char name[32], what[96];
      snprintf(name, sizeof name, "control.%d", i);
      snprintf(what, sizeof what, "%s %s", fixture, name);
      golden_check(what, &ctl[i], st, name, dt);
      ctlp[i] = &ctl[i];
    }
    if (dg_test_ok(dg_unet_forward(&nn, u, &x, t, &ctx, ctlp, &eps), "unet forward")) {
      char what[96];
      snprintf(what, sizeof what, "%s eps", fixture);
      golden_check(what, &eps, st, "eps", dt);
    }
    // The same through the denoise loop's model (ControlNet + UNet, no guidance).
    dg_denoiser *g = NULL;
    dg_denoise_model dm = {
        .unet = u, .control = c, .hint = &hint, .control_scale = 1.0f, .cond = &ctx, .cfg_scale = 1.0f};
    float *xh = golden_read(st, "x", NULL), *eh = malloc((size_t)dg_tensor_numel(&x) * sizeof *eh);
    if (dg_test_ok(dg_denoiser_new(&nn, &dm, 4, x.shape, &g), "denoiser") &&
        dg_test_ok(dg_denoiser_eps(g, xh, (int)t[0], eh), "denoiser eps")) {
      char what[96];
      snprintf(what, sizeof what, "%s eps via dg_denoiser_eps %s", fixture, dg_dtype_name(dt));
      golden_check_host(what, eh, st, "eps", dg_test_tolerance(dt));
    }
    dg_denoiser_free(g);
    free(xh);
    free(eh);
  }
  free(t);
  dg_safetensors_close(st);
done:
  dg_weights_close(cw);
  free(c);
  free(u);
  dg_arena_release(T.arena, mark);
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_controlnet");
  dg_weights *w = golden_weights("unet_weights.safetensors");
  if (w) {
    for (int d = 0; d < 2; d++) {
      run(d ? DG_F16 : DG_F32, w, "controlnet_id_weights.safetensors", "controlnet_id.safetensors");
      run(d ? DG_F16 : DG_F32, w, "controlnet_color_weights.safetensors", "controlnet_color.safetensors");
    }
    dg_weights_close(w);
  }
  return dg_test_finish();
}
