// Samplers of Stable Diffusion's eps-prediction models over the scaled-linear schedule (1000 steps,
// betas 0.00085 .. 0.012): LDM DDIM (uniform timesteps 1 + k * 1000 / S, eta 0 or > 0) and PLMS as
// diffusers' PNDMScheduler runs SD 1.5 (skip_prk_steps, steps_offset 1, set_alpha_to_one false).
// Noise is seeded on the host (dg_rng.h): x_T from stream 0, the i-th DDIM eta noise from stream 1 + i.
// The latent stays on the host in f32 between model evaluations (a few thousand values), so the
// update arithmetic is the Python reference's, float for float.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_controlnet.h"
#include "dg_unet.h"

typedef enum dg_sampler_kind { DG_SAMPLER_DDIM = 0, DG_SAMPLER_PLMS = 1 } dg_sampler_kind;

// Model evaluation: eps for the latent x [n, c, h, w] (host) at integer timestep t.
typedef dg_status (*dg_eps_fn)(void *user, const float *x, int t, float *eps);
// After each model evaluation: index (0-based), total evaluations, the updated latent and the
// predicted x0 (host, the latent's shape).
typedef void (*dg_step_fn)(void *user, int step, int total, const float *x, const float *pred_x0);

typedef struct dg_sampler_opts {
  dg_sampler_kind kind;
  int steps;
  float eta;     // DDIM only
  uint64_t seed; // x_T and eta noise
  int64_t shape[4];
  const float *x_T; // NULL: randn(seed, shape, stream 0)
  dg_step_fn on_step;
  void *step_user;
} dg_sampler_opts;

// Number of model evaluations the sampler makes (PLMS: steps + 1).
int dg_sampler_evaluations(const dg_sampler_opts *o);
// The timesteps in evaluation order (dg_sampler_evaluations entries).
dg_status dg_sampler_timesteps(const dg_sampler_opts *o, int *ts);
// Runs the sampler; x_out gets the final latent. A model error (DG_ERR_CANCELLED included) stops it.
dg_status dg_sample(const dg_sampler_opts *o, dg_eps_fn eps, void *eps_user, float *x_out);

// The standard model: UNet (+ optional ControlNet) with classifier-free guidance. cond and uncond
// are [B, L, D] (uncond NULL or cfg_scale 1: no guidance); hint [B, ...] for the ControlNet. Each
// evaluation runs one batch of 2B (uncond first), finishes the stream (so cancellation through the
// stream's flag stops within one step) and releases its scratch.
typedef struct dg_guided {
  dg_nn_ctx nn;
  const dg_unet *unet;
  const dg_controlnet *control; // optional
  float cfg_scale, control_scale;
  int64_t batch;
  dg_tensor context, hint, x; // batch 2B (or B without guidance), built by dg_guided_init; hint encoded
  bool guided;
  float *x2, *eps2;
} dg_guided;

dg_status dg_guided_init(dg_guided *g, const dg_nn_ctx *nn, const dg_unet *unet, const dg_controlnet *control,
                         const dg_tensor *cond, const dg_tensor *uncond, const dg_tensor *hint, float cfg_scale,
                         float control_scale, const int64_t latent_shape[4]);
void dg_guided_free(dg_guided *g);
dg_status dg_guided_eps(void *g, const float *x, int t, float *eps);

// Cheap preview: SD 1.5 latent (scaled) -> RGB in [0, 255] by a fixed 4x3 linear map, [h, w, 3] of sample 0.
void dg_sampler_preview_rgb(const float *latent, int64_t h, int64_t w, uint8_t *rgb);
