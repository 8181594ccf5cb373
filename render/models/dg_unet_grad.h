// Gradient of a loss on the UNet's cross-attention probabilities with respect to the latent (Divide
// & Bind's d loss / d z): one forward in a grad scope (dg_tape) with the capture hook, the loss's
// gradient from a host callback, one backward.
#pragma once
#include <stdint.h>

#include "dg_tape.h"
#include "dg_unet.h"

// One captured cross-attention (transformer `layer`, block `block`, tokens h x w): probs [rows =
// N*heads, h*w, n_tokens] (host f32, as dg_nn_attn_capture: row (n * F + f) * heads + head), and
// dprobs (same size, zeroed) for the loss to fill with d loss / d probs.
typedef struct dg_unet_attn_probs {
  int layer, block;
  int64_t h, w, rows;
  int n_tokens;
  const float *probs;
  float *dprobs;
} dg_unet_attn_probs;

// Called once after the forward has finished, with every capture in forward order (a loss may read
// them all before it answers any).
typedef dg_status (*dg_unet_attn_loss_fn)(void *user, int n, const dg_unet_attn_probs *caps);

typedef struct dg_unet_attn_grad_args {
  int first_token, n_tokens; // the context positions first_token .. first_token + n_tokens - 1
  uint64_t layers; // bit i selects transformer i (dg_nn_transformer.index)
  dg_unet_attn_loss_fn loss;
  void *user;
  // ControlNet residuals added to the UNet's skips (dg_unet_forward's control), or NULL: they enter as
  // constants (no gradient flows through the ControlNet).
  const dg_tensor *const *control;
} dg_unet_attn_grad_args;

// What a call cost, for measurements and tests.
typedef struct dg_unet_grad_stats {
  uint64_t forward_dispatches, backward_dispatches;
  int entries;  // recorded by the tape
  int captures; // loss callbacks made
} dg_unet_grad_stats;

// dz (host, z's size) = d loss / d z of the UNet at z (host f32 [N, C, h, w]; nn->frames must be 0
// or 1), timesteps t [N], context [N, L, D] (device). tape: reused between calls (its arenas stay
// allocated), or NULL for one of the call's own. nn->hooks (if any) apply as well, except
// attn_capture and tape. Scratch is released to where it was on return. stats may be NULL.
dg_status dg_unet_attention_grad(const dg_nn_ctx *nn, dg_tape *tape, const dg_unet *u, const float *z,
                                 const int64_t zshape[4], const float *t, const dg_tensor *context,
                                 const dg_unet_attn_grad_args *args, float *dz, dg_unet_grad_stats *stats);
