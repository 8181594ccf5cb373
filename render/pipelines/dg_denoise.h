// The denoising loop every generation task runs: x_T (seeded noise) -> the sampler's steps -> the
// final latent, on latents of up to 5 dims: [N, C, h, w] for images, [N, F, C, h, w] for videos (the
// frames folded into the batch, [N*F, C, h, w], for the models; the model context carries F).
//
// Each step i: the pre-step hook (may update the latent in place: Divide & Bind's gradient step),
// the denoiser's eps for the latent (the model on [uncond; cond] in one batch, then classifier-free
// guidance eps = eu + s (ec - eu)), the sampler's update (dg_sampler: scheduler arithmetic only),
// the step callback. The latent lives on the host in f32 between model evaluations.
#pragma once
#include <stdint.h>

#include "dg_controlnet.h"
#include "dg_sampler.h"
#include "dg_unet.h"
#include "dg_unet3d.h"

// What predicts the noise: the image UNet or the video UNet (on 5-dim latents), optionally a ControlNet
// with its hint, and the text conditioning with its guidance.
typedef struct dg_denoise_model {
  const dg_unet *unet;
  const dg_unet3d *unet3d; // set: the video UNet runs instead of unet
  float fps;               // the video UNet's frame-rate conditioning (0: its default)
  const dg_controlnet *control; // NULL: none
  const dg_tensor *hint;        // the ControlNet's hint [N, ...] or per frame [N*F, ...] (encoded once per run)
  float control_scale;          // 1 = as trained
  // Contexts [N, L, D] (or [N*F, L, D]: one per frame); uncond NULL or cfg_scale 1: no guidance.
  const dg_tensor *cond, *uncond;
  float cfg_scale;
} dg_denoise_model;

// The model prepared for a run on latents of one shape: contexts and hint batched as [uncond; cond],
// the hint encoded, buffers allocated (from nn's scratch, which the denoiser keeps using; release it
// after dg_denoiser_free). nn (hooks included) is copied and used for every model evaluation.
typedef struct dg_denoiser dg_denoiser;
dg_status dg_denoiser_new(const dg_nn_ctx *nn, const dg_denoise_model *m, int ndim, const int64_t *shape,
                          dg_denoiser **out);
void dg_denoiser_free(dg_denoiser *d);
// The guided eps at latent x (host, the denoiser's shape) and timestep t. Each evaluation finishes the
// stream (so cancellation through the stream's flag stops within one step) and releases its scratch.
dg_status dg_denoiser_eps(dg_denoiser *d, const float *x, int t, float *eps);

// Before step i (timestep t): may change the latent x (host, the loop's shape) in place.
typedef dg_status (*dg_prestep_fn)(void *user, int step, int t, float *x);
// After step i of total: the updated latent and the predicted x0 (host, the latent's shape).
typedef void (*dg_step_fn)(void *user, int step, int total, const float *x, const float *pred_x0);

typedef struct dg_denoise_params {
  dg_sampler_opts sampler; // kind, steps, eta, seed
  const float *x_T;        // NULL: randn(seed, stream 0) of the latent's size
  dg_prestep_fn pre_step;  // NULL: none
  void *pre_user;
  dg_step_fn on_step; // NULL: none
  void *step_user;
} dg_denoise_params;

// Runs the loop; x_out (the denoiser's shape) gets the final latent. A model error (DG_ERR_CANCELLED
// included) or a hook's error stops it.
dg_status dg_denoise(dg_denoiser *d, const dg_denoise_params *p, float *x_out);
