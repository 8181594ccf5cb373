// Samplers of Stable Diffusion's eps-prediction models over the scaled-linear schedule (1000 steps,
// betas 0.00085 .. 0.012): LDM DDIM (uniform timesteps 1 + k * 1000 / S, eta 0 or > 0) and PLMS as
// diffusers' PNDMScheduler runs SD 1.5 (skip_prk_steps, steps_offset 1, set_alpha_to_one false).
// Pure scheduler arithmetic: given the (already guided) eps at the current latent, the next latent.
// The model, guidance and the loop live in dg_denoise. The latent stays on the host in f32 (a few
// thousand values), so the update arithmetic is the Python reference's, float for float. The i-th
// DDIM eta noise is randn(seed, stream 1 + i) (dg_rng.h); x_T is stream 0 (drawn by the loop).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_status.h"

typedef enum dg_sampler_kind { DG_SAMPLER_DDIM = 0, DG_SAMPLER_PLMS = 1 } dg_sampler_kind;

typedef struct dg_sampler_opts {
  dg_sampler_kind kind;
  int steps;
  float eta;     // DDIM only
  uint64_t seed; // the eta noise (and, in the loop, x_T)
} dg_sampler_opts;

// Number of model evaluations the sampler makes (PLMS: steps + 1).
int dg_sampler_evaluations(const dg_sampler_opts *o);
// The timesteps in evaluation order (dg_sampler_evaluations entries).
dg_status dg_sampler_timesteps(const dg_sampler_opts *o, int *ts);

// A sampler's state over one run on latents of n values (PLMS keeps its last eps values).
typedef struct dg_sampler dg_sampler;
dg_status dg_sampler_new(const dg_sampler_opts *o, int64_t n, dg_sampler **out);
void dg_sampler_free(dg_sampler *s);
// The timestep of evaluation i (0-based, < dg_sampler_evaluations).
int dg_sampler_timestep(const dg_sampler *s, int i);
// Evaluation i's update: eps is the model's prediction at x and dg_sampler_timestep(s, i); x becomes the
// latent for evaluation i + 1 (the final latent after the last), x0 gets the predicted x0. Evaluations
// run in order, each once.
dg_status dg_sampler_step(dg_sampler *s, int i, float *x, const float *eps, float *x0);

// Cheap preview: SD 1.5 latent (scaled) -> RGB in [0, 255] by a fixed 4x3 linear map, [h, w, 3] of sample 0.
void dg_sampler_preview_rgb(const float *latent, int64_t h, int64_t w, uint8_t *rgb);
