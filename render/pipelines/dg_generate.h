// The image task pipeline, text-to-image and layout-to-image: prompt -> CLIP text encoder ->
// dg_denoise ((ControlNet, UNet) x steps with classifier-free guidance) -> VAE decoder -> RGB, on a
// model set's text encoder, UNet, VAE and (with a layout) ControlNet roles. A per-step callback gets a
// cheap latent -> RGB preview of the predicted x0; a cancellation flag stops within one step. Video and
// stylize pipelines come beside it, on the same model set and denoise loop.
#pragma once
#include <stdatomic.h>
#include <stdint.h>

#include "dg_model_set.h"
#include "dg_sampler.h"

typedef void (*dg_generate_step_fn)(void *user, int step, int total, const uint8_t *rgb, int width, int height);

typedef struct dg_generate_params {
  const char *prompt, *negative;
  int width, height; // image size, multiples of the latent factor
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
} dg_generate_params;

// rgb: width * height * 3 bytes. DG_ERR_CANCELLED when the flag stopped it.
dg_status dg_generate(dg_model_set *m, const dg_generate_params *p, uint8_t *rgb);
