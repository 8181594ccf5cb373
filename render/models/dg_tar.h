// VSTAR's temporal attention regularisation (TAR) and the capture of a temporal attention matrix, as
// the model context's temporal-bias hook (dg_nn_hooks.temporal_bias = dg_tar_bias, temporal_user = the
// dg_tar). For the logits S = q k^T / sqrt(d) [F, F] of every head and pixel of both attentions of a
// temporal transformer (not init_attn, layer -1) at a chosen latent width w with band width sigma_w:
//   S' = S + scale * max_j(S_ij) * exp(-0.5 ((j - i) / sigma_w)^2)
// (the row maximum over the keys, on the scaled logits), while active (the sampler sets `active` per
// step: VSTAR regularises steps 0..until, both CFG passes). The bias is computed on the device: the
// logits by a batched matmul, the row maxima by a reduction, the band (uploaded once per frame count)
// broadcast and scaled by them; dg_attention adds it.
#pragma once
#include <stdbool.h>

#include "dg_nn.h"

#define DG_TAR_MAX_RES 8

typedef struct dg_tar {
  // Settings.
  int n_res;
  int64_t res_width[DG_TAR_MAX_RES]; // latent widths regularised (VSTAR's "64" at a 40x64 latent)
  float sigma[DG_TAR_MAX_RES];       // the band's sigma at each
  float scale;                       // VSTAR: 1
  int until;                         // last regularised step index (VSTAR: 13 of 25)
  bool active;                       // set by dg_tar_step
  // Capture: the probabilities softmax(S') [N*H*W*heads, F, F] of attention capture_attn (0: attn1) of
  // temporal transformer capture_layer (-1: none) into `captured`, allocated from `keep` at the first
  // capture and overwritten by later ones of the same shape (each forward pass: read it once the stream
  // has finished; has_capture tells). Recorded on the stream like the layers' work, not finished.
  int capture_layer, capture_attn;
  dg_arena *keep;
  dg_tensor captured;
  bool has_capture;
  // Where the hook works: the model's stream, scratch and dtype; the bands live in `keep`.
  dg_stream *s;
  dg_arena *scratch;
  dg_dtype dtype;
  int frames;
  dg_tensor band[DG_TAR_MAX_RES];
  dg_tensor bias; // the hook's last bias (scratch)
} dg_tar;

// Settings from pairs (width, sigma), e.g. VSTAR's "64D1_32D8": {64, 1}, {32, 8}; capture off.
dg_status dg_tar_init(dg_tar *t, int n_res, const int64_t *widths, const float *sigmas, float scale, int until);
// Uploads the bands for `frames` frames into `keep` (a host write: finishes the stream) and binds the
// hook to the model's stream, scratch and dtype. Call before the first forward.
dg_status dg_tar_prepare(dg_tar *t, dg_stream *s, dg_arena *scratch, dg_arena *keep, dg_dtype dtype, int frames);
// Step `step` (0 = noisiest) of the sampler: active while step <= until.
void dg_tar_step(dg_tar *t, int step);
// exp(-0.5 ((j - i) / sigma)^2) [frames, frames] on the host.
void dg_tar_band(int frames, float sigma, float *out);
// The hook (dg_nn_temporal_bias_fn).
dg_status dg_tar_bias(void *user, int layer, int attn, int64_t h, int64_t w, const dg_tensor *q, const dg_tensor *k,
                      int heads, const dg_tensor **bias);
