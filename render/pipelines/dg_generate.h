// The image task pipeline, text-to-image and layout-to-image: prompt -> CLIP text encoder ->
// dg_denoise ((ControlNet, UNet) x steps with classifier-free guidance) -> VAE decoder -> RGB, on a
// model set's text encoder, UNet, VAE and (with a layout) ControlNet roles. A per-step callback gets a
// cheap latent -> RGB preview of the predicted x0; a cancellation flag stops within one step. Video and
// stylize pipelines come beside it, on the same model set and denoise loop.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dg_generate_cache.h"
#include "dg_guidance.h"
#include "dg_marks.h"
#include "dg_model_set.h"
#include "dg_sampler.h"

// The image sizes a model set generates: width and height multiples of the set's `multiple` (the VAE's
// latent factor times the UNet's downsampling) up to DG_GENERATE_MAX_SIDE, small enough that the
// largest tensor the UNet hands whole to an op that cannot split it over bindings
// (dg_unet_largest_whole) fits one binding of the device.
#define DG_GENERATE_MAX_SIDE 4096 // largest width or height generated
// DG_ERR_ARG stating the rule unless width x height can be generated ("image size 40x40: width and height
// must be multiples of 32 from 32 to 4096 for this model", or "... too large for this model on this
// device ... (a square image may be at most SxS)"). max_binding: the bytes one binding may hold
// (dg_generate_max_binding); 0 leaves out the binding limit (no device yet).
dg_status dg_model_sizes_check(const dg_model_sizes *s, uint64_t max_binding, dg_dtype dtype, int width, int height);
// The device's binding limit less the offset alignment a window into a tensor may need (what the ops
// bind at most); 0 for no device.
uint64_t dg_generate_max_binding(const dg_device *device);

typedef void (*dg_generate_step_fn)(void *user, int step, int total, const uint8_t *rgb, int width, int height);
// After step `step` of total: the aggregated cross-attention maps of the prompt's tokens 1..n_tokens,
// [n_tokens, mh, mw] (dg_attn_maps: the cond branch, this step's evaluations). A non-zero return stops
// the generation with DG_ERR_CANCELLED.
typedef int (*dg_generate_attn_fn)(void *user, int step, int total, const float *maps, int n_tokens, int mh, int mw);

typedef struct dg_generate_params {
  const char *prompt, *negative;
  int width, height; // image size, as dg_model_sizes_check allows (at most DG_GENERATE_MAX_SIDE)
  int steps;
  float cfg;
  uint64_t seed;
  dg_sampler_kind sampler;
  float eta; // DDIM only
  // Optional layout (class ids, 255 unlabelled) of width x height for the ControlNet.
  const uint8_t *layout;
  const uint8_t (*palette)[3]; // colours of the classes, for a colour-hint ControlNet
  int n_classes;
  float control_scale; // 0 means 1
  const atomic_bool *cancel;
  dg_generate_step_fn on_step; // preview at latent resolution
  void *user;
  // Optional: attention maps every step (the prompt's tokens; NULL: no capture, nothing slower).
  dg_generate_attn_fn on_attn;
  void *attn_user;
  // Attention guidance of the marked objects (dg_guidance.h). NONE, or marks with no object: plain
  // sampling, unchanged.
  dg_guidance_kind guidance;
  const dg_marks *marks;                 // resolved against this prompt (dg_generate_marks); NULL: none
  dg_guidance_stats *guidance_stats;     // optional: what the guidance did
  // Optional: text encodings and layout hints kept between generations (dg_generate_cache.h); NULL
  // computes them every time. Same images either way.
  dg_generate_cache *cache;
  // Decode with the set's tiny decoder (DG_ROLE_TINY_DECODER, a live frame's) when it has one and the
  // latent fits it; else, and when false, the VAE decoder.
  bool fast_decode;
} dg_generate_params;

// The marks text (dg_marks.h) resolved against the prompt with the model's tokenizer and context length.
dg_status dg_generate_marks(const dg_model_set *m, const char *prompt, const char *text, dg_marks *out);

// Shared with the video pipeline: a prompt's text encoding [1, L, D] (NULL: ""), and the ControlNet hint
// [1, ...] of p's layout (width, height, palette, n_classes; from p->cache when set) at latent size lh x lw.
dg_status dg_generate_encode_prompt(const dg_model_set *m, const dg_nn_ctx *nn, const char *prompt, dg_tensor *context);
dg_status dg_generate_layout_hint(const dg_model_set *m, const dg_nn_ctx *nn, const dg_generate_params *p, int lh,
                                  int lw, dg_tensor *hint);

// rgb: width * height * 3 bytes. DG_ERR_CANCELLED when the flag stopped it. A result that is no picture
// (NaN or infinity decoded, or one flat colour everywhere) is DG_ERR_FORMAT, never an image.
dg_status dg_generate(dg_model_set *m, const dg_generate_params *p, uint8_t *rgb);
