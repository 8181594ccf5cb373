#include "dg_video.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_clip_text.h"
#include "dg_denoise.h"
#include "dg_generate.h"
#include "dg_layout.h"
#include "dg_memory.h"
#include "dg_unet3d.h"
#include "dg_vae.h"

// ---- VSP ------------------------------------------------------------------------------------------

dg_status dg_video_check_stages(const dg_video_stage *stages, int n, int frames) {
  if (frames < 2 || frames > DG_VIDEO_MAX_FRAMES)
    return dg_fail(DG_ERR_ARG, "video: %d frames (2..%d)", frames, DG_VIDEO_MAX_FRAMES);
  if (!stages || n < 1 || n > DG_VIDEO_MAX_STAGES)
    return dg_fail(DG_ERR_ARG, "video: %d prompt stages (1..%d)", stages ? n : 0, DG_VIDEO_MAX_STAGES);
  bool placed = stages[0].frame >= 0;
  for (int i = 0; i < n; i++) {
    const char *bad;
    if (!stages[i].prompt) return dg_fail(DG_ERR_ARG, "video: stage %d has no prompt", i);
    if (!g_utf8_validate(stages[i].prompt, -1, &bad))
      return dg_fail(DG_ERR_ARG, "video: stage %d's prompt is not valid UTF-8 at byte %d", i,
                     (int)(bad - stages[i].prompt));
    if ((stages[i].frame >= 0) != placed)
      return dg_fail(DG_ERR_ARG, "video: stage %d at frame %d: either every stage has a frame or none has", i,
                     stages[i].frame);
    if (placed && stages[i].frame >= frames)
      return dg_fail(DG_ERR_ARG, "video: stage %d at frame %d, beyond the last frame %d", i, stages[i].frame,
                     frames - 1);
    if (placed && i && stages[i].frame <= stages[i - 1].frame)
      return dg_fail(DG_ERR_ARG, "video: stage %d at frame %d does not follow stage %d at frame %d", i,
                     stages[i].frame, i - 1, stages[i - 1].frame);
  }
  return DG_OK;
}

// Stage i's key frame: its own, or linspace(0, F - 1, M)[i] truncated.
static int key_frame(const dg_video_stage *stages, int n, int frames, int i) {
  if (stages[0].frame >= 0) return stages[i].frame;
  return n == 1 ? 0 : (int)((double)i * (frames - 1) / (n - 1));
}

dg_status dg_video_vsp_weights(const dg_video_stage *stages, int n_stages, int frames, dg_vsp_mode mode, int *lo,
                               int *hi, float *w) {
  DG_TRY(dg_video_check_stages(stages, n_stages, frames));
  if (mode != DG_VSP_OFF && mode != DG_VSP_LINEAR && mode != DG_VSP_SAME)
    return dg_fail(DG_ERR_ARG, "video: VSP mode %d (off 0, linear 1, same 2)", (int)mode);
  for (int f = 0; f < frames; f++) {
    lo[f] = hi[f] = 0, w[f] = 0.0f;
    if (mode == DG_VSP_OFF) continue;
    int i = 0;
    while (i + 1 < n_stages && key_frame(stages, n_stages, frames, i + 1) <= f)
      i++;
    lo[f] = hi[f] = i;
    int k0 = key_frame(stages, n_stages, frames, i);
    if (i + 1 < n_stages && f >= k0) {
      hi[f] = i + 1;
      if (mode == DG_VSP_LINEAR)
        w[f] = (float)(f - k0) / (float)(key_frame(stages, n_stages, frames, i + 1) - k0);
    }
    if (f < k0) hi[f] = lo[f]; // before the first key frame: the first stage
  }
  return DG_OK;
}

// ---- checks before any work -----------------------------------------------------------------------

static dg_status check_params(dg_model_set *m, const dg_video_params *p, const dg_unet3d *u) {
  DG_TRY(dg_video_check_stages(p->stages, p->n_stages, p->frames));
  if (p->vsp != DG_VSP_OFF && p->vsp != DG_VSP_LINEAR && p->vsp != DG_VSP_SAME)
    return dg_fail(DG_ERR_ARG, "video: VSP mode %d (off 0, linear 1, same 2)", (int)p->vsp);
  const char *bad;
  if (p->negative && !g_utf8_validate(p->negative, -1, &bad))
    return dg_fail(DG_ERR_ARG, "video: the negative prompt is not valid UTF-8 at byte %d", (int)(bad - p->negative));
  if (!(p->fps >= 0 && p->fps <= 240)) return dg_fail(DG_ERR_ARG, "video: fps %g (0..240; 0 means 8)", p->fps);
  if (p->steps < 1 || p->steps > 1000) return dg_fail(DG_ERR_ARG, "video: %d steps (1..1000)", p->steps);
  if (!(p->cfg >= 0 && p->cfg <= 100)) return dg_fail(DG_ERR_ARG, "video: guidance %g outside 0..100", p->cfg);
  if (!(p->eta >= 0 && p->eta <= 1)) return dg_fail(DG_ERR_ARG, "video: eta %g outside 0..1", p->eta);
  dg_model_sizes sizes;
  dg_model_set_sizes(m, &sizes);
  sizes.unet = u->cfg;
  sizes.multiple = sizes.factor << (u->cfg.num_levels - 1);
  uint64_t limit = dg_generate_max_binding(dg_stream_device(dg_model_set_stream(m)));
  DG_TRY(dg_model_sizes_check(&sizes, limit, dg_model_set_dtype(m), p->width, p->height));
  int lh = p->height / sizes.factor, lw = p->width / sizes.factor;
  const char *what;
  uint64_t whole = (uint64_t)dg_unet3d_largest_whole(&u->cfg, p->frames, lh, lw, &what) *
                   dg_dtype_size(dg_model_set_dtype(m));
  if (limit && whole > limit)
    return dg_fail(DG_ERR_ARG, "video: %d frames of %dx%d: %s takes %llu bytes in one binding, over the device's "
                               "limit of %llu bytes (fewer frames or a smaller size)",
                   p->frames, p->width, p->height, what, (unsigned long long)whole, (unsigned long long)limit);
  if (p->tar) {
    if (p->tar->n_res < 0 || p->tar->n_res > DG_TAR_MAX_RES)
      return dg_fail(DG_ERR_ARG, "video: TAR with %d resolutions (0..%d)", p->tar->n_res, DG_TAR_MAX_RES);
    for (int i = 0; i < p->tar->n_res; i++) {
      int64_t rw = p->tar->res_width[i];
      bool level = false;
      for (int l = 0; l < u->cfg.num_levels; l++)
        level |= rw == (int64_t)(lw >> l);
      if (!level || !(p->tar->sigma[i] > 0))
        return dg_fail(DG_ERR_ARG, "video: TAR at latent width %lld with sigma %g: the width must be one of the "
                                   "model's levels (%d, %d, ...) and sigma positive",
                       (long long)rw, (double)p->tar->sigma[i], lw, lw >> 1);
    }
    if (p->tar->n_res && p->tar->until < 0)
      return dg_fail(DG_ERR_ARG, "video: TAR until step %d (0 or more: the last step regularised)", p->tar->until);
  }
  if (p->capture_layer >= 0) {
    if (p->capture_layer >= u->n_temporal)
      return dg_fail(DG_ERR_ARG, "video: capture layer %d (the model has temporal transformers 0..%d)",
                     p->capture_layer, u->n_temporal - 1);
    if (p->capture_attn < 0 || p->capture_attn > 1)
      return dg_fail(DG_ERR_ARG, "video: capture attention %d (0: attn1, 1: attn2)", p->capture_attn);
    if (p->capture_step < 0 || p->capture_step >= p->steps)
      return dg_fail(DG_ERR_ARG, "video: capture step %d (0..%d)", p->capture_step, p->steps - 1);
    if (!p->capture) return dg_fail(DG_ERR_ARG, "video: capture layer %d without a buffer", p->capture_layer);
  }
  if (p->layout) {
    if (!dg_model_set_has_control(m))
      return dg_fail(DG_ERR_ARG, "video: a layout needs a layout ControlNet, and this model has none");
    int nc = dg_controlnet_num_outputs(dg_model_set_get(m, DG_ROLE_CONTROLNET));
    if (nc != dg_unet3d_num_control(u))
      return dg_fail(DG_ERR_ARG, "video: the layout ControlNet gives %d residuals, the video UNet takes %d", nc,
                     dg_unet3d_num_control(u));
  }
  return DG_OK;
}

// ---- the run --------------------------------------------------------------------------------------

typedef struct video_run {
  const dg_video_params *p;
  dg_tar tar;
  bool hooked;
  int lh, lw, frame; // preview frame
  uint8_t *rgb;
  float *probs; // the captured matrix on the host
  dg_status status;
} video_run;

static dg_status pre_step(void *user, int step, int t, float *x) {
  (void)t, (void)x;
  video_run *r = user;
  if (r->p->cancel && atomic_load(r->p->cancel)) return dg_fail(DG_ERR_CANCELLED, "video: cancelled at step %d", step);
  dg_tar_step(&r->tar, step);
  r->tar.capture_layer = step == r->p->capture_step ? r->p->capture_layer : -1;
  return DG_OK;
}

// The captured softmax(S') [B*H*W*heads, F, F], B the CFG passes: the mean over the last pass's (cond) rows.
static dg_status take_capture(video_run *r) {
  const dg_tensor *c = &r->tar.captured;
  int64_t rows = c->shape[0], f = r->p->frames, n = dg_tensor_numel(c);
  float *h = malloc((size_t)n * sizeof *h);
  if (!h) return dg_memory_fail("the captured attention", (uint64_t)n * sizeof *h);
  dg_status s = dg_tensor_read_f32(c, h);
  int passes = r->p->cfg != 1.0f ? 2 : 1;
  int64_t per = rows / passes, first = rows - per;
  for (int64_t i = 0; i < f * f; i++)
    r->p->capture[i] = 0.0f;
  for (int64_t b = first; s == DG_OK && b < rows; b++)
    for (int64_t i = 0; i < f * f; i++)
      r->p->capture[i] += h[b * f * f + i] / (float)per;
  free(h);
  return s;
}

static void on_step(void *user, int step, int total, const float *x, const float *pred_x0) {
  (void)x;
  video_run *r = user;
  if (r->status == DG_OK && step == r->p->capture_step && r->p->capture_layer >= 0) {
    r->status = r->tar.has_capture ? take_capture(r)
                                   : dg_fail(DG_ERR_ARG, "video: temporal transformer %d captured nothing at step %d",
                                             r->p->capture_layer, step);
  }
  if (!r->p->on_step) return;
  if (r->p->preview_frame_at) {
    int f = atomic_load(r->p->preview_frame_at);
    r->frame = f < 0 ? 0 : f >= r->p->frames ? r->p->frames - 1 : f;
  }
  dg_sampler_preview_rgb(pred_x0 + (int64_t)r->frame * 4 * r->lh * r->lw, r->lh, r->lw, r->rgb);
  r->p->on_step(r->p->user, step, total, r->frame, r->rgb, r->lw, r->lh);
}

// A prompt's encoding [1, L, D] read back into out (L * D floats, *ld of them checked).
static dg_status encode_host(dg_model_set *m, const dg_nn_ctx *nn, const char *text, float *out, int64_t *ld) {
  dg_tensor t;
  dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
  dg_status s = dg_generate_encode_prompt(m, nn, text, &t);
  if (s == DG_OK) s = dg_stream_finish(nn->s);
  if (s == DG_OK && t.shape[1] * t.shape[2] != *ld)
    s = dg_fail(DG_ERR_FORMAT, "video: the text encoding of \"%s\" has %lld values, not %lld", text,
                (long long)(t.shape[1] * t.shape[2]), (long long)*ld);
  if (s == DG_OK) s = dg_tensor_read_f32(&t, out);
  dg_arena_release(nn->scratch, mark);
  return s;
}

// cond [F, L, D] by VSP (or [1, L, D] of the joined prompts without) and uncond likewise, as tensors.
static dg_status contexts(dg_model_set *m, const dg_nn_ctx *nn, const dg_video_params *p, dg_tensor *cond,
                          dg_tensor *uncond) {
  const dg_clip_text *clip = dg_model_set_get(m, DG_ROLE_TEXT_ENCODER);
  int64_t f = p->frames, d = clip->cfg.width,
          l = clip->cfg.max_positions < DG_TOKENS_MAX ? clip->cfg.max_positions : DG_TOKENS_MAX, ld = l * d;
  int n = p->vsp == DG_VSP_OFF ? 1 : p->n_stages, rows = p->vsp == DG_VSP_OFF ? 1 : (int)f;
  float *stage = malloc((size_t)(n * ld) * sizeof *stage), *c = malloc((size_t)(rows * ld) * sizeof *c),
        *u = malloc((size_t)(rows * ld) * sizeof *u);
  int *lo = malloc((size_t)f * sizeof *lo), *hi = malloc((size_t)f * sizeof *hi);
  float *w = malloc((size_t)f * sizeof *w);
  dg_status s = stage && c && u && lo && hi && w ? DG_OK : dg_memory_fail("the frame contexts", (uint64_t)(3 * f * ld) * 4);
  if (s == DG_OK && p->vsp == DG_VSP_OFF) {
    GString *joined = g_string_new(NULL);
    for (int i = 0; i < p->n_stages; i++)
      g_string_append_printf(joined, "%s%s", i ? "; " : "", p->stages[i].prompt);
    s = encode_host(m, nn, joined->str, c, &ld);
    g_string_free(joined, TRUE);
  } else {
    for (int i = 0; i < n && s == DG_OK; i++)
      s = encode_host(m, nn, p->stages[i].prompt, stage + i * ld, &ld);
    if (s == DG_OK) s = dg_video_vsp_weights(p->stages, p->n_stages, p->frames, p->vsp, lo, hi, w);
    for (int64_t k = 0; s == DG_OK && k < f; k++)
      for (int64_t j = 0; j < ld; j++)
        c[k * ld + j] = (1.0f - w[k]) * stage[lo[k] * ld + j] + w[k] * stage[hi[k] * ld + j];
  }
  if (s == DG_OK) s = encode_host(m, nn, p->negative ? p->negative : "", u, &ld);
  for (int k = 1; s == DG_OK && k < rows; k++)
    memcpy(u + k * ld, u, (size_t)ld * sizeof *u);
  int64_t shape[3] = {rows, l, d};
  if (s == DG_OK) s = dg_nn_alloc(nn, 3, shape, cond);
  if (s == DG_OK) s = dg_tensor_write_f32(cond, c);
  if (s == DG_OK) s = dg_nn_alloc(nn, 3, shape, uncond);
  if (s == DG_OK) s = dg_tensor_write_f32(uncond, u);
  free(stage), free(c), free(u), free(lo), free(hi), free(w);
  return s;
}

// The layout's hint [1, ...] repeated for every frame [F, ...].
static dg_status frame_hint(dg_model_set *m, const dg_nn_ctx *nn, const dg_video_params *p, int lh, int lw,
                            dg_tensor *hint) {
  dg_generate_params gp = {.width = p->width,
                           .height = p->height,
                           .layout = p->layout,
                           .palette = p->palette,
                           .n_classes = p->n_classes};
  dg_tensor one;
  DG_TRY(dg_generate_layout_hint(m, nn, &gp, lh, lw, &one));
  // the same hint for every frame, repeated on the device
  const dg_tensor *copies[DG_VIDEO_MAX_FRAMES];
  for (int k = 0; k < p->frames; k++)
    copies[k] = &one;
  int64_t shape[4];
  memcpy(shape, one.shape, sizeof shape);
  shape[0] = p->frames;
  DG_TRY(dg_nn_alloc(nn, 4, shape, hint));
  return dg_concat(nn->s, copies, p->frames, 0, hint);
}

// Frame by frame: z = latent / scale_factor through the VAE decoder, to RGB8 (non-finite values refused).
static dg_status decode_frames(dg_model_set *m, const dg_nn_ctx *nn, const dg_video_params *p, const float *x, int lh,
                               int lw, uint8_t *rgb) {
  const dg_vae *vae = dg_model_set_get(m, DG_ROLE_VAE);
  float scale = dg_model_set_scale_factor(m);
  int64_t lat = 4LL * lh * lw, n = (int64_t)p->width * p->height;
  float *z = malloc((size_t)lat * sizeof *z), *img = malloc((size_t)(3 * n) * sizeof *img);
  dg_status s = z && img ? DG_OK : dg_memory_fail("the decoded frame", (uint64_t)(lat + 3 * n) * sizeof *z);
  int64_t shape[4] = {1, 4, lh, lw};
  for (int f = 0; f < p->frames && s == DG_OK; f++) {
    if (p->cancel && atomic_load(p->cancel)) {
      s = dg_fail(DG_ERR_CANCELLED, "video: cancelled while decoding frame %d", f);
      break;
    }
    for (int64_t i = 0; i < lat; i++)
      z[i] = x[f * lat + i] / scale;
    dg_arena_mark mark = dg_arena_get_mark(nn->scratch);
    dg_tensor zt, image;
    s = dg_nn_alloc(nn, 4, shape, &zt);
    if (s == DG_OK) s = dg_tensor_write_f32(&zt, z);
    if (s == DG_OK) s = dg_vae_decode(nn, vae, &zt, &image);
    dg_status fin = dg_stream_finish(nn->s);
    if (s == DG_OK) s = fin;
    if (s == DG_OK) s = dg_tensor_read_f32(&image, img);
    dg_arena_release(nn->scratch, mark);
    uint8_t *out = rgb + (size_t)f * n * 3;
    for (int64_t i = 0; s == DG_OK && i < n; i++)
      for (int c = 0; c < 3; c++) {
        float v = img[c * n + i];
        if (!isfinite(v)) {
          s = dg_fail(DG_ERR_FORMAT, "video: frame %d decodes to NaN or infinity at pixel %lld: the model's "
                                     "weights or configuration give non-finite activations",
                      f, (long long)i);
          break;
        }
        v = (v + 1.0f) * 127.5f;
        out[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
      }
  }
  free(z), free(img);
  return s;
}

int dg_video_attention_widths(const dg_model_set *m, int width, int64_t *widths, int max) {
  const dg_unet3d *u = dg_model_set_get(m, DG_ROLE_VIDEO_UNET);
  int lw = width / dg_model_set_latent_factor(m), n = 0;
  for (int l = 0; u && l < u->cfg.num_levels && n < max; l++)
    if (u->cfg.attention[l]) widths[n++] = lw >> l;
  return n;
}

dg_status dg_video_tar_default(dg_model_set *m, int width, int frames, int until, dg_tar *out) {
  if (!dg_model_set_has(m, DG_ROLE_VIDEO_UNET))
    return dg_fail(DG_ERR_UNSUPPORTED, "video: the model set has no video UNet for TAR");
  int64_t widths[2];
  const float sigmas[2] = {1.0f, 8.0f};
  int n = dg_video_attention_widths(m, width, widths, frames > 32 ? 2 : 1);
  return dg_tar_init(out, n, widths, sigmas, 1.0f, until);
}

dg_status dg_video_generate(dg_model_set *m, const dg_video_params *p, uint8_t *rgb) {
  const dg_unet3d *u = dg_model_set_get(m, DG_ROLE_VIDEO_UNET);
  if (!u)
    return dg_fail(DG_ERR_UNSUPPORTED, "video: the model set has no video UNet (video_unet.safetensors in the model "
                                       "folder, or dg_model_options.video_unet / --video-unet FILE)");
  if (!p || !rgb) return dg_fail(DG_ERR_ARG, "video: no parameters or no output");
  DG_TRY(check_params(m, p, u));
  int fac = dg_model_set_latent_factor(m), lh = p->height / fac, lw = p->width / fac, frames = p->frames;
  dg_stream *stream = dg_model_set_stream(m);
  dg_arena *scratch = dg_model_set_scratch(m), *keep = NULL;
  dg_arena_mark mark = dg_arena_get_mark(scratch);
  dg_stream_set_cancel(stream, p->cancel);
  dg_nn_ctx nn = {.s = stream, .scratch = scratch, .dtype = dg_model_set_dtype(m)};
  video_run r = {.p = p, .lh = lh, .lw = lw, .rgb = malloc((size_t)lh * lw * 3)};
  r.frame = p->preview_frame < 0 ? 0 : p->preview_frame >= frames ? frames - 1 : p->preview_frame;
  int64_t latent = (int64_t)frames * 4 * lh * lw;
  float *x = malloc((size_t)latent * sizeof *x);
  dg_status s = r.rgb && x ? DG_OK : dg_memory_fail("the video latent", (uint64_t)latent * sizeof *x);
  if (s == DG_OK && p->tar) r.tar = *p->tar;
  else if (s == DG_OK) s = dg_tar_init(&r.tar, 0, NULL, NULL, 1.0f, 0);
  r.tar.capture_layer = -1, r.tar.capture_attn = p->capture_attn, r.tar.has_capture = false;
  r.hooked = r.tar.n_res > 0 || p->capture_layer >= 0;
  if (s == DG_OK && r.hooked) s = dg_arena_create(dg_stream_device(stream), 0, &keep);
  if (s == DG_OK && r.hooked) s = dg_tar_prepare(&r.tar, stream, scratch, keep, nn.dtype, frames);
  dg_tensor cond, uncond, hint;
  if (s == DG_OK) s = contexts(m, &nn, p, &cond, &uncond);
  if (s == DG_OK && p->layout) s = frame_hint(m, &nn, p, lh, lw, &hint);
  dg_denoise_model dm = {.unet3d = u,
                         .fps = p->fps > 0 ? p->fps : 8.0f,
                         .control = p->layout ? dg_model_set_get(m, DG_ROLE_CONTROLNET) : NULL,
                         .hint = p->layout ? &hint : NULL,
                         .control_scale = p->control_scale > 0 ? p->control_scale : 1.0f,
                         .cond = &cond,
                         .uncond = &uncond,
                         .cfg_scale = p->cfg};
  dg_nn_hooks hooks = {.temporal_bias = dg_tar_bias, .temporal_user = &r.tar};
  dg_nn_ctx dnn = nn;
  if (r.hooked) dnn.hooks = &hooks;
  int64_t shape[5] = {1, frames, 4, lh, lw};
  dg_denoiser *dn = NULL;
  if (s == DG_OK) s = dg_denoiser_new(&dnn, &dm, 5, shape, &dn);
  dg_denoise_params dp = {.sampler = {.kind = DG_SAMPLER_DDIM, .steps = p->steps, .eta = p->eta, .seed = p->seed},
                          .pre_step = pre_step,
                          .pre_user = &r,
                          .on_step = on_step,
                          .step_user = &r};
  if (s == DG_OK) s = dg_denoise(dn, &dp, x);
  if (s == DG_OK) s = r.status;
  dg_denoiser_free(dn);
  if (s != DG_OK) dg_stream_finish(stream);
  dg_arena_release(scratch, mark);
  if (s == DG_OK) s = decode_frames(m, &nn, p, x, lh, lw, rgb);
  dg_stream_set_cancel(stream, NULL);
  dg_arena_release(scratch, mark);
  if (keep) dg_arena_destroy(keep);
  free(r.rgb);
  free(x);
  return s;
}
