// A model set: the models a generation task uses, as a table of roles (text encoder, UNet, VAE, layout
// ControlNet; later a video UNet, a StyleGAN2 generator and its encoder), each loaded from a store,
// with the device, arenas, stream and tokenizer they share. Task pipelines (dg_generate, later video
// and stylize) take the roles they need.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "dg_device.h"
#include "dg_stream.h"
#include "dg_tensor.h"
#include "dg_tokenizer.h"
#include "dg_unet.h"

typedef enum dg_model_role {
  DG_ROLE_TEXT_ENCODER, // dg_clip_text (the tokenizer comes with the set)
  DG_ROLE_UNET,         // dg_unet
  DG_ROLE_VAE,          // dg_vae (a decoder; the encoder when the file has one)
  DG_ROLE_CONTROLNET,   // dg_controlnet: the layout ControlNet
  DG_ROLE_VIDEO_UNET,   // dg_unet3d: the video UNet (VideoCrafter2's UNet3D layout), optional
  DG_ROLE_TINY_DECODER, // dg_tiny_decoder: the live frame's decoder (a Dirigent folder's tiny_decoder.safetensors), optional
  // Coming with their controls: the StyleGAN2 generator and its masked noise encoder: one entry each
  // here and in the set's role table.
  DG_ROLE_COUNT
} dg_model_role;

typedef struct dg_model_set dg_model_set;

// `model` is one of:
// - a Dirigent model folder: text_encoder.safetensors, unet.safetensors, vae.safetensors and
//   optionally controlnet_<name>.safetensors (the layout ControlNet `control`, default "aldm"),
//   exported by tools/train with their configs in the files' metadata, and optionally
//   video_unet.safetensors (the video UNet) and tiny_decoder.safetensors (the live frame's decoder,
//   dg_generate_params.fast_decode; without it live frames use the VAE decoder);
// - an LDM single file (SD 1.5 style) or a diffusers folder; then a ControlNet may come from the
//   same store or from `control` given as a path.
// The tokenizer: tokenizer_dir if given, else tokenizer/ of a diffusers folder or beside the model,
// else default_tokenizer_dir (e.g. the embedded assets/tokenizer).
typedef struct dg_model_options {
  const char *control;               // ControlNet: a name in a Dirigent folder or a file (a path with a '/' or
                                     // ending in .safetensors); NULL: "aldm" if present
  const char *video_unet;            // the video UNet's file (NULL: a model folder's video_unet.safetensors)
  bool image_only;                   // leave any video UNet out: image tasks open faster and hold less memory;
                                     // dg_model_set_load_video loads it when a video task first needs it
  const char *tokenizer_dir;         // NULL: found as described above
  const char *default_tokenizer_dir; // the last resort
  dg_dtype dtype;                    // weights and activations (DG_F32 or DG_F16)
  // Class names of the layout palette (the app's choice, plain strings): an ALDM (id-hint) ControlNet
  // without a stored 'dirigent.class_embeddings' table gets one computed from them with the set's own
  // text encoder (pooled "a photo of {name}", the empty prompt's last as the null embedding). Unused
  // when the table is stored.
  const char *const *class_names;
  int n_class_names;
} dg_model_options;

// What the layout ControlNet of a model needs from a palette, read from file headers only.
typedef struct dg_model_control_info {
  bool present;      // the set has a layout ControlNet
  bool id_hint;      // ALDM per-pixel class embeddings (else a colour hint)
  int table_classes; // rows of its stored 'dirigent.class_embeddings' less the null row; -1: none stored
  char **class_names; // its configuration's "class_names" (NULL when absent), n_class_names of them
  int n_class_names;
} dg_model_control_info;
// Fills `out` for `model` with opt->control as dg_model_set_open would pick it; errors name the file.
dg_status dg_model_control_inspect(const char *model, const dg_model_options *opt, dg_model_control_info *out);
void dg_model_control_info_clear(dg_model_control_info *info);

dg_status dg_model_set_open(dg_device *device, const char *model, const dg_model_options *opt, dg_model_set **out);
void dg_model_set_close(dg_model_set *m);
// Loads an image-only set's video UNet (dg_model_options.image_only) if it has one and it is not loaded yet;
// it then stays loaded with the set. Not thread-safe with the set's runs. An error (naming the file) leaves
// the set as it was, so a later call tries again. DG_OK without a video UNet: the video task then says so.
dg_status dg_model_set_load_video(dg_model_set *m);
// How many times dg_model_set_load_video loaded the video UNet (0 or 1; a set that opened with it: 0).
int dg_model_set_video_loads(const dg_model_set *m);
// Checks, without a device and reading only file headers and the tokenizer, that `model` is a set
// dg_model_set_open accepts: its files open and hold a CLIP text encoder, an image UNet, a VAE decoder
// (and the ControlNet when there is one), and a tokenizer is found. Errors name the file. `kind` (may
// be NULL) gets e.g. "Dirigent model folder: text encoder, UNet, VAE, ALDM layout ControlNet".
// Each role's configuration (dg_model_config: the JSON beside its file, else its "config" metadata, else
// SD's defaults) is checked here as dg_model_set_open reads it: every value in range, the UNet's and the
// ControlNet's heads against every attention block's width, the text heads against the width, the VAE's
// scale_factor finite and positive. Tensor shapes beyond what detection reads are checked by
// dg_model_set_open only (which also refuses weights holding NaN or infinity as it reads them). An image-only
// check (opt->image_only) leaves the video UNet's file alone, as an image-only open does.
dg_status dg_model_set_check(const char *model, const dg_model_options *opt, char *kind, size_t kind_size);

// The geometry that a set's image size rule comes from (dg_generate.h, dg_model_sizes_check): the VAE's
// latent factor, the multiple image sides must be (that factor times the UNet's downsampling) and the
// UNet's configuration.
typedef struct dg_model_sizes {
  int factor, multiple;
  dg_unet_config unet;
} dg_model_sizes;
// dg_model_set_check, also giving the set's geometry (sizes may be NULL).
dg_status dg_model_set_check_sizes(const char *model, const dg_model_options *opt, char *kind, size_t kind_size,
                                   dg_model_sizes *sizes);
void dg_model_set_sizes(const dg_model_set *m, dg_model_sizes *out);

// The loaded model of a role (the type named in dg_model_role), NULL when the set has none.
const void *dg_model_set_get(const dg_model_set *m, dg_model_role role);
bool dg_model_set_has(const dg_model_set *m, dg_model_role role);
bool dg_model_set_has_control(const dg_model_set *m); // dg_model_set_has(m, DG_ROLE_CONTROLNET)
const char *dg_model_role_name(dg_model_role role);

// What the roles share: the stream the set records on (for profiling), the scratch arena of its
// runs, the dtype, the tokenizer.
dg_stream *dg_model_set_stream(dg_model_set *m);
dg_arena *dg_model_set_scratch(dg_model_set *m);
dg_dtype dg_model_set_dtype(const dg_model_set *m);
const dg_tokenizer *dg_model_set_tokenizer(const dg_model_set *m);
// One line per part, e.g. "unet: 4 levels, 96 channels, context 256 (unet.safetensors)".
const char *dg_model_set_describe(const dg_model_set *m);
int dg_model_set_latent_factor(const dg_model_set *m);  // image pixels per latent pixel (8 for SD)
float dg_model_set_scale_factor(const dg_model_set *m); // latent = scale_factor * the VAE's z
// ALDM id hint of the ControlNet: the class embeddings [classes + 1, dim] (null embedding last), or
// NULL for a colour-hint ControlNet.
const float *dg_model_set_class_table(const dg_model_set *m, int *classes, int *dim);
