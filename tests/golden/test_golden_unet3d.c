// The video UNet (dg_unet3d: VideoCrafter2's UNet3D with its names) against the PyTorch fixtures of
// tests/golden/video (tools/train/dgtrain/make_fixtures_video.py), in f32 and f16 storage: eps of
// folded videos with a per-item and a per-frame context, with VSTAR's TAR through the temporal-bias
// hook (dg_tar) and its captured temporal attention matrix, and 16- and 64-frame passes. Where the
// binding limit (DIRIGENT_MAX_BINDING) is below what the temporal layers bind whole
// (dg_unet3d_largest_whole), the pass must refuse with a message saying so.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_device.h"
#include "dg_tar.h"
#include "dg_test.h"
#include "dg_unet3d.h"
#include "golden_util.h"

static const dg_unet_heads heads = {-1, 4}; // the fixture's num_head_channels

typedef struct video_case {
  const char *fixture;
  int frames;
  int64_t tar_width; // 0: no TAR
  float tar_sigma;
  bool capture, frame_hook; // check the captured probabilities; pass the per-frame context by the hook
} video_case;

static void run(dg_dtype dt, dg_weights *w, const video_case *c) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, dt};
  dg_unet3d *u = calloc(1, sizeof *u);
  dg_arena *keep = NULL;
  if (!dg_test_ok(dg_unet3d_load(&src, heads, u), "unet3d load")) goto done;
  if (!dg_test_ok(dg_arena_create(T.device, 1 << 20, &keep), "keep arena")) goto done;
  dg_safetensors *st = golden_open(c->fixture);
  dg_tensor x = golden_tensor(st, "x", dt), ctx = golden_tensor(st, "context", dt), eps;
  float *t = golden_read(st, "t", NULL), *fps = golden_read(st, "fps", NULL);
  dg_tar tar;
  dg_nn_hooks hooks = {0};
  if (c->tar_width || c->capture) {
    int64_t wd[1] = {c->tar_width};
    float sg[1] = {c->tar_sigma};
    dg_check_status(dg_tar_init(&tar, c->tar_width ? 1 : 0, wd, sg, 1.0f, 13), "tar init");
    dg_tar_step(&tar, 0);
    if (c->capture) tar.capture_layer = 0, tar.capture_attn = 0;
    dg_check_status(dg_tar_prepare(&tar, T.stream, T.arena, keep, dt, c->frames), "tar prepare");
    hooks.temporal_bias = dg_tar_bias;
    hooks.temporal_user = &tar;
  }
  if (c->frame_hook) hooks.frame_context = &ctx;
  dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = dt, .frames = c->frames, .hooks = &hooks};
  const char *what;
  int64_t whole = dg_unet3d_largest_whole(&u->cfg, c->frames, x.shape[2], x.shape[3], &what);
  uint64_t limit = dg_device_get_info(T.device)->max_binding_bytes - dg_device_get_info(T.device)->min_storage_offset_alignment;
  bool fits = (uint64_t)whole * dg_dtype_size(dt) <= limit;
  dg_status s = dg_unet3d_forward(&nn, u, &x, t, fps, &ctx, NULL, &eps);
  if (!fits) {
    // The pass binds more than the limit allows: a refusal naming the binding limit, no crash.
    dg_check(s != DG_OK && strstr(dg_last_error(), "binding limit"), "%s %s: %lld elements whole over the limit %llu: %s",
             c->fixture, dg_dtype_name(dt), (long long)whole, (unsigned long long)limit, dg_last_error());
    printf("  %s %s: %s (%lld elements) exceeds the binding limit (%llu bytes): refused\n", c->fixture,
           dg_dtype_name(dt), what, (long long)whole, (unsigned long long)limit);
  } else if (dg_test_ok(s, "unet3d forward") && dg_test_ok(dg_stream_finish(T.stream), "finish")) {
    char name[96];
    snprintf(name, sizeof name, "%s eps (F=%d)", c->fixture, c->frames);
    golden_check(name, &eps, st, "eps", dt);
    if (c->tar_width && !c->frame_hook) {
      // Without the hook the same inputs give another eps: the fixture does exercise TAR.
      dg_nn_ctx plain = nn;
      plain.hooks = NULL;
      dg_tensor e2;
      float *a = NULL, *b = NULL;
      int64_t n = dg_tensor_numel(&eps);
      if (dg_test_ok(dg_unet3d_forward(&plain, u, &x, t, fps, &ctx, NULL, &e2), "unet3d forward without TAR")) {
        a = dg_test_read(&eps);
        b = dg_test_read(&e2);
        double diff = dg_test_rel_err(a, b, n);
        dg_check(diff > 1e-2, "%s %s: TAR changes eps (rel %.3g)", c->fixture, dg_dtype_name(dt), diff);
      }
      free(a);
      free(b);
    }
    if (c->capture) {
      snprintf(name, sizeof name, "%s temporal attention of layer 0", c->fixture);
      if (dg_check(tar.has_capture, "%s captured", c->fixture)) golden_check(name, &tar.captured, st, "probs", dt);
    }
  }
  free(t);
  free(fps);
  dg_safetensors_close(st);
done:
  if (keep) dg_arena_destroy(keep);
  free(u);
  dg_arena_release(T.arena, mark);
}

// The structure the loader found under VideoCrafter2's names.
static void check_structure(dg_weights *w) {
  dg_arena_mark mark = dg_arena_get_mark(T.arena);
  dg_nn_src src = {w, T.arena, DG_F32};
  dg_unet3d *u = calloc(1, sizeof *u);
  dg_model_info info;
  if (dg_test_ok(dg_weights_detect(w, &info), "detect"))
    dg_check(info.parts == DG_PART_UNET3D && strstr(info.description, "VideoCrafter2 UNet3D"), "detected: %s",
             info.description);
  if (dg_test_ok(dg_unet3d_load(&src, heads, u), "unet3d load")) {
    dg_check(u->has_fps && u->has_init_attn && u->init_attn.blocks[0].attn1.heads == 8 && u->n_input == 4 &&
                 u->n_output == 4 && u->n_attn == 4 && u->n_temporal == 4,
             "unet3d structure (fps, init_attn of 8 heads, 4 input and output blocks, 4 + 4 transformers)");
    dg_check(u->input[1].has_tconv && !u->input[1].b.has_attn && u->input[3].has_tattn && u->input[3].tattn.index == 0 &&
                 u->middle.has_tattn && u->middle.tattn.index == 1 && u->middle_res2.has_tconv &&
                 u->output[1].b.has_up && u->output[1].has_tattn && u->init_attn.index == -1,
             "unet3d blocks (temporal conv per ResBlock, temporal transformers after spatial ones, numbering)");
    // A 2-D UNet store is refused, a tape too.
    dg_nn_ctx nn = {.s = T.stream, .scratch = T.arena, .dtype = DG_F32, .frames = 3};
    int64_t xs[4] = {4, 4, 8, 8}, cs[3] = {1, 7, 16};
    dg_tensor x = dg_test_tensor(DG_F32, 4, xs, -1, 1, NULL), cx = dg_test_tensor(DG_F32, 3, cs, -1, 1, NULL), eps;
    float t[1] = {10};
    dg_check_error(dg_unet3d_forward(&nn, u, &x, t, NULL, &cx, NULL, &eps), DG_ERR_ARG, "N*3", "frames not dividing the batch");
  }
  free(u);
  dg_arena_release(T.arena, mark);
}

// TAR's band (VSTAR's example rows, methods.md §4), its step window and its refusals.
static void check_tar(void) {
  float band[5 * 5];
  static const struct {
    float sigma, row[5];
    int n;
  } want[] = {{1, {1, .607f, .135f, .011f}, 4}, {4, {1, .969f, .883f, .755f, .607f}, 5}, {8, {1, .992f, .969f, .932f}, 4}};
  for (int i = 0; i < 3; i++) {
    dg_tar_band(want[i].n, want[i].sigma, band);
    bool ok = true;
    for (int j = 0; j < want[i].n; j++) ok = ok && fabsf(band[j] - want[i].row[j]) < 1e-3f && band[j * want[i].n] == band[j];
    dg_check(ok, "TAR band sigma %g: first row as VSTAR's, symmetric", (double)want[i].sigma);
  }
  dg_tar t;
  int64_t widths[2] = {64, 32};
  float sigmas[2] = {1, 8};
  if (dg_check_status(dg_tar_init(&t, 2, widths, sigmas, 1.0f, 13), "TAR 64D1_32D8")) {
    dg_tar_step(&t, 13);
    bool on = t.active;
    dg_tar_step(&t, 14);
    dg_check(on && !t.active, "TAR regularises steps 0..until (13) only");
  }
  float bad[1] = {0};
  dg_check_error(dg_tar_init(&t, 1, widths, bad, 1.0f, 13), DG_ERR_ARG, "sigma", "TAR sigma 0");
}

int main(int argc, char **argv) {
  golden_init(argc, argv, "test_golden_unet3d");
  // VideoCrafter2's checkpoint layout: a torch.save zip of {"state_dict": {"model.diffusion_model." ...}}.
  dg_weights *w = golden_weights("unet3d_weights.ckpt");;
  if (!w) return dg_test_finish();
  check_structure(w);
  check_tar();
  static const video_case cases[] = {
      {"unet3d.safetensors", 6, 0, 0, false, false},
      {"unet3d_tar.safetensors", 6, 4, 1.5f, true, false},
      {"unet3d_tar.safetensors", 6, 4, 1.5f, true, true},
      {"unet3d_f16.safetensors", 16, 0, 0, false, false},
      {"unet3d_f64.safetensors", 64, 2, 8.0f, false, false},
  };
  for (int d = 0; d < 2; d++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run(d ? DG_F16 : DG_F32, w, &cases[i]);
  dg_weights_close(w);
  return dg_test_finish();
}
