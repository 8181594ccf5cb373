// The Masked Noise Encoder of tools/train/dgtrain/mne.py (ISSA's FPNEncoder at the micro generator's size),
// loaded by the reference's names: FPN_module.{conv1, bn1, layerN.k.{conv1-3, bn1-3, downsample.0/1}, toplayer,
// latlayer1-3, smooth1-3}, {course, medium, fine}_styles.i.{convs.2j, linear.linear.{weight_orig, bias}} and,
// unless it is the W+-only ablation, noise_net.{0,1}.convs.2j. BatchNorm runs in eval mode, folded into the
// conv before it at load time; EqualLinear's sqrt(2 / fan_in) is folded into its weight. Widths, depths and
// head counts come from the tensor shapes; the image size ("image": [H, W]), the generator block whose convs
// take the noise maps ("noise_res") and the heads' leaky ReLU slope ("lrelu") from the configuration.
#pragma once
#include <stdbool.h>

#include "dg_model_config.h"
#include "dg_nn.h"

#define DG_MNE_STAGES 4
#define DG_MNE_MAX_BLOCKS 8
#define DG_MNE_MAX_WS 32
#define DG_MNE_MAX_HEAD_CONVS 12

typedef struct dg_mne_conv { // a convolution (BatchNorm folded in where it had one), bias always present
  dg_tensor w, b;
  int stride, pad;
} dg_mne_conv;

typedef struct dg_mne_block { // torchvision's Bottleneck
  dg_mne_conv conv1, conv2, conv3, down;
  bool has_down;
} dg_mne_block;

typedef struct dg_mne_head { // ToStyleCode: stride-2 3x3 convs with leaky ReLU down to 1x1, then EqualLinear
  int level;                 // the pyramid level it reads: 2 (p2, stride 4), 3 or 4
  int n_convs;
  dg_mne_conv convs[DG_MNE_MAX_HEAD_CONVS];
  dg_tensor lw, lb; // [w_dim, dim] with the equal-lr scale folded in, [w_dim]
} dg_mne_head;

typedef struct dg_mne {
  int height, width, num_ws, w_dim, fpn_dim, noise_res, noise_channels, n_noise_convs;
  float slope;
  bool has_noise; // false: the W+-only ablation
  dg_mne_conv stem;
  int blocks[DG_MNE_STAGES];
  dg_mne_block stage[DG_MNE_STAGES][DG_MNE_MAX_BLOCKS];
  dg_mne_conv top, lat[3], smooth[3]; // lat/smooth 0, 1, 2: levels p4, p3, p2 (latlayer1..3, smooth1..3)
  dg_mne_head heads[DG_MNE_MAX_WS];
  dg_mne_conv noise[2][DG_MNE_MAX_HEAD_CONVS]; // noise_net.0 (the block's conv0), noise_net.1 (its conv1)
} dg_mne;

// Missing tensors and wrong shapes fail naming the tensor (and both shapes).
dg_status dg_mne_load(const dg_nn_src *src, const dg_model_config *cfg, dg_mne *out);
// images [N, 3, height, width] in [-1, 1] -> ws [N, num_ws, w_dim] and, with noise maps, noise[0], noise[1]
// [N, noise_channels, height / 4, width / 4] (conv0's and conv1's of generator block b<noise_res>); all in
// scratch. noise may be NULL; without noise maps (W+ only) it is left zeroed.
dg_status dg_mne_encode(const dg_nn_ctx *nn, const dg_mne *m, const dg_tensor *images, dg_tensor *ws,
                        dg_tensor noise[2]);
