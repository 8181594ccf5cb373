// The video pipeline (render/pipelines/dg_video) on the tiny model folder with the tiny video UNet
// (tools/train/dgtrain/vstar_ref.py): VSP's per-frame weights exactly, a run's frames (deterministic, previews every
// step, TAR changes them, the captured temporal attention is row-stochastic, the layout ControlNet
// changes them), cancel, arguments refused naming the value, and a set without a video UNet refused.
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dg_safetensors.h"
#include "dg_test.h"
#include "dg_unet3d.h"
#include "dg_video.h"

#define H 32
#define W 64
#define F 6
#define FRAME_BYTES (H * W * 3)

typedef struct progress {
  int calls, frame;
  bool preview_ok;
  atomic_bool *cancel_at;
} progress;

static void on_step(void *user, int step, int total, int frame, const uint8_t *rgb, int w, int h) {
  (void)total;
  progress *p = user;
  p->calls++;
  p->frame = frame;
  p->preview_ok = rgb && w == W / 2 && h == H / 2;
  if (p->cancel_at && step == 0) atomic_store(p->cancel_at, true);
}

static int diff_bytes(const uint8_t *a, const uint8_t *b, size_t n) {
  int d = 0;
  for (size_t i = 0; i < n; i++)
    d += a[i] != b[i];
  return d;
}

static void check_weights(void) {
  int lo[16], hi[16];
  float w[16];
  // VSTAR's key frames: linspace(0, 15, 3) truncated = 0, 7, 15.
  dg_video_stage s3[3] = {{-1, "a"}, {-1, "b"}, {-1, "c"}};
  if (dg_check_status(dg_video_vsp_weights(s3, 3, 16, DG_VSP_LINEAR, lo, hi, w), "vsp linear")) {
    dg_check(lo[0] == 0 && hi[0] == 1 && w[0] == 0.0f, "frame 0: stage 0 alone");
    dg_check(lo[3] == 0 && hi[3] == 1 && w[3] == 3.0f / 7.0f, "frame 3: 3/7 of stage 1 (%d %d %g)", lo[3], hi[3], w[3]);
    dg_check(lo[7] == 1 && hi[7] == 2 && w[7] == 0.0f, "frame 7: stage 1 alone");
    dg_check(lo[11] == 1 && hi[11] == 2 && w[11] == 4.0f / 8.0f, "frame 11: half way (%g)", w[11]);
    dg_check(lo[15] == 2 && hi[15] == 2 && w[15] == 0.0f, "frame 15: the last stage");
  }
  dg_video_stage placed[2] = {{2, "a"}, {5, "b"}};
  if (dg_check_status(dg_video_vsp_weights(placed, 2, 8, DG_VSP_LINEAR, lo, hi, w), "vsp placed")) {
    dg_check(lo[0] == 0 && hi[0] == 0 && w[0] == 0.0f, "before the first key frame: the first stage");
    dg_check(lo[3] == 0 && hi[3] == 1 && w[3] == 1.0f / 3.0f, "frame 3 of key frames 2, 5: 1/3 (%g)", w[3]);
    dg_check(lo[7] == 1 && hi[7] == 1 && w[7] == 0.0f, "after the last key frame: the last stage");
  }
  if (dg_check_status(dg_video_vsp_weights(placed, 2, 8, DG_VSP_SAME, lo, hi, w), "vsp same")) {
    int want[8] = {0, 0, 0, 0, 0, 1, 1, 1};
    bool ok = true;
    for (int f = 0; f < 8; f++)
      ok &= lo[f] == want[f] && w[f] == 0.0f;
    dg_check(ok, "same: piecewise constant, each frame its stage");
  }
  dg_video_stage back[2] = {{4, "a"}, {2, "b"}}, mixed[2] = {{0, "a"}, {-1, "b"}}, late[1] = {{9, "a"}};
  dg_check_error(dg_video_vsp_weights(back, 2, 8, DG_VSP_LINEAR, lo, hi, w), DG_ERR_ARG, "frame 2",
                 "stages out of order");
  dg_check_error(dg_video_vsp_weights(mixed, 2, 8, DG_VSP_LINEAR, lo, hi, w), DG_ERR_ARG, "every stage",
                 "placed and unplaced stages");
  dg_check_error(dg_video_vsp_weights(late, 1, 8, DG_VSP_LINEAR, lo, hi, w), DG_ERR_ARG, "frame 9",
                 "a stage beyond the last frame");
  dg_check_error(dg_video_vsp_weights(s3, 3, 1, DG_VSP_LINEAR, lo, hi, w), DG_ERR_ARG, "1 frames", "one frame");
}

// The frames equal the PyTorch reference's (tools/train/dgtrain/vstar_ref.py: VSP + TAR, and VSP off without
// TAR; 4 frames of 32x32, 3 DDIM steps, eta 0) within a few 8-bit levels.
static void check_golden(dg_model_set *m) {
  dg_safetensors *g;
  if (!dg_test_ok(dg_safetensors_open(DG_GOLDEN_DIR "/generate.safetensors", &g), "golden video frames")) return;
  dg_video_stage stages[2] = {{0, "a red car on a snowy street at night"}, {3, "a blue car on a road in autumn"}};
  dg_tar tar, none;
  int64_t w16 = 16;
  float s1 = 1.0f;
  dg_tar_init(&tar, 1, &w16, &s1, 1.0f, 1);
  dg_tar_init(&none, 0, NULL, NULL, 1.0f, 0);
  const struct { const char *name; dg_vsp_mode vsp; const dg_tar *tar; } cases[2] = {
      {"vstar_frames", DG_VSP_LINEAR, &tar}, {"plain_frames", DG_VSP_OFF, &none}};
  static uint8_t got[4 * 32 * 32 * 3];
  for (int c = 0; c < 2; c++) {
    const dg_st_tensor *t = dg_safetensors_find(g, cases[c].name);
    if (!dg_check(t && t->dtype == DG_ST_U8 && t->numel == (int64_t)sizeof got, "golden %s [4, 32, 32, 3] u8",
                  cases[c].name))
      continue;
    const uint8_t *want = dg_safetensors_data(g, t);
    dg_video_params p = {.stages = stages, .n_stages = 2, .negative = "blurry", .frames = 4, .fps = 8, .width = 32,
                         .height = 32, .steps = 3, .cfg = 5.0f, .eta = 0.0f, .seed = 11, .vsp = cases[c].vsp,
                         .tar = cases[c].tar, .capture_layer = -1};
    if (!dg_test_ok(dg_video_generate(m, &p, got), cases[c].name)) continue;
    int worst = 0;
    for (size_t i = 0; i < sizeof got; i++)
      worst = abs(got[i] - want[i]) > worst ? abs(got[i] - want[i]) : worst;
    printf("%s: worst difference from PyTorch %d levels\n", cases[c].name, worst);
    dg_check(worst <= 2, "%s: frames within 2 levels of PyTorch's (worst %d)", cases[c].name, worst);
  }
  dg_safetensors_close(g);
}

int main(void) {
  dg_test_init("test_video_pipeline");
  check_weights();
  dg_model_set *m;
  dg_model_options mo = {.dtype = DG_F32, .video_unet = DG_PIPELINE_DIR "/tiny_video_unet.safetensors"};
  if (!dg_test_ok(dg_model_set_open(T.device, DG_PIPELINE_DIR "/tiny_model", &mo, &m), "open tiny model + video"))
    return dg_test_finish();
  printf("%s", dg_model_set_describe(m));
  dg_check(dg_model_set_has(m, DG_ROLE_VIDEO_UNET), "the set has the video UNet");
  // The editor bounds the attention picture's layer by the count read from the file's names alone.
  dg_weights *vw = NULL;
  const dg_unet3d *vu = dg_model_set_get(m, DG_ROLE_VIDEO_UNET);
  if (vu && dg_test_ok(dg_weights_open(mo.video_unet, &vw), "open the video UNet's weights")) {
    dg_check(vu->n_temporal > 0 && dg_unet3d_count_temporal(vw) == vu->n_temporal,
             "temporal layers from the names: %d, loaded: %d", dg_unet3d_count_temporal(vw), vu->n_temporal);
    dg_weights_close(vw);
  }
  check_golden(m);
  // The default TAR sits on the finest level that has temporal attention: the tiny UNet has none at level 0
  // (latent width 32 at 64 pixels), so level 1 (16); past 32 frames no second such level exists here.
  dg_tar dt;
  if (dg_test_ok(dg_video_tar_default(m, 64, 16, 3, &dt), "default TAR"))
    dg_check(dt.n_res == 1 && dt.res_width[0] == 16 && dt.sigma[0] == 1.0f && dt.until == 3,
             "default TAR: %d level(s), width %lld, sigma %g", dt.n_res, (long long)dt.res_width[0],
             (double)dt.sigma[0]);
  if (dg_test_ok(dg_video_tar_default(m, 64, 48, 3, &dt), "default TAR, 48 frames"))
    dg_check(dt.n_res == 1 && dt.res_width[0] == 16, "default TAR, 48 frames: %d level(s)", dt.n_res);
  static uint8_t a[F * FRAME_BYTES], b[F * FRAME_BYTES], c[F * FRAME_BYTES];
  dg_video_stage stages[2] = {{0, "a red car on a snowy street at night"}, {5, "a blue car on a road in autumn"}};
  progress pr = {0};
  dg_video_params p = {.stages = stages,
                       .n_stages = 2,
                       .negative = "blurry",
                       .frames = F,
                       .fps = 8,
                       .width = W,
                       .height = H,
                       .steps = 3,
                       .cfg = 5.0f,
                       .eta = 0.0f,
                       .seed = 7,
                       .vsp = DG_VSP_LINEAR,
                       .capture_layer = -1,
                       .preview_frame = 3,
                       .on_step = on_step,
                       .user = &pr};
  if (dg_test_ok(dg_video_generate(m, &p, a), "video generate")) {
    dg_check(pr.calls == 3 && pr.preview_ok && pr.frame == 3, "a preview of frame 3 every step (%d calls)", pr.calls);
    dg_check(diff_bytes(a, a + FRAME_BYTES, FRAME_BYTES) > 0, "frames differ from each other");
    if (dg_test_ok(dg_video_generate(m, &p, b), "video generate again"))
      dg_check(!memcmp(a, b, sizeof a), "the same seed gives the same frames");
  }
  // TAR (at both latent widths, every step) with the capture of temporal transformer 0's attn1 at step 1.
  float probs[F * F];
  dg_tar tar;
  int64_t widths[2] = {W / 2, W / 4};
  float sigmas[2] = {1.0f, 2.0f};
  dg_test_ok(dg_tar_init(&tar, 2, widths, sigmas, 1.0f, 2), "tar init");
  dg_video_params pt = p;
  pt.tar = &tar, pt.capture_layer = 0, pt.capture_attn = 0, pt.capture_step = 1, pt.capture = probs;
  pt.on_step = NULL;
  if (dg_test_ok(dg_video_generate(m, &pt, c), "video generate with TAR")) {
    int d = diff_bytes(a, c, sizeof a);
    dg_check(d > 0, "TAR changes the frames (%d bytes differ)", d);
    float worst = 0, diag = 0;
    for (int i = 0; i < F; i++) {
      float sum = 0;
      for (int j = 0; j < F; j++)
        sum += probs[i * F + j];
      worst = fmaxf(worst, fabsf(sum - 1.0f));
      diag += probs[i * F + i];
    }
    dg_check(worst < 1e-3f, "captured attention rows sum to 1 (off by %g)", worst);
    printf("captured attention: mean diagonal %.3f (uniform %.3f)\n", diag / F, 1.0f / F);
  }
  // VSP off and same differ from linear.
  dg_video_params po = p;
  po.on_step = NULL, po.vsp = DG_VSP_OFF;
  if (dg_test_ok(dg_video_generate(m, &po, c), "video generate without VSP"))
    dg_check(diff_bytes(a, c, sizeof a) > 0, "VSP off gives other frames");
  // The layout through the ControlNet, every frame.
  static uint8_t layout[H * W];
  for (int i = 0; i < H * W; i++)
    layout[i] = i < H * W / 2 ? 0 : (i % W >= 20 && i % W < 36) ? 9 : 5;
  dg_video_params pl = po;
  pl.vsp = DG_VSP_LINEAR, pl.layout = layout;
  if (dg_test_ok(dg_video_generate(m, &pl, c), "video generate with a layout"))
    dg_check(diff_bytes(a, c, sizeof a) > 0, "the layout changes the frames");
  // Cancel after the first step.
  atomic_bool cancel = false;
  progress pc = {.cancel_at = &cancel};
  dg_video_params pcn = p;
  pcn.cancel = &cancel, pcn.user = &pc;
  dg_check_error(dg_video_generate(m, &pcn, c), DG_ERR_CANCELLED, "cancel", "cancelled at a step boundary");
  dg_check(pc.calls == 1, "cancel stopped after one step (%d)", pc.calls);
  // Bad arguments, named.
  dg_video_params bad = p;
  bad.frames = 1;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "1 frames", "one frame");
  bad = p, bad.frames = 200;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "200 frames", "too many frames");
  bad = p, bad.width = 42;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "42x32", "a size off the multiple");
  bad = p, bad.steps = 0;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "0 steps", "no steps");
  bad = p, bad.capture_layer = 9, bad.capture = probs;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "capture layer 9", "a capture layer past the model's");
  dg_tar wide;
  int64_t w5 = 5;
  dg_tar_init(&wide, 1, &w5, sigmas, 1.0f, 2);
  bad = p, bad.tar = &wide;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "latent width 5", "TAR at a width the model lacks");
  dg_video_stage late[1] = {{7, "a"}};
  bad = p, bad.stages = late, bad.n_stages = 1;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "frame 7", "a stage past the last frame");
  bad = p, bad.frames = 128, bad.width = 2048, bad.height = 2048;
  dg_check_error(dg_video_generate(m, &bad, c), DG_ERR_ARG, "128 frames", "over the binding limit");
  dg_model_set_close(m);
  // Without a video UNet.
  mo.video_unet = NULL;
  if (dg_test_ok(dg_model_set_open(T.device, DG_PIPELINE_DIR "/tiny_model", &mo, &m), "open tiny model")) {
    dg_check_error(dg_video_generate(m, &p, c), DG_ERR_UNSUPPORTED, "video UNet", "no video UNet");
    dg_model_set_close(m);
  }
  return dg_test_finish();
}
