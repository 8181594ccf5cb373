// VideoCrafter2's UNet3D (lvdm/modules/networks/openaimodel3d.py, VideoCrafter2 names under
// "model.diffusion_model."), config-driven like dg_unet: the tiny fixtures, our default video model
// (tools/train/dgtrain/video_unet.py) and VideoCrafter2 itself (320, [1,2,4,4], 64-wide heads, context
// 1024) run through the same code. Frames are folded into the batch: x [N*F, 4, h, w] with
// F = dg_nn_frames(nn), frame-major within an item. Per level, as VideoCrafter2 has them:
// - each ResBlock is followed by its `temopral_conv` (dg_nn_tconv), when the checkpoint has one;
// - each SpatialTransformer (input_blocks.N.1) by a TemporalTransformer (input_blocks.N.2);
// - the middle block is ResBlock, SpatialTransformer, TemporalTransformer, ResBlock (middle_block.0..3);
// - an output block's Upsample follows its TemporalTransformer (output_blocks.N.3.conv);
// - init_attn.0: a TemporalTransformer of 8 heads after input block 0; fps_embedding.0/.2: the
//   sinusoidal fps embedding through Linear-SiLU-Linear, added to the time embedding.
// Temporal transformers are numbered 0.. in forward order (dg_nn_transformer.index, what the temporal
// bias hook gets as `layer`); init_attn has index -1 (VSTAR's place 'init').
#pragma once
#include "dg_nn_video.h"
#include "dg_unet.h"

#define DG_UNET3D_INIT_ATTN_HEADS 8 // VideoCrafter2 hard-codes init_attn's 8 heads

// A block: dg_unet's (conv_in or Downsample, ResBlock, spatial transformer, Upsample) and the temporal
// layers after its ResBlock and its spatial transformer.
typedef struct dg_unet3d_block {
  dg_unet_block b;
  bool has_tconv, has_tattn;
  dg_nn_tconv tconv;
  dg_nn_transformer tattn;
} dg_unet3d_block;

// Large (the transformers' weight tables): allocate it on the heap.
typedef struct dg_unet3d {
  dg_unet_config cfg;
  dg_nn_linear time1, time2, fps1, fps2;
  bool has_fps, has_init_attn;
  dg_nn_transformer init_attn;
  int n_input, n_output;
  int n_attn;     // spatial transformers (dg_nn_transformer.index 0.., forward order)
  int n_temporal; // temporal transformers but init_attn
  dg_unet3d_block input[DG_UNET_MAX_BLOCKS], middle, middle_res2, output[DG_UNET_MAX_BLOCKS];
  dg_nn_norm out_norm;
  dg_nn_conv out_conv;
} dg_unet3d;

// Loads the UNet3D under DG_LDM_UNET with the configuration detected from the store (DG_PART_UNET3D);
// heads as dg_unet_load's (VideoCrafter2: num_head_channels 64).
dg_status dg_unet3d_load(const dg_nn_src *src, dg_unet_heads heads, dg_unet3d *out);
// The largest tensor (elements) that the UNet3D's layers bind whole for `frames` frames of h x w:
// dg_unet_largest_whole's, and one item's activations [C, F, H*W] at every level (the temporal layers
// reorder frames and channels within an item). The binding limit bounds it.
int64_t dg_unet3d_largest_whole(const dg_unet_config *c, int frames, int64_t h, int64_t w, const char **what);
// x [N*F, in, h, w], t: N timesteps, fps: N frame rates (NULL: VideoCrafter2's default 16), context
// [N, L, D] or per frame [N*F, L, D] (or the context hook's), control: NULL or dg_unet3d_num_control
// ControlNet residuals per frame [N*F, ...] (added to the middle output and the skips, as dg_unet's).
// eps [N*F, out, h, w] from scratch.
dg_status dg_unet3d_forward(const dg_nn_ctx *nn, const dg_unet3d *u, const dg_tensor *x, const float *t,
                            const float *fps, const dg_tensor *context, const dg_tensor *const *control,
                            dg_tensor *eps);
// Number of control residuals the UNet3D takes (input blocks + 1), as a ControlNet of its layout gives.
int dg_unet3d_num_control(const dg_unet3d *u);
// The temporal transformers dg_unet3d_load would find (its n_temporal), from the tensor names alone: the one
// after a block's spatial transformer, `input_blocks.N.2`, `middle_block.2` or `output_blocks.N.2` (init_attn
// not counted). For the editor, which bounds the attention picture's layer without loading the video UNet.
int dg_unet3d_count_temporal(const dg_weights *w);
