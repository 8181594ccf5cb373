#include "dg_generate.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_clip_text.h"
#include "dg_controlnet.h"
#include "dg_attn_maps.h"
#include "dg_denoise.h"
#include "dg_memory.h"
#include "dg_tokenizer.h"
#include "dg_tiny_decoder.h"
#include "dg_vae.h"

// The largest tensor of the UNet that cannot be split over bindings, for an image, in bytes; *what
// names it.
static uint64_t largest_whole(const dg_model_sizes *s, dg_dtype dtype, int width, int height, const char **what) {
  int64_t n = dg_unet_largest_whole(&s->unet, height / s->factor, width / s->factor, what);
  return (uint64_t)n * dg_dtype_size(dtype);
}

uint64_t dg_generate_max_binding(const dg_device *device) {
  const dg_device_info *info = device ? dg_device_get_info(device) : NULL;
  return info ? info->max_binding_bytes - info->min_storage_offset_alignment : 0;
}

dg_status dg_model_sizes_check(const dg_model_sizes *s, uint64_t max_binding, dg_dtype dtype, int width, int height) {
  int m = s->multiple, top = DG_GENERATE_MAX_SIDE / m * m;
  const char *what;
  if (width < m || height < m || width % m || height % m || width > top || height > top)
    return dg_fail(DG_ERR_ARG, "image size %dx%d: width and height must be multiples of %d from %d to %d for this model",
                   width, height, m, m, top);
  uint64_t need = largest_whole(s, dtype, width, height, &what);
  if (!max_binding || need <= max_binding) return DG_OK;
  int side = 0; // the largest square that fits
  for (int k = m; k <= top && largest_whole(s, dtype, k, k, &what) <= max_binding; k += m)
    side = k;
  largest_whole(s, dtype, width, height, &what);
  bool mib = max_binding >= 1u << 20;
  double unit = mib ? 1048576.0 : 1024.0;
  return dg_fail(DG_ERR_ARG, "image size %dx%d is too large for this model on this device: %s would need %.1f %s in "
                             "one binding, over the device's %.1f %s limit (a square image may be at most %dx%d)",
                 width, height, what, (double)need / unit, mib ? "MiB" : "KiB", (double)max_binding / unit,
                 mib ? "MiB" : "KiB", side, side);
}

dg_status dg_generate_encode_prompt(const dg_model_set *m, const dg_nn_ctx *nn, const char *prompt, dg_tensor *context) {
  const dg_clip_text *clip = dg_model_set_get(m, DG_ROLE_TEXT_ENCODER);
  int32_t ids[DG_TOKENS_MAX];
  DG_TRY(dg_tokenizer_encode(dg_model_set_tokenizer(m), prompt ? prompt : "", DG_TOKENS_MAX, ids, NULL, NULL));
  int len = clip->cfg.max_positions < DG_TOKENS_MAX ? clip->cfg.max_positions : DG_TOKENS_MAX;
  return dg_clip_text_forward(nn, clip, ids, 1, len, 0, context);
}

// A prompt's text encoding, from the cache when it holds the text (stored there after an encoding:
// read back once the stream finished).
static dg_status cached_prompt(const dg_model_set *m, const dg_nn_ctx *nn, dg_generate_cache *cache, const char *text,
                               dg_tensor *context) {
  if (!cache) return dg_generate_encode_prompt(m, nn, text, context);
  text = text ? text : "";
  int ndim;
  int64_t shape[4];
  const float *v = dg_generate_cache_find(cache, DG_GENERATE_CACHE_TEXT, text, strlen(text), &ndim, shape);
  if (v) {
    DG_TRY(dg_nn_alloc(nn, ndim, shape, context));
    return dg_tensor_write_f32(context, v);
  }
  DG_TRY(dg_generate_encode_prompt(m, nn, text, context));
  if (context->ndim > 4) return DG_OK; // not storable; used as is
  DG_TRY(dg_stream_finish(nn->s));
  int64_t n = dg_tensor_numel(context);
  float *buf = malloc((size_t)n * sizeof *buf);
  if (!buf) return dg_memory_fail("the cached text encoding", (uint64_t)n * sizeof *buf);
  dg_status s = dg_tensor_read_f32(context, buf);
  if (s == DG_OK)
    s = dg_generate_cache_put(cache, DG_GENERATE_CACHE_TEXT, text, strlen(text), context->ndim, context->shape, buf);
  free(buf);
  return s;
}

// The ControlNet hint's values for a layout (*v, malloc'd, of *shape): ALDM class embeddings at 2x
// latent resolution, or palette colours at image resolution.
static dg_status layout_hint_values(const dg_model_set *m, const dg_generate_params *p, int lh, int lw, float **v,
                                    int64_t shape[4]) {
  int classes, d;
  const float *table = dg_model_set_class_table(m, &classes, &d);
  if (table) {
    int h = 2 * lh, w = 2 * lw;
    int32_t *label = malloc((size_t)p->width * p->height * sizeof *label);
    *v = malloc((size_t)d * h * w * sizeof **v);
    if (!label || !*v) {
      free(label), free(*v), *v = NULL;
      return dg_memory_fail("the layout hint",
                            (uint64_t)p->width * p->height * sizeof *label + (uint64_t)d * h * w * sizeof **v);
    }
    for (int i = 0; i < p->width * p->height; i++) label[i] = p->layout[i]; // 255 is beyond the classes: null
    dg_controlnet_id_hint(label, p->height, p->width, table, classes, d, h, w, *v);
    free(label);
    shape[0] = 1, shape[1] = d, shape[2] = h, shape[3] = w;
    return DG_OK;
  }
  if (((const dg_controlnet *)dg_model_set_get(m, DG_ROLE_CONTROLNET))->id_hint)
    return dg_fail(DG_ERR_ARG, "generate: the ALDM ControlNet stores no class table and none was computed: open the "
                               "model with the palette's class names");
  if (!p->palette) return dg_fail(DG_ERR_ARG, "generate: a colour-hint ControlNet needs the class palette");
  int64_t n = (int64_t)p->width * p->height;
  *v = malloc((size_t)(3 * n) * sizeof **v);
  if (!*v) return dg_memory_fail("the layout hint", (uint64_t)(3 * n) * sizeof **v);
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      (*v)[c * n + i] = p->layout[i] < p->n_classes ? p->palette[p->layout[i]][c] / 255.0f : 0.0f;
  shape[0] = 1, shape[1] = 3, shape[2] = p->height, shape[3] = p->width;
  return DG_OK;
}

// The ControlNet hint for the layout, from the cache when it holds this layout (its bytes, size and
// palette colours).
dg_status dg_generate_layout_hint(const dg_model_set *m, const dg_nn_ctx *nn, const dg_generate_params *p, int lh,
                                  int lw, dg_tensor *hint) {
  GByteArray *key = NULL;
  int ndim = 4;
  int64_t shape[4];
  const float *cached = NULL;
  if (p->cache) {
    int head[3] = {p->width, p->height, p->palette ? p->n_classes : 0};
    key = g_byte_array_new();
    g_byte_array_append(key, (const guint8 *)head, sizeof head);
    g_byte_array_append(key, p->layout, (guint)(p->width * p->height));
    if (p->palette) g_byte_array_append(key, (const guint8 *)p->palette, (guint)(3 * p->n_classes));
    cached = dg_generate_cache_find(p->cache, DG_GENERATE_CACHE_HINT, key->data, key->len, &ndim, shape);
  }
  float *v = NULL;
  dg_status s = cached ? DG_OK : layout_hint_values(m, p, lh, lw, &v, shape);
  if (s == DG_OK && key && !cached)
    s = dg_generate_cache_put(p->cache, DG_GENERATE_CACHE_HINT, key->data, key->len, 4, shape, v);
  if (s == DG_OK) s = dg_nn_alloc(nn, ndim, shape, hint);
  if (s == DG_OK) s = dg_tensor_write_f32(hint, cached ? cached : v);
  free(v);
  if (key) g_byte_array_unref(key);
  return s;
}

typedef struct step_ctx {
  const dg_generate_params *p;
  int lh, lw;
  float scale;
  uint8_t *rgb;
  dg_attn_maps *maps; // NULL: no maps asked
  float *map_buf;
  dg_status attn_status;
} step_ctx;

static void on_step(void *user, int step, int total, const float *x, const float *pred_x0) {
  (void)x;
  step_ctx *c = user;
  if (c->maps && c->attn_status == DG_OK) {
    int mh, mw;
    dg_attn_maps_size(c->maps, &mh, &mw);
    c->attn_status = dg_attn_maps_take(c->maps, c->map_buf);
    if (c->attn_status == DG_OK && c->p->on_attn(c->p->attn_user, step, total, c->map_buf,
                                                 dg_attn_maps_n_tokens(c->maps), mh, mw))
      c->attn_status = dg_fail(DG_ERR_CANCELLED, "generate: stopped by the attention maps' receiver");
  }
  if (!c->p->on_step) return;
  (void)c->scale; // the preview map expects scaled latents, which pred_x0 is
  dg_sampler_preview_rgb(pred_x0, c->lh, c->lw, c->rgb);
  c->p->on_step(c->p->user, step, total, c->rgb, c->lw, c->lh);
}

static int context_length(const dg_model_set *m) {
  const dg_clip_text *clip = dg_model_set_get(m, DG_ROLE_TEXT_ENCODER);
  return clip->cfg.max_positions < DG_TOKENS_MAX ? clip->cfg.max_positions : DG_TOKENS_MAX;
}

dg_status dg_generate_marks(const dg_model_set *m, const char *prompt, const char *text, dg_marks *out) {
  return dg_marks_resolve(dg_model_set_tokenizer(m), prompt, context_length(m), text, out);
}

// The collector of the attention maps for the prompt's tokens (those between its start and end tokens).
static dg_status attn_maps_new(dg_model_set *m, const dg_generate_params *p, const dg_unet *unet, int lh,
                               int lw, step_ctx *sc) {
  int32_t ids[DG_TOKENS_MAX];
  int n;
  DG_TRY(dg_tokenizer_encode(dg_model_set_tokenizer(m), p->prompt ? p->prompt : "", context_length(m), ids, NULL, &n));
  DG_TRY(dg_attn_maps_new(dg_model_set_stream(m), unet, lh, lw, n - 2, &sc->maps));
  int mh, mw;
  dg_attn_maps_size(sc->maps, &mh, &mw);
  sc->map_buf = malloc((size_t)(n - 2) * mh * mw * sizeof *sc->map_buf);
  return sc->map_buf ? DG_OK : dg_fail(DG_ERR_OOM, "generate: out of memory for the attention maps");
}

// The attention guidance of the marked objects (p->guidance), on the cond context and the layout's hint.
static dg_status guidance_new(dg_model_set *m, const dg_nn_ctx *nn, const dg_generate_params *p,
                              const dg_denoise_model *dm, int lh, int lw, const dg_sampler_opts *so, dg_guidance **out) {
  int32_t ids[DG_TOKENS_MAX];
  int n;
  DG_TRY(dg_tokenizer_encode(dg_model_set_tokenizer(m), p->prompt ? p->prompt : "", context_length(m), ids, NULL, &n));
  dg_guidance_setup gs = {.kind = p->guidance,
                          .unet = dm->unet,
                          .control = dm->control,
                          .hint = dm->hint,
                          .control_scale = dm->control_scale,
                          .cond = dm->cond,
                          .marks = p->marks,
                          .n_prompt_tokens = n - 2,
                          .lh = lh,
                          .lw = lw,
                          .evaluations = dg_sampler_evaluations(so)};
  return dg_guidance_new(nn, &gs, out);
}

// The decoded image (planar floats, n pixels) as RGB8, refused when it is no picture: NaN or infinite
// values (damaged weights, an overflow), or every pixel the same colour.
static dg_status to_rgb8(const float *img, int64_t n, uint8_t *rgb) {
  for (int64_t i = 0; i < 3 * n; i++)
    if (!isfinite(img[i]))
      return dg_fail(DG_ERR_FORMAT, "generate: the decoded image holds NaN or infinity (value %lld of %lld): the "
                                    "model's weights or configuration give non-finite activations",
                     (long long)i, (long long)(3 * n));
  bool varies = false;
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      float v = (img[c * n + i] + 1.0f) * 127.5f;
      rgb[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
      varies |= rgb[i * 3 + c] != rgb[c];
    }
  if (!varies)
    return dg_fail(DG_ERR_FORMAT, "generate: the result is one flat colour (%d, %d, %d) everywhere, no picture: the "
                                  "model's weights or configuration are wrong",
                   rgb[0], rgb[1], rgb[2]);
  return DG_OK;
}

dg_status dg_generate(dg_model_set *m, const dg_generate_params *p, uint8_t *rgb) {
  int f = dg_model_set_latent_factor(m);
  dg_model_sizes sizes;
  dg_model_set_sizes(m, &sizes);
  DG_TRY(dg_model_sizes_check(&sizes, dg_generate_max_binding(dg_stream_device(dg_model_set_stream(m))),
                              dg_model_set_dtype(m), p->width, p->height));
  if (p->steps < 1 || p->steps > 1000) return dg_fail(DG_ERR_ARG, "generate: %d steps (1..1000)", p->steps);
  const char *bad, *texts[2] = {p->prompt ? p->prompt : "", p->negative ? p->negative : ""};
  for (int i = 0; i < 2; i++)
    if (!g_utf8_validate(texts[i], -1, &bad))
      return dg_fail(DG_ERR_ARG, "generate: the %s is not valid UTF-8 at byte %d", i ? "negative prompt" : "prompt",
                     (int)(bad - texts[i]));
  if (!(p->cfg >= 0 && p->cfg <= 100)) return dg_fail(DG_ERR_ARG, "generate: guidance %g outside 0..100", p->cfg);
  if (p->layout && !dg_model_set_has_control(m))
    return dg_fail(DG_ERR_ARG, "generate: a layout needs a layout ControlNet, and this model has none");
  const dg_unet *unet = dg_model_set_get(m, DG_ROLE_UNET);
  const dg_vae *vae = dg_model_set_get(m, DG_ROLE_VAE);
  dg_stream *stream = dg_model_set_stream(m);
  dg_arena *scratch = dg_model_set_scratch(m);
  float scale_factor = dg_model_set_scale_factor(m);
  int lh = p->height / f, lw = p->width / f;
  dg_arena_mark mark = dg_arena_get_mark(scratch);
  dg_stream_set_cancel(stream, p->cancel);
  dg_nn_ctx nn = {.s = stream, .scratch = scratch, .dtype = dg_model_set_dtype(m)};
  dg_tensor cond, uncond, hint;
  dg_denoiser *dn = NULL;
  step_ctx sc = {.p = p, .lh = lh, .lw = lw, .scale = scale_factor, .rgb = malloc((size_t)lh * lw * 3)};
  int64_t latent = (int64_t)unet->enc.cfg.in_channels * lh * lw;
  float *x = malloc((size_t)latent * sizeof *x);
  dg_status s = sc.rgb && x ? DG_OK : dg_memory_fail("the latent", (uint64_t)latent * sizeof *x + (uint64_t)lh * lw * 3);
  if (p->cache) dg_generate_cache_bind(p->cache, m);
  if (s == DG_OK) s = cached_prompt(m, &nn, p->cache, p->prompt, &cond);
  if (s == DG_OK) s = cached_prompt(m, &nn, p->cache, p->negative, &uncond);
  if (s == DG_OK && p->layout) s = dg_generate_layout_hint(m, &nn, p, lh, lw, &hint);
  int64_t shape[4] = {1, unet->enc.cfg.in_channels, lh, lw};
  dg_denoise_model dm = {.unet = unet,
                         .control = p->layout ? dg_model_set_get(m, DG_ROLE_CONTROLNET) : NULL,
                         .hint = p->layout ? &hint : NULL,
                         .control_scale = p->control_scale > 0 ? p->control_scale : 1.0f,
                         .cond = &cond,
                         .uncond = &uncond,
                         .cfg_scale = p->cfg};
  dg_nn_hooks hooks = {0};
  dg_nn_ctx dnn = nn;
  if (s == DG_OK && p->on_attn) s = attn_maps_new(m, p, unet, lh, lw, &sc);
  if (s == DG_OK && sc.maps) {
    hooks.attn_capture = dg_attn_maps_capture(sc.maps);
    dnn.hooks = &hooks;
  }
  if (s == DG_OK) s = dg_denoiser_new(&dnn, &dm, 4, shape, &dn);
  dg_denoise_params dp = {.sampler = {.kind = p->sampler, .steps = p->steps, .eta = p->eta, .seed = p->seed},
                          .on_step = on_step,
                          .step_user = &sc};
  dg_guidance *gd = NULL;
  if (s == DG_OK && p->guidance != DG_GUIDANCE_NONE && p->marks && p->marks->n_objects > 0)
    s = guidance_new(m, &nn, p, &dm, lh, lw, &dp.sampler, &gd);
  if (gd) dp.pre_step = dg_guidance_pre_step, dp.pre_user = gd;
  if (s == DG_OK) s = dg_denoise(dn, &dp, x);
  if (gd && p->guidance_stats) dg_guidance_get_stats(gd, p->guidance_stats);
  if (s == DG_OK) s = sc.attn_status;
  // Decode: z = latent / scale_factor.
  dg_tensor z, image;
  if (s == DG_OK) {
    for (int64_t i = 0; i < latent; i++)
      x[i] /= scale_factor;
    s = dg_nn_alloc(&nn, 4, shape, &z);
  }
  if (s == DG_OK) {
    s = dg_tensor_write_f32(&z, x);
    const dg_tiny_decoder *tiny = p->fast_decode ? dg_model_set_get(m, DG_ROLE_TINY_DECODER) : NULL;
    if (tiny && !dg_tiny_decoder_fits(&nn, tiny, 1, lh, lw)) tiny = NULL;
    if (s == DG_OK) s = tiny ? dg_tiny_decoder_decode(&nn, tiny, &z, &image) : dg_vae_decode(&nn, vae, &z, &image);
  }
  if (s == DG_OK) s = dg_stream_finish(stream);
  if (s == DG_OK) {
    int64_t n = (int64_t)p->width * p->height;
    float *img = malloc((size_t)(3 * n) * sizeof *img);
    if (!img) s = dg_memory_fail("the decoded image", (uint64_t)(3 * n) * sizeof *img);
    else {
      s = dg_tensor_read_f32(&image, img);
      if (s == DG_OK) s = to_rgb8(img, n, rgb);
      free(img);
    }
  }
  if (s != DG_OK && s != DG_ERR_CANCELLED) dg_stream_finish(stream);
  dg_denoiser_free(dn);
  dg_guidance_free(gd);
  dg_stream_set_cancel(stream, NULL);
  dg_arena_release(scratch, mark);
  free(sc.rgb);
  dg_attn_maps_free(sc.maps);
  free(sc.map_buf);
  free(x);
  return s;
}
