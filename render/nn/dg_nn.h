// Layers of the diffusion networks, built from the general ops (render/ops), each loading its
// weights by LDM name (`prefix` is the full name up to the layer, e.g.
// "model.diffusion_model.input_blocks.1.0").
//
// The model context (dg_nn_ctx) is what every forward pass gets, and the engine's extension seam:
// - activations are [N*F, C, H, W] (or [N*F, L, D] tokens): the F frames of a video are folded into the
//   batch, so a video UNet runs these same layers; ctx.frames keeps F for the layers that look across
//   frames (temporal attention, temporal convolution) and for the models, which fold and unfold;
// - optional hooks (ctx.hooks, NULL for none) observe or steer attention. An unset hook costs nothing:
//   no dispatch, no allocation.
// Forward passes allocate their outputs (and temporaries) from the context's scratch arena; the
// caller releases the scratch (dg_arena_release) once the stream has finished. Layers release their
// temporaries as soon as their work is recorded (the stream orders GPU reuse of that memory), unless
// a gradient tape is recording (then backward needs them), so scratch memory allocated after a forward
// may still back recorded work: finish the stream before writing such memory from the host.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_stream.h"
#include "dg_tensor.h"
#include "dg_weights.h"

// The gradient tape (render/nn/dg_tape.h): while one is set in dg_nn_hooks.tape, the layers record
// their ops on it and keep their temporaries, and backward walks it (d loss / d latent through the
// UNet, Divide & Bind).
typedef struct dg_tape dg_tape;

// Where an attention sub-layer sits, as hooks see it.
typedef enum dg_nn_attn_kind {
  DG_NN_SELF_ATTN,     // over the pixels of one image (attn1)
  DG_NN_CROSS_ATTN,    // pixels to context tokens (attn2): heatmaps, Divide & Bind
  DG_NN_TEMPORAL_ATTN, // over the F frames of one pixel (a video UNet's temporal transformers)
} dg_nn_attn_kind;

// Capture of cross-attention probabilities for chosen context tokens at chosen transformers: for
// each selected one, `fn` gets probs [N*F*heads, H*W, n_tokens] = softmax(q k^T / sqrt(d))[..., tokens]
// (batch index (n*F + f) * heads + head). probs lives in scratch and is recorded, not finished: fn
// records what it needs (an accumulation into its own tensor, a copy) before the layer goes on.
typedef struct dg_nn_attn_capture {
  int first_token, n_tokens; // the context positions first_token .. first_token + n_tokens - 1
  uint64_t layers; // bit i selects transformer i of the model (dg_nn_transformer.index)
  dg_status (*fn)(void *user, int layer, int block, int64_t h, int64_t w, const dg_tensor *probs);
  void *user;
} dg_nn_attn_capture;

// Additive bias of temporal attention (VSTAR's temporal attention regularisation), asked for by
// attention `attn` (0: attn1, 1: attn2 of block 0; 2 * block + i in general; both are self-attention
// over the frames) of temporal transformer `layer` (the video UNet's numbering in forward order; -1
// for its init_attn) with its query and key tokens q, k [N*H*W, F, heads*d] (logits q k^T / sqrt(d)),
// the tokens of an h x w latent: *bias = NULL (none) or a tensor [F, F] or [N*H*W*heads, F, F]
// (batch index (n*H*W + pixel) * heads + head) added to the logits (dg_attention_args.bias), e.g. a
// Gaussian band scaled by each row's largest logit (dg_tar.h). The hook may record work of its own on
// the context's stream (a capture of the attention matrix) and allocate from its scratch.
typedef dg_status (*dg_nn_temporal_bias_fn)(void *user, int layer, int attn, int64_t h, int64_t w, const dg_tensor *q,
                                            const dg_tensor *k, int heads, const dg_tensor **bias);

typedef struct dg_nn_hooks {
  const dg_nn_attn_capture *attn_capture; // NULL: none
  dg_nn_temporal_bias_fn temporal_bias;   // NULL: none
  void *temporal_user;
  // Per-frame text context [N*F, L, D] (VSTAR's prompts interpolated over the frames), used by every
  // cross-attention in place of the model's context. NULL: the model's context.
  const dg_tensor *frame_context;
  dg_tape *tape; // NULL: no gradients (no recording, no cost)
} dg_nn_hooks;

typedef struct dg_nn_ctx {
  dg_stream *s;
  dg_arena *scratch;
  dg_dtype dtype;
  int frames;               // F, the frames folded into the batch; 0 or 1 for images
  const dg_nn_hooks *hooks; // NULL: none
} dg_nn_ctx;

// F of the context (1 for images).
static inline int dg_nn_frames(const dg_nn_ctx *nn) { return nn->frames > 1 ? nn->frames : 1; }
// The context of the model's cross-attention: the per-frame context hook if set, else `context`.
const dg_tensor *dg_nn_context(const dg_nn_ctx *nn, const dg_tensor *context);
// Ends a layer's scope of temporaries: releases scratch back to `mark` unless a tape is recording.
void dg_nn_scope_end(const dg_nn_ctx *nn, dg_arena_mark mark);

// Fused epilogues (conv/linear + bias + residual add in one dispatch) in the blocks' forwards; on by
// default, off with DIRIGENT_FUSION=0 or this call (the benchmarks compare both in one process).
// While a gradient tape records, the blocks run unfused (separate adds, as the tape records them).
void dg_nn_set_fusion(bool on);
bool dg_nn_fusion(void);

// Where layers load from: the store, the arena for the weights and their dtype.
typedef struct dg_nn_src {
  const dg_weights *w;
  dg_arena *arena;
  dg_dtype dtype;
} dg_nn_src;

dg_status dg_nn_alloc(const dg_nn_ctx *nn, int ndim, const int64_t *shape, dg_tensor *out);
// A tensor of `shape` in the source's arena and dtype, written from f32 host values.
dg_status dg_nn_upload(const dg_nn_src *src, int ndim, const int64_t *shape, const float *values, dg_tensor *out);
// An f32 host copy of the named tensor, which must have exactly `ndim` dims of `shape` (-1: any).
// Caller frees.
dg_status dg_nn_read(const dg_nn_src *src, const char *name, int ndim, const int64_t *shape, float **out);
// True if `prefix` + `suffix` names a tensor of the store.
bool dg_nn_has(const dg_nn_src *src, const char *prefix, const char *suffix);

typedef struct dg_nn_conv {
  dg_tensor w, b;
  int stride, pad;
} dg_nn_conv;
dg_status dg_nn_conv_load(const dg_nn_src *src, const char *prefix, int stride, int pad, dg_nn_conv *out);
// Symmetric padding (pad), or the VAE downsample's (0, 1, 0, 1) when pad < 0.
dg_status dg_nn_conv_forward(const dg_nn_ctx *nn, const dg_nn_conv *c, const dg_tensor *x, dg_tensor *out);

typedef struct dg_nn_linear {
  dg_tensor w, b;
  bool has_bias;
} dg_nn_linear;
// The weight is [out, in], or a Conv1d's [out, in, 1] (a 1x1 Conv1d over tokens is the same Linear).
dg_status dg_nn_linear_load(const dg_nn_src *src, const char *prefix, bool bias, dg_nn_linear *out);
// x [..., K] -> out [..., N].
dg_status dg_nn_linear_forward(const dg_nn_ctx *nn, const dg_nn_linear *l, const dg_tensor *x, dg_tensor *out);

typedef struct dg_nn_norm {
  dg_tensor g, b;
  int groups; // 0: layer norm over the last dim
  float eps;
} dg_nn_norm;
dg_status dg_nn_norm_load(const dg_nn_src *src, const char *prefix, int groups, float eps, dg_nn_norm *out);
dg_status dg_nn_norm_forward(const dg_nn_ctx *nn, const dg_nn_norm *n, const dg_tensor *x, bool silu, dg_tensor *out);

// LDM ResBlock (UNet): GN+SiLU, conv, + Linear(SiLU(emb)), GN+SiLU, conv, + skip (1x1 conv if the width changes).
typedef struct dg_nn_resblock {
  dg_nn_norm in_norm, out_norm;
  dg_nn_conv in_conv, out_conv, skip;
  dg_nn_linear emb;
  bool has_skip;
  int cout;
} dg_nn_resblock;
dg_status dg_nn_resblock_load(const dg_nn_src *src, const char *prefix, dg_nn_resblock *out);
// emb_silu: SiLU of the time embedding [N, ted].
dg_status dg_nn_resblock_forward(const dg_nn_ctx *nn, const dg_nn_resblock *r, const dg_tensor *x,
                                 const dg_tensor *emb_silu, dg_tensor *out);

typedef struct dg_nn_attn {
  dg_nn_linear q, k, v, o; // q, k, v: views of qkv where stacked
  int heads;
  // The projections' weights stacked [n_stacked, inner, in] so that those of one input run as one GEMM
  // (dg_linear_stacked): q, k, v (n_stacked 3, equal shapes) or k, v (2); 0: separate tensors.
  dg_tensor qkv;
  int n_stacked;
} dg_nn_attn;

typedef struct dg_nn_tblock {
  dg_nn_norm norm1, norm2, norm3;
  dg_nn_attn attn1, attn2;
  dg_nn_linear ff_in, ff_out;
} dg_nn_tblock;

#define DG_NN_MAX_DEPTH 16
// SpatialTransformer: GN (eps 1e-6), proj_in (1x1 conv, or Linear: a 2-D weight or a Conv1d's 1x1), depth x (self-attn, cross-attn,
// GEGLU FF, each pre-LN and residual), proj_out, + input. `index` numbers the model's transformers in
// forward order (set by the model; hooks select layers by it).
typedef struct dg_nn_transformer {
  int index;
  dg_nn_norm norm;
  bool linear_proj;
  dg_nn_conv proj_in_c, proj_out_c;
  dg_nn_linear proj_in_l, proj_out_l;
  int depth, inner;
  dg_nn_tblock blocks[DG_NN_MAX_DEPTH];
} dg_nn_transformer;
dg_status dg_nn_transformer_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_transformer *out);
// The transformer blocks on tokens tok [B, L, inner] in place: context [B, Lc, D] for the
// cross-attentions (kind DG_NN_CROSS_ATTN), or NULL for a temporal transformer (tokens [N*H*W, F,
// inner]: both attentions are self-attention over the frames, kind DG_NN_TEMPORAL_ATTN, with the
// temporal-bias hook); h, w: the latent size the hooks see.
dg_status dg_nn_transformer_blocks(const dg_nn_ctx *nn, const dg_nn_transformer *t, dg_tensor *tok,
                                   const dg_tensor *context, int64_t h, int64_t w);
// x [N*F, C, H, W], context [N*F, L, D] (dg_nn_context: the per-frame context hook replaces it).
dg_status dg_nn_transformer_forward(const dg_nn_ctx *nn, const dg_nn_transformer *t, const dg_tensor *x,
                                    const dg_tensor *context, dg_tensor *out);

// VAE ResnetBlock: GN+SiLU, conv1, GN+SiLU, conv2, + x (nin_shortcut if the width changes).
typedef struct dg_nn_vae_res {
  dg_nn_norm norm1, norm2;
  dg_nn_conv conv1, conv2, nin;
  bool has_nin;
} dg_nn_vae_res;
dg_status dg_nn_vae_res_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_res *out);
dg_status dg_nn_vae_res_forward(const dg_nn_ctx *nn, const dg_nn_vae_res *r, const dg_tensor *x, dg_tensor *out);

// VAE AttnBlock: single-head self-attention over pixels with 1x1-conv q, k, v, proj_out, + x.
typedef struct dg_nn_vae_attn {
  dg_nn_norm norm;
  dg_nn_conv q, k, v, proj;
} dg_nn_vae_attn;
dg_status dg_nn_vae_attn_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_attn *out);
dg_status dg_nn_vae_attn_forward(const dg_nn_ctx *nn, const dg_nn_vae_attn *a, const dg_tensor *x, dg_tensor *out);

// LDM sinusoidal timestep embedding [cos(t f), sin(t f)] of `dim` per timestep, on the host (f32 as torch).
void dg_nn_timestep_embedding(const float *t, int n, int dim, float *out);
