// The KL autoencoder of Stable Diffusion (LDM naming under `first_stage_model.`): encoder to the
// latent posterior's mean and log-variance, decoder from an (unscaled) latent to an image in about
// [-1, 1]. Config from the store (any ch, ch_mult, res blocks; attention blocks where present).
// Latents whose decoder activations would pass the binding limit are decoded in overlapping tiles
// (dg_vae_decode_tiled), which is close to but not the same as a whole decode: group-norm statistics and
// the mid-block attention are then per tile.
#pragma once
#include "dg_model_config.h"
#include "dg_nn.h"

#define DG_VAE_MAX_RES 4

typedef struct dg_vae_level {
  int n_block;
  dg_nn_vae_res block[DG_VAE_MAX_RES];
  bool has_attn;
  dg_nn_vae_attn attn[DG_VAE_MAX_RES];
  bool has_resample;
  dg_nn_conv resample; // encoder: stride-2 downsample with (0,1,0,1) padding; decoder: conv after 2x upsample
} dg_vae_level;

typedef struct dg_vae_half {
  dg_nn_conv conv_in, conv_out;
  dg_vae_level level[DG_MAX_LEVELS];
  dg_nn_vae_res mid1, mid2;
  dg_nn_vae_attn mid_attn;
  dg_nn_norm norm_out;
} dg_vae_half;

typedef struct dg_vae {
  dg_vae_config cfg;
  bool has_encoder, has_decoder;
  dg_vae_half enc, dec;
  dg_nn_conv quant, post_quant;
} dg_vae;

dg_status dg_vae_load(const dg_nn_src *src, dg_vae *out);
// The latent scale from a VAE's configuration ("scale_factor"; absent: SD's 0.18215): a finite number
// in 1e-6..1e6, else an error naming the source and the value (0 would divide latents by zero).
dg_status dg_vae_scale_read(const dg_model_config *c, float *scale);
// image [N, 3, H, W] -> mean, logvar [N, embed_dim, H/f, W/f] (logvar clamped to [-30, 20]).
dg_status dg_vae_encode(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *image, dg_tensor *mean, dg_tensor *logvar);
// z [N, embed_dim, h, w] (unscaled: latent / scale_factor) -> image [N, 3, f h, f w]. Tiles (with
// dg_vae_auto_tile's size, overlap a quarter of it) when the whole decode would pass the binding limit.
dg_status dg_vae_decode(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, dg_tensor *image);
// Largest square latent tile (a multiple of 8, at most the latent's size) whose decode fits the binding
// limit; 0 if the whole latent fits as it is.
int dg_vae_auto_tile(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z);
// Decodes tiles of tile x tile latent pixels overlapping by `overlap` (< tile), each blended in with weights
// ramping linearly across the overlap. Finishes the stream (tiles are assembled on the host).
dg_status dg_vae_decode_tiled(const dg_nn_ctx *nn, const dg_vae *v, const dg_tensor *z, int tile, int overlap,
                              dg_tensor *image);
