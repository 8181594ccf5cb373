// The video task pipeline: prompt stages on a timeline -> frames, in one pass of the video UNet
// (dg_unet3d: VideoCrafter2's layout, our default video model or VideoCrafter2 itself), with VSTAR's
// two inference-time controls (../shared/docs/methods.md section 4):
// - Video Synopsis Prompting (VSP): each stage's prompt is encoded once; the per-frame contexts
//   [F, L, D] interpolate linearly between the stages' embeddings from key frame to key frame (or hold
//   each stage's until the next: DG_VSP_SAME); the unconditional context is the negative prompt's,
//   repeated per frame. Without VSP the model gets one context: the stages' prompts joined ("a; b").
// - Temporal Attention Regularisation (TAR, dg_tar.h): a Gaussian band bias on the temporal
//   self-attention logits at the chosen latent widths, for steps 0..until, both CFG passes.
// The latent is [1, F, 4, h, w] (frames folded into the batch for the model), x_T is randn(seed) of that
// size, DDIM as dg_generate's; a layout, when given, conditions every frame through the layout
// ControlNet. Frames are decoded one by one by the set's VAE.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dg_model_set.h"
#include "dg_sampler.h"
#include "dg_tar.h"

#define DG_VIDEO_MAX_STAGES 32
#define DG_VIDEO_MAX_FRAMES 128

// A prompt stage: `prompt` holds from frame `frame` (0-based) on. frame < 0 on every stage: key frames
// at linspace(0, F - 1, M) truncated, as VSTAR places them.
typedef struct dg_video_stage {
  int frame;
  const char *prompt;
} dg_video_stage;

typedef enum dg_vsp_mode {
  DG_VSP_OFF = 0,    // one context for all frames: the stages' prompts joined
  DG_VSP_LINEAR = 1, // VSTAR's default: linear interpolation between key frames
  DG_VSP_SAME = 2,   // piecewise constant: each frame gets the stage it falls in
} dg_vsp_mode;

// After step `step` of total: the predicted frame `frame` (the playhead's) as RGB at latent resolution
// (the sampler's fixed 4x3 preview map), width x height x 3.
typedef void (*dg_video_step_fn)(void *user, int step, int total, int frame, const uint8_t *rgb, int width,
                                 int height);

typedef struct dg_video_params {
  const dg_video_stage *stages; // 1..DG_VIDEO_MAX_STAGES, frames increasing (or all < 0)
  int n_stages;
  const char *negative; // NULL: ""
  int frames;           // 2..DG_VIDEO_MAX_FRAMES
  float fps;            // the model's fps conditioning (and the exported rate); 0: 8
  int width, height;    // as dg_model_sizes_check allows
  int steps;
  float cfg;
  float eta; // DDIM's eta (VSTAR samples with 1)
  uint64_t seed;
  dg_vsp_mode vsp;
  // TAR: NULL or n_res == 0 for none; the widths are latent widths of the model's levels.
  const dg_tar *tar;
  // Optional: capture the temporal attention probabilities [F, F] (mean over heads and pixels) of
  // temporal transformer capture_layer (-1: none), attention capture_attn (0: attn1), at step
  // capture_step, into capture (F * F floats, the caller's).
  int capture_layer, capture_attn, capture_step;
  float *capture;
  // Optional layout (class ids, 255 unlabelled) of width x height, every frame, through the ControlNet.
  const uint8_t *layout;
  const uint8_t (*palette)[3];
  int n_classes;
  float control_scale; // 0 means 1
  const atomic_bool *cancel;
  int preview_frame; // which frame on_step shows (clamped)
  // Optional: read after every step instead of preview_frame (the editor's playhead, moved while it runs).
  const atomic_int *preview_frame_at;
  dg_video_step_fn on_step;
  void *user;
} dg_video_params;

// rgb: frames * width * height * 3 bytes (frame-major). DG_ERR_UNSUPPORTED naming what is missing when
// the set has no video UNet; DG_ERR_ARG naming the value for bad stages, frame counts or sizes (checked
// before any work, including the binding limit for that many frames: dg_unet3d_largest_whole);
// DG_ERR_CANCELLED when the flag stopped it.
dg_status dg_video_generate(dg_model_set *m, const dg_video_params *p, uint8_t *rgb);

// TAR as VSTAR's presets place it, on this model's levels: sigma 1 at the finest level with temporal
// attention (latent width width / factor >> l for the first l whose level has attention; VideoCrafter2's
// "64", level 0, but our default video UNet has none there), and with more than 32 frames also sigma 8 at
// the next such level ("64D1_32D8"); steps 0..until. DG_ERR_UNSUPPORTED without a video UNet.
dg_status dg_video_tar_default(dg_model_set *m, int width, int frames, int until, dg_tar *out);
// The latent widths of the video UNet's levels that have temporal attention, for frames `width` pixels
// wide, finest first (at most `max`): where TAR can act. 0 without a video UNet.
int dg_video_attention_widths(const dg_model_set *m, int width, int64_t *widths, int max);

// The stages for `frames` frames: 1..DG_VIDEO_MAX_STAGES prompts of valid UTF-8, either all placed (frames
// strictly increasing, below `frames`) or none; errors name the stage and frame.
dg_status dg_video_check_stages(const dg_video_stage *stages, int n, int frames);

// VSP's per-frame weights, for tests and the editor's timeline: for frame f, the two stages it lies
// between (lo[f], hi[f]) and the weight of hi (w[f] in [0, 1]; 0 for DG_VSP_SAME). Key frames as above.
dg_status dg_video_vsp_weights(const dg_video_stage *stages, int n_stages, int frames, dg_vsp_mode mode, int *lo,
                               int *hi, float *w);
