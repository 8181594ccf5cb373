// ControlNet (cldm naming under `control_model.`): a copy of the UNet encoder plus a hint network
// (stock colour hint [N, 3, 8h, 8w], or ALDM's per-pixel class embeddings [N, D, 2h, 2w]) and zero
// convs, giving one residual per UNet input block plus one for the middle block.
#pragma once
#include "dg_unet.h"

#define DG_CONTROL_MAX_HINT 16

typedef struct dg_controlnet {
  dg_unet_encoder enc;
  bool id_hint;
  int n_hint; // hint convs, the last one the zero conv (no SiLU after it)
  dg_nn_conv hint[DG_CONTROL_MAX_HINT];
  dg_nn_conv zero[DG_UNET_MAX_BLOCKS];
  dg_nn_conv middle_out;
} dg_controlnet;

// Loads the ControlNet under DG_LDM_CONTROL with the configuration detected from the store. The hint
// convs' strides follow the published layouts: colour 1,1,2,1,2,1,2,1 and id 1,1,2,1,1 (the
// downscale to the latent size is 8x and 2x).
dg_status dg_controlnet_load(const dg_nn_src *src, dg_unet_heads heads, dg_controlnet *out);
int dg_controlnet_num_outputs(const dg_controlnet *c);
// The hint network: hint (colour [N, 3, 8h, 8w] or id [N, D, 2h, 2w]) -> out [N, C, h, w] (allocated
// from the scratch arena). It does not depend on the step, so a sampler computes it once.
dg_status dg_controlnet_hint(const dg_nn_ctx *nn, const dg_controlnet *c, const dg_tensor *hint, dg_tensor *out);
// control[i] (allocated from the scratch arena) for i < dg_controlnet_num_outputs, each multiplied by
// scale (1 = as trained), for the hint encoded by dg_controlnet_hint.
dg_status dg_controlnet_forward(const dg_nn_ctx *nn, const dg_controlnet *c, const dg_tensor *x, const dg_tensor *hint,
                                const float *t, const dg_tensor *context, float scale, dg_tensor *control);

// ALDM's id hint on the host: label [h0, w0] (values >= classes, or negative, are unlabelled), table
// [classes + 1, dim] with the null embedding last -> out [dim, h, w] = table[label] nearest-resized.
void dg_controlnet_id_hint(const int32_t *label, int h0, int w0, const float *table, int classes, int dim, int h, int w,
                           float *out);
