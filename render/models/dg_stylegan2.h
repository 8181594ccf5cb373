// The StyleGAN2 generator of tools/train/dgtrain/stylegan2.py, loaded by StyleGAN2-ADA's parameter names
// (mapping.fcN, mapping.w_avg, synthesis.bR.{const, conv0, conv1, torgb, resample_filter}; sizes come from the
// tensor shapes, conv_clamp from the config, default 256). The mapping normalises z, runs the leaky-ReLU FC
// layers and truncates towards w_avg; the synthesis takes ws [N, num_ws, w_dim] (b4 uses ws 0, 1; a later
// block ws i, i+1, i+2 with i = 1, 3, ...) and runs ADA's non-fused modulated convs (dg_modconv.h): the up
// conv as zero insertion, a conv with the flipped kernel and the [1,3,3,1] filter (= ADA's transposed conv
// then upfirdn2d), the skip toRGB image upsampled by upfirdn2d.
#pragma once
#include <stdbool.h>

#include "dg_model_config.h"
#include "dg_nn.h"

#define DG_SG_MAX_BLOCKS 10
#define DG_SG_MAX_MAPPING 16
#define DG_SG_MAX_NOISE (2 * DG_SG_MAX_BLOCKS)

typedef struct dg_sg_layer {
  dg_tensor aw, ab; // affine with its gains folded in: styles = w aw^T + ab, [in, w_dim] and [in]
  dg_tensor w;      // conv weight [out, in, k, k] (the up conv's flipped)
  dg_tensor wsq;    // [out, in]: sum over the kernel of weight^2 (demodulation); none for toRGB
  dg_tensor b, noise_const;
  float noise_strength, filter[16]; // the up conv's resample_filter
  int in, out, k, up;
} dg_sg_layer;

typedef struct dg_sg_block {
  int res, in, out; // res: the block's height (4, 8, ...); in 0 for b4
  dg_tensor cnst;   // b4: [out, bh, bw]
  dg_sg_layer conv0, conv1, torgb;
  float filter[16]; // the skip's resample_filter
} dg_sg_block;

typedef struct dg_stylegan2 {
  int z_dim, w_dim, n_mapping, n_blocks, num_ws, n_noise, height, width;
  float conv_clamp, lr_multiplier;
  dg_tensor fc_w[DG_SG_MAX_MAPPING], fc_b[DG_SG_MAX_MAPPING], w_avg;
  dg_sg_block blocks[DG_SG_MAX_BLOCKS];
  int noise_h[DG_SG_MAX_NOISE], noise_w[DG_SG_MAX_NOISE]; // noise inputs in order: b4.conv1, b8.conv0, b8.conv1, ...
} dg_stylegan2;

// Missing tensors and wrong shapes fail with the tensor's name and both shapes.
dg_status dg_stylegan2_load(const dg_nn_src *src, const dg_model_config *cfg, dg_stylegan2 *out);
// z (host, n x z_dim) -> w [n, w_dim] in scratch: w_avg + psi (mapping(z) - w_avg). Finishes the stream first.
dg_status dg_stylegan2_mapping(const dg_nn_ctx *nn, const dg_stylegan2 *m, const float *z, int n, float psi,
                               dg_tensor *w);
// w [N, w_dim] -> ws [N, num_ws, w_dim], every layer the same w (scratch).
dg_status dg_stylegan2_broadcast(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *w, dg_tensor *ws);

// Style mixing as in the thesis, G(w_style, noise_content): ws = ws_content + strength (mean(styles) -
// ws_content), the mean over n_styles exemplars' ws (each [N, num_ws, w_dim], as ws_content), in scratch;
// the synthesis then takes the content's noise maps. strength 0 gives the content's ws, 1 the style's.
dg_status dg_stylegan2_mix(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *ws_content,
                           const dg_tensor *const *styles, int n_styles, float strength, dg_tensor *ws);

typedef enum dg_sg_noise_mode { DG_SG_NOISE_CONST = 0, DG_SG_NOISE_NONE = 1 } dg_sg_noise_mode;

// ws [N, num_ws, w_dim] -> image [N, 3, height, width] (scratch). noise: NULL or n_noise entries, each NULL
// (the mode's: the layer's noise_const, or none) or a map [H, W] or [N, 1, H, W] of that layer's size (times the
// layer's noise_strength), or an encoder's layer noise [N, C, H, W] of the layer's C output channels, which
// replaces the noise and is added unscaled (ISSA's noise_predict: dg_mne).
dg_status dg_stylegan2_synthesis(const dg_nn_ctx *nn, const dg_stylegan2 *m, const dg_tensor *ws,
                                 const dg_tensor *const *noise, dg_sg_noise_mode mode, dg_tensor *image);
