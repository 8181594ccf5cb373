// The Stable Diffusion UNet (LDM openaimodel naming), config-driven: the tiny fixtures, our defaults
// and SD 1.5 (320, [1,2,4,4], 8 heads, context 768) run through the same code. The encoder half
// (time embedding, input blocks, middle block) is shared with the ControlNet (dg_controlnet.h).
#pragma once
#include "dg_model_config.h"
#include "dg_nn.h"
#include "dg_nn_video.h"

#define DG_UNET_MAX_BLOCKS 32

// One input/output block: some of conv (conv_in or Downsample), ResBlock, SpatialTransformer, Upsample.
typedef struct dg_unet_block {
  bool has_conv, has_res, has_attn, has_up;
  dg_nn_conv conv, up;
  dg_nn_resblock res;
  dg_nn_transformer attn;
} dg_unet_block;

// Heads of every SpatialTransformer: num_heads > 0 fixes the count (SD 1.5: 8), otherwise
// num_head_channels fixes the width per head (SD 2.x: 64).
typedef struct dg_unet_heads {
  int num_heads, num_head_channels;
} dg_unet_heads;

// The heads from a UNet's or ControlNet's configuration: num_heads (default 8, as SD 1.x) and
// num_head_channels (default -1); -1 leaves a key unset. Each must give at least one head that
// divides the width of every attention block of `u` (the detected configuration); otherwise an error
// naming the configuration's source, the key, its value and the width.
dg_status dg_unet_heads_read(const dg_model_config *c, const dg_unet_config *u, dg_unet_heads *out);

// The heads of an attention block `ch` wide; an error (DG_ERR_FORMAT for a configuration file, else
// DG_ERR_ARG, prefixed with `source`) unless there is at least one and they split the width evenly.
dg_status dg_unet_heads_for(const char *source, dg_unet_heads h, int ch, int *heads);

typedef struct dg_unet_encoder {
  dg_unet_config cfg;
  dg_nn_linear time1, time2;
  int n_input;
  int n_attn; // transformers, numbered 0.. in forward order (dg_nn_transformer.index)
  dg_unet_block input[DG_UNET_MAX_BLOCKS];
  dg_unet_block middle; // res, attn, and a second ResBlock in middle_res2
  dg_nn_resblock middle_res2;
} dg_unet_encoder;

typedef struct dg_unet {
  dg_unet_encoder enc;
  int n_output;
  int n_attn; // transformers of the whole UNet: the encoder's, then the output blocks' (hooks select by index)
  dg_unet_block output[DG_UNET_MAX_BLOCKS];
  dg_nn_norm out_norm;
  dg_nn_conv out_conv;
} dg_unet;

// prefix: "model.diffusion_model." (or "control_model." for the encoder of a ControlNet).
dg_status dg_unet_encoder_load(const dg_nn_src *src, const char *prefix, const dg_unet_config *cfg, dg_unet_heads heads,
                               dg_unet_encoder *out);
// SiLU(time_embed(timestep_embedding(t))) [N*F, 4 * model_channels]; t holds N timesteps (host), one
// per item, shared by its F = dg_nn_frames(nn) frames.
dg_status dg_unet_time_embed(const dg_nn_ctx *nn, const dg_unet_encoder *e, const float *t, int n, dg_tensor *emb_silu);
// The LDM sinusoidal embedding [N*F, dim] of N values t (host; timesteps, or a video's fps), each
// repeated over its item's F = dg_nn_frames(nn) frames.
dg_status dg_unet_sinusoid(const dg_nn_ctx *nn, int dim, const float *t, int n, dg_tensor *out);
// Checks x [N*F, in, h, w] and context against cfg, and makes the context per folded batch entry:
// the per-frame context hook or `context` itself when it is [N*F, L, D], else the rows of a context
// [N, L, D] repeated over the frames (nothing is copied for images, F = 1).
dg_status dg_unet_frame_context(const dg_nn_ctx *nn, const dg_unet_config *cfg, const dg_tensor *x,
                                const dg_tensor *context, dg_tensor *frame_context);
// Checks x [N*F, in, h, w] and context, and makes what every block takes: the time embedding
// (dg_unet_time_embed of the N timesteps t) and the context per folded batch entry: the per-frame
// context hook or `context` itself when it is [N*F, L, D], else the rows of a context [N, L, D]
// repeated over the frames (nothing is copied for images, F = 1).
dg_status dg_unet_inputs(const dg_nn_ctx *nn, const dg_unet_encoder *e, const dg_tensor *x, const float *t,
                         const dg_tensor *context, dg_tensor *emb_silu, dg_tensor *frame_context);
dg_status dg_unet_block_forward(const dg_nn_ctx *nn, const dg_unet_block *b, const dg_tensor *x, const dg_tensor *emb_silu,
                                const dg_tensor *context, dg_tensor *out);
// The temporal layers a video UNet adds to a block (dg_unet3d), NULL for none: the temporal conv after
// the ResBlock, the temporal transformer after the spatial one.
typedef struct dg_unet_temporal {
  const dg_nn_tconv *tconv;
  const dg_nn_transformer *tattn;
} dg_unet_temporal;
// dg_unet_block_forward with them (tm NULL: none): conv, ResBlock, tconv, transformer, tattn, Upsample.
dg_status dg_unet_block_forward_video(const dg_nn_ctx *nn, const dg_unet_block *b, const dg_unet_temporal *tm,
                                      const dg_tensor *x, const dg_tensor *emb_silu, const dg_tensor *context,
                                      dg_tensor *out);

// Loads the UNet under DG_LDM_UNET with the configuration detected from the store.
dg_status dg_unet_load(const dg_nn_src *src, dg_unet_heads heads, dg_unet *out);
// The largest tensor (elements) that the layers of a UNet (or a ControlNet's encoder) of configuration
// `c` hand whole to an op that cannot split it over bindings, for latents of h x w; *what names it. The
// ops split along the batch, rows, planes or bands, so what stays whole is one latent's transformer
// activations, [C, H*W] at each level with attention (transposed to tokens by dg_permute, which splits
// along the batch only, and bound whole as self-attention's keys by dg_attention): the batch (guidance
// doubles it) does not matter. The binding limit bounds it.
int64_t dg_unet_largest_whole(const dg_unet_config *c, int64_t h, int64_t w, const char **what);
// Number of control residuals the UNet takes (input blocks + 1).
int dg_unet_num_control(const dg_unet *u);
// x [N*F, in, h, w] (F = dg_nn_frames(nn) frames folded into the batch; 1 for images), t: N
// timesteps, context [N, L, D] or [N*F, L, D] (dg_unet_inputs), control: NULL or dg_unet_num_control
// tensors (one per input block, then the middle block). eps is allocated from the scratch arena.
dg_status dg_unet_forward(const dg_nn_ctx *nn, const dg_unet *u, const dg_tensor *x, const float *t,
                          const dg_tensor *context, const dg_tensor *const *control, dg_tensor *eps);
