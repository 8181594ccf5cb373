// Layers of the Stable Diffusion networks, built from ops, each loading its weights by LDM name
// (`prefix` is the full name up to the layer, e.g. "model.diffusion_model.input_blocks.1.0").
// Forward passes allocate their outputs (and temporaries) from the context's scratch arena; the
// caller releases the scratch (dg_arena_release) once the stream has finished. Layers release their
// temporaries as soon as their work is recorded (the stream orders GPU reuse of that memory), so
// scratch memory allocated after a forward may still back recorded work: finish the stream before
// writing such memory from the host.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_stream.h"
#include "dg_tensor.h"
#include "dg_weights.h"

typedef struct dg_nn {
  dg_stream *s;
  dg_arena *scratch;
  dg_dtype dtype;
} dg_nn;

// Where layers load from: the store, the arena for the weights and their dtype.
typedef struct dg_nn_src {
  const dg_weights *w;
  dg_arena *arena;
  dg_dtype dtype;
} dg_nn_src;

dg_status dg_nn_alloc(const dg_nn *nn, int ndim, const int64_t *shape, dg_tensor *out);
// True if `prefix` + `suffix` names a tensor of the store.
bool dg_nn_has(const dg_nn_src *src, const char *prefix, const char *suffix);

typedef struct dg_nn_conv {
  dg_tensor w, b;
  int stride, pad;
} dg_nn_conv;
dg_status dg_nn_conv_load(const dg_nn_src *src, const char *prefix, int stride, int pad, dg_nn_conv *out);
// Symmetric padding (pad), or the VAE downsample's (0, 1, 0, 1) when pad < 0.
dg_status dg_nn_conv_forward(const dg_nn *nn, const dg_nn_conv *c, const dg_tensor *x, dg_tensor *out);

typedef struct dg_nn_linear {
  dg_tensor w, b;
  bool has_bias;
} dg_nn_linear;
dg_status dg_nn_linear_load(const dg_nn_src *src, const char *prefix, bool bias, dg_nn_linear *out);
// x [..., K] -> out [..., N].
dg_status dg_nn_linear_forward(const dg_nn *nn, const dg_nn_linear *l, const dg_tensor *x, dg_tensor *out);

typedef struct dg_nn_norm {
  dg_tensor g, b;
  int groups; // 0: layer norm over the last dim
  float eps;
} dg_nn_norm;
dg_status dg_nn_norm_load(const dg_nn_src *src, const char *prefix, int groups, float eps, dg_nn_norm *out);
dg_status dg_nn_norm_forward(const dg_nn *nn, const dg_nn_norm *n, const dg_tensor *x, bool silu, dg_tensor *out);

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
dg_status dg_nn_resblock_forward(const dg_nn *nn, const dg_nn_resblock *r, const dg_tensor *x,
                                 const dg_tensor *emb_silu, dg_tensor *out);

typedef struct dg_nn_attn {
  dg_nn_linear q, k, v, o;
  int heads;
} dg_nn_attn;

typedef struct dg_nn_tblock {
  dg_nn_norm norm1, norm2, norm3;
  dg_nn_attn attn1, attn2;
  dg_nn_linear ff_in, ff_out;
} dg_nn_tblock;

#define DG_NN_MAX_DEPTH 16
// SpatialTransformer: GN (eps 1e-6), proj_in (1x1 conv or Linear), depth x (self-attn, cross-attn,
// GEGLU FF, each pre-LN and residual), proj_out, + input.
typedef struct dg_nn_transformer {
  dg_nn_norm norm;
  bool linear_proj;
  dg_nn_conv proj_in_c, proj_out_c;
  dg_nn_linear proj_in_l, proj_out_l;
  int depth, inner;
  dg_nn_tblock blocks[DG_NN_MAX_DEPTH];
} dg_nn_transformer;
dg_status dg_nn_transformer_load(const dg_nn_src *src, const char *prefix, int heads, dg_nn_transformer *out);
// x [N, C, H, W], context [N, L, D].
dg_status dg_nn_transformer_forward(const dg_nn *nn, const dg_nn_transformer *t, const dg_tensor *x,
                                    const dg_tensor *context, dg_tensor *out);

// VAE ResnetBlock: GN+SiLU, conv1, GN+SiLU, conv2, + x (nin_shortcut if the width changes).
typedef struct dg_nn_vae_res {
  dg_nn_norm norm1, norm2;
  dg_nn_conv conv1, conv2, nin;
  bool has_nin;
} dg_nn_vae_res;
dg_status dg_nn_vae_res_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_res *out);
dg_status dg_nn_vae_res_forward(const dg_nn *nn, const dg_nn_vae_res *r, const dg_tensor *x, dg_tensor *out);

// VAE AttnBlock: single-head self-attention over pixels with 1x1-conv q, k, v, proj_out, + x.
typedef struct dg_nn_vae_attn {
  dg_nn_norm norm;
  dg_nn_conv q, k, v, proj;
} dg_nn_vae_attn;
dg_status dg_nn_vae_attn_load(const dg_nn_src *src, const char *prefix, dg_nn_vae_attn *out);
dg_status dg_nn_vae_attn_forward(const dg_nn *nn, const dg_nn_vae_attn *a, const dg_tensor *x, dg_tensor *out);

// LDM sinusoidal timestep embedding [cos(t f), sin(t f)] of `dim` per timestep, on the host (f32 as torch).
void dg_nn_timestep_embedding(const float *t, int n, int dim, float *out);
