// Text-to-image and layout-to-image generation: prompt -> CLIP text encoder -> (ControlNet, UNet) x
// steps with classifier-free guidance -> VAE decoder -> RGB. A per-step callback gets a cheap
// latent -> RGB preview of the predicted x0; a cancellation flag stops within one step.
#pragma once
#include <stdatomic.h>
#include <stdint.h>

#include "dg_device.h"
#include "dg_sampler.h"

typedef struct dg_model_set dg_model_set;

// `model` is one of:
// - a Dirigent model folder: text_encoder.safetensors, unet.safetensors, vae.safetensors and
//   optionally controlnet_<name>.safetensors (the layout ControlNet `control`, default "aldm"),
//   exported by tools/train with their configs in the files' metadata;
// - an LDM single file (SD 1.5 style) or a diffusers folder; then a ControlNet may come from the
//   same store or from `control` given as a path.
// The tokenizer: tokenizer_dir if given, else tokenizer/ of a diffusers folder or beside the model,
// else default_tokenizer_dir (e.g. the embedded assets/tokenizer).
typedef struct dg_model_options {
  const char *control;       // ControlNet name in a Dirigent folder, or a file; NULL: "aldm" if present
  const char *tokenizer_dir;         // NULL: found as described above
  const char *default_tokenizer_dir; // the last resort
  dg_dtype dtype;            // weights and activations (DG_F32 or DG_F16)
} dg_model_options;

dg_status dg_model_set_open(dg_device *device, const char *model, const dg_model_options *opt, dg_model_set **out);
void dg_model_set_close(dg_model_set *m);
// The stream the set records on (for profiling).
dg_stream *dg_model_set_stream(dg_model_set *m);
// Checks, without a device and reading only file headers and the tokenizer, that `model` is a set
// dg_model_set_open accepts: its files open and hold a CLIP text encoder, an image UNet, a VAE decoder
// (and the ControlNet when there is one), and a tokenizer is found. Errors name the file. `kind` (may
// be NULL) gets e.g. "Dirigent model folder: text encoder, UNet, VAE, ALDM layout ControlNet".
// Tensor shapes beyond what detection reads are checked by dg_model_set_open only.
dg_status dg_model_set_check(const char *model, const dg_model_options *opt, char *kind, size_t kind_size);
// One line per part, e.g. "unet: 4 levels, 96 channels, context 256 (unet.safetensors)".
const char *dg_model_set_describe(const dg_model_set *m);
bool dg_model_set_has_control(const dg_model_set *m);
int dg_model_set_latent_factor(const dg_model_set *m); // image pixels per latent pixel (8 for SD)

#define DG_GENERATE_MAX_SIDE 4096 // largest width or height generated

typedef void (*dg_generate_step_fn)(void *user, int step, int total, const uint8_t *rgb, int width, int height);

typedef struct dg_generate_params {
  const char *prompt, *negative;
  int width, height; // image size, multiples of the latent factor, at most DG_GENERATE_MAX_SIDE
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
