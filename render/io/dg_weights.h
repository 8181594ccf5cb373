// A model store: the named tensors of one checkpoint file or one diffusers folder, every name mapped to
// the original LDM single-file naming (`model.diffusion_model.` UNet, `first_stage_model.` VAE,
// `cond_stage_model.transformer.` CLIP text encoder, `control_model.` ControlNet), plus detection of
// which models are present and their configuration from the tensor shapes.
//
// Accepted inputs:
// - an LDM single file (names kept as they are),
// - a bare component file: LDM-named UNet, VAE or ControlNet without prefix, or a diffusers UNet, VAE,
//   ControlNet or CLIP text encoder file (names mapped),
// - a diffusers folder: unet/, vae/, text_encoder/, controlnet/ (diffusion_pytorch_model.safetensors or
//   model.safetensors, optionally .fp16), tokenizer/ (vocab.json + merges.txt), or a folder holding one
//   diffusion_pytorch_model.safetensors / model.safetensors,
// - a layers file over a base checkpoint (metadata "dirigent.base" and "dirigent.base_sha256": e.g. a video
//   model's temporal layers over the image UNet beside it), read as the union of both files' tensors.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_safetensors.h"

#define DG_LDM_UNET "model.diffusion_model."
#define DG_LDM_VAE "first_stage_model."
#define DG_LDM_CLIP "cond_stage_model.transformer."
#define DG_LDM_CONTROL "control_model."
#define DG_LDM_OPENCLIP "cond_stage_model.model." // OpenCLIP text tower (VideoCrafter2, SD 2.x)

typedef struct dg_weight {
  const char *name; // LDM name
  dg_st_dtype dtype;
  int ndim;
  int64_t shape[DG_ST_MAX_DIMS]; // LDM shape (diffusers VAE attention [C,C] becomes [C,C,1,1])
  int64_t numel;
  const char *file;        // the .safetensors (or PyTorch checkpoint) file it comes from
  const char *source_name; // its name in that file
} dg_weight;

typedef struct dg_weights dg_weights;

dg_status dg_weights_open(const char *path, dg_weights **out);
// How many times this process has hashed a layers file's base (its "dirigent.base_sha256" check): once per
// base file and version, however often layered stores over it are opened.
size_t dg_weights_base_hashes(void);
void dg_weights_close(dg_weights *w);

const char *dg_weights_layout(const dg_weights *w); // "LDM single file", "diffusers folder", ...
const char *dg_weights_path(const dg_weights *w);   // the file or folder it was opened from
size_t dg_weights_count(const dg_weights *w);       // tensors, sorted by LDM name
const dg_weight *dg_weights_at(const dg_weights *w, size_t index);
const dg_weight *dg_weights_find(const dg_weights *w, const char *ldm_name);
// True if some tensor name starts with `prefix`.
bool dg_weights_has_prefix(const dg_weights *w, const char *prefix);
// A `__metadata__` value of the store's files (the first file that has the key), or NULL.
const char *dg_weights_metadata(const dg_weights *w, const char *key);
// Every metadata entry of the store's files (a key once, from the first file that has it).
size_t dg_weights_metadata_count(const dg_weights *w);
void dg_weights_metadata_at(const dg_weights *w, size_t index, const char **key, const char **value);
// The stored little-endian bytes of a tensor (numel * dg_st_dtype_size(dtype) bytes, in the file's mapping).
const void *dg_weights_data(const dg_weights *w, const dg_weight *t);
// tokenizer/ of a diffusers folder (with vocab.json and merges.txt), or NULL.
const char *dg_weights_tokenizer_dir(const dg_weights *w);

// printf-style lookup: dg_weights_findf(w, DG_LDM_UNET "input_blocks.%d.0.op.weight", k).
const dg_weight *dg_weights_findf(const dg_weights *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Host copy as f32/f16 (dst holds numel elements).
dg_status dg_weights_read(const dg_weights *w, const dg_weight *t, dg_dtype dtype, void *dst, size_t dst_bytes);
// Device tensor with the LDM shape (at most DG_MAX_DIMS dims).
dg_status dg_weights_load(const dg_weights *w, const char *ldm_name, dg_arena *arena, dg_dtype dtype, dg_tensor *out);
// Same, failing with a message naming the tensor unless its shape is exactly shape[0..ndim).
dg_status dg_weights_load_shaped(const dg_weights *w, const char *ldm_name, int ndim, const int64_t *shape,
                                 dg_arena *arena, dg_dtype dtype, dg_tensor *out);

// ---- Model detection ----
typedef enum dg_model_part {
  DG_PART_UNET = 1,           // 2-D UNet with cross-attention (SD 1.x/2.x structure)
  DG_PART_VAE = 2,            // KL autoencoder
  DG_PART_CLIP_TEXT = 4,      // CLIP text transformer
  DG_PART_CONTROLNET = 8,     // ControlNet (stock or ALDM id-embedding hint)
  DG_PART_UNET3D = 16,        // VideoCrafter2 UNet3D (temporal convs and transformers)
  DG_PART_STYLEGAN2 = 32,     // StyleGAN2 generator (mapping + synthesis)
  DG_PART_OPENCLIP_TEXT = 64, // OpenCLIP text transformer (transformer.resblocks...)
  DG_PART_TINY_DECODER = 128, // the live frame's tiny latent decoder (tiny_decoder.*, dg_tiny_decoder.h)
} dg_model_part;

#define DG_MAX_LEVELS 8

typedef struct dg_unet_config {
  int in_channels, out_channels, model_channels, time_embed_dim;
  int num_levels, num_res_blocks;
  int channel_mult[DG_MAX_LEVELS];
  bool attention[DG_MAX_LEVELS]; // SpatialTransformer after the ResBlocks of this level
  bool mid_attention;
  int context_dim, transformer_depth;
  bool linear_proj; // proj_in/proj_out are Linear (SD 2.x, VideoCrafter2) rather than 1x1 convs
} dg_unet_config;

typedef struct dg_vae_config {
  bool has_encoder, has_decoder;
  int in_channels, out_channels, ch, num_levels, num_res_blocks, z_channels, embed_dim;
  int ch_mult[DG_MAX_LEVELS];
} dg_vae_config;

typedef struct dg_clip_config {
  int vocab, width, layers, max_positions, mlp_dim;
} dg_clip_config;

typedef struct dg_control_config {
  dg_unet_config body; // out_channels is 0 (no decoder)
  int hint_channels, hint_convs, zero_convs;
  bool id_hint; // ALDM: 5 hint convs taking per-pixel text embeddings (768 channels in the released models)
} dg_control_config;

typedef struct dg_stylegan2_config {
  int w_dim, mapping_layers, max_res;
} dg_stylegan2_config;

typedef struct dg_model_info {
  unsigned parts;      // dg_model_part bits
  dg_unet_config unet; // for DG_PART_UNET and DG_PART_UNET3D
  dg_vae_config vae;
  dg_clip_config clip;
  dg_clip_config openclip; // for DG_PART_OPENCLIP_TEXT
  dg_control_config control;
  dg_stylegan2_config stylegan2;
  char description[1024];
} dg_model_info;

// Fills `info` from the tensors present. DG_ERR_UNSUPPORTED (with a message naming what was found) if
// no known model is recognised; DG_ERR_FORMAT if a recognised model has inconsistent tensors.
dg_status dg_weights_detect(const dg_weights *w, dg_model_info *info);

// ---- Name maps (exposed for tests and tools) ----
typedef enum dg_name_scheme {
  DG_SCHEME_LDM,            // full LDM single-file names, kept
  DG_SCHEME_LDM_UNET,       // bare LDM UNet names (input_blocks...), prefixed
  DG_SCHEME_LDM_VAE,        // bare LDM VAE names (encoder.down...), prefixed
  DG_SCHEME_LDM_CONTROL,    // bare LDM ControlNet names, prefixed
  DG_SCHEME_DIFFUSERS_UNET, // diffusers UNet2DConditionModel
  DG_SCHEME_DIFFUSERS_VAE,  // diffusers AutoencoderKL
  DG_SCHEME_DIFFUSERS_CONTROL,
  DG_SCHEME_HF_CLIP_TEXT, // transformers CLIPTextModel (text_model....)
  DG_SCHEME_OTHER,        // unrecognised: names kept
} dg_name_scheme;

const char *dg_name_scheme_name(dg_name_scheme scheme);
// Which scheme a file's tensor names follow.
dg_name_scheme dg_name_scheme_guess(const char *const *names, size_t count);
