// The temporal layers of VideoCrafter2's UNet3D (lvdm openaimodel3d / attention), on folded videos:
// x [N*F, C, H, W] with F = dg_nn_frames(nn) frames per item (frame-major within an item), as every
// layer of dg_nn.h. Both look across the frames of an item, so they bind one item's activations
// [C, F, H*W] whole (their layout changes split along the items only): dg_unet3d_largest_whole.
// Neither has a backward (a tape refuses them).
#pragma once
#include "dg_nn.h"

// `temopral_conv` (sic, VideoCrafter2's key) of a ResBlock: conv1..conv4, each GroupNorm(32) over
// [C, F, H, W] (statistics across the frames) -> SiLU -> Conv3d (3,1,1) padding (1,0,0), + x.
typedef struct dg_nn_tconv {
  dg_nn_norm norm[4];
  dg_tensor w[4], b[4]; // tap-major [3, C, C] (dg_conv_temporal's fast layout), [C]
} dg_nn_tconv;
// prefix: the ResBlock's, e.g. "model.diffusion_model.input_blocks.1.0" (".temopral_conv" follows).
dg_status dg_nn_tconv_load(const dg_nn_src *src, const char *prefix, dg_nn_tconv *out);
// True if the ResBlock at `prefix` has one.
bool dg_nn_tconv_present(const dg_nn_src *src, const char *prefix);
dg_status dg_nn_tconv_forward(const dg_nn_ctx *nn, const dg_nn_tconv *c, const dg_tensor *x, dg_tensor *out);

// TemporalTransformer (only_self_att, no positional encoding): GroupNorm(32, eps 1e-6) over
// [C, F, H, W] -> tokens [N*H*W, F, C] -> proj_in (Linear or Conv1d 1x1) -> blocks whose attn1 and
// attn2 are both self-attention over the frames (kind DG_NN_TEMPORAL_ATTN: the temporal-bias hook is
// asked at each, with the transformer's index) -> proj_out -> + x. Loaded as a dg_nn_transformer
// (same names); `index` is set by the model (-1 for init_attn).
dg_status dg_nn_temporal_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_transformer *out);
dg_status dg_nn_temporal_forward(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x, dg_tensor *out);
