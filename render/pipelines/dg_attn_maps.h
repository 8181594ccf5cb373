// Aggregated cross-attention maps of the prompt's tokens, as Attend-and-Excite and Divide & Bind build
// them (docs/methods.md §3): the probabilities of the cond item of the UNet's batch, captured through
// dg_nn_attn_capture at every transformer of one resolution, averaged over those transformers and their
// heads (equal weights), then per pixel over the prompt's tokens 1..n (the start token, the end token and
// the padding left out, as A&E slices 1:last): softmax(100 p); then each token's map smoothed by a 3x3
// Gaussian (sigma 0.5 in the methods' exp(-(x/(2 sigma))^2) form: 1-D [0.2119, 0.5761, 0.2119]) with
// reflect padding.
//
// The resolution: the methods use 16x16 on SD 1.5's 64x64 latents (downsampling 4, of the attention
// resolutions 1, 2, 4). The rule that gives it, from the model's configuration: the finest attention
// downsampling whose maps are at most 16 on the latent's shorter side, else the coarsest there is
// (the default model, attention at 2 and 4 on 16x32 latents: 8x16 maps).
#pragma once
#include <stdint.h>

#include "dg_unet.h"

#define DG_ATTN_MAPS_SIDE 16 // the largest shorter side of a map the rule picks when it can

// The methods' Gaussian for the 3x3 smoothing: k[i] = exp(-((i-1)/(2 sigma))^2), normalised to sum 1.
void dg_attn_maps_kernel(float sigma, float k[3]);
// Reflect padding by one of index i on a side of n (torch's 'reflect': -1 -> 1, n -> n - 2).
int dg_attn_maps_reflect(int i, int n);
// One map [h, w] smoothed by the 3x3 kernel k (outer product of k with itself), reflect padding.
void dg_attn_maps_smooth(const float *in, int h, int w, const float k[3], float *out);
// avg [h*w, n]: probabilities of tokens 1..n averaged over layers and heads -> maps [n, h, w]:
// softmax(100 avg) over the n tokens at each pixel, then each map smoothed (sigma 0.5).
void dg_attn_maps_normalize(const float *avg, int h, int w, int n, float *maps);

// The transformers the maps average: the downsampling ds of the rule above for latents lh x lw, the
// map size (lh / ds, lw / ds) and the transformers' bits (dg_nn_attn_capture.layers).
// DG_ERR_UNSUPPORTED when the UNet has no cross-attention.
dg_status dg_attn_maps_select(const dg_unet *u, int lh, int lw, int *ds, int *mh, int *mw, uint64_t *layers);

// The transformers at downsampling below ds (finer maps than those of ds): D&B's "intermediate" maps.
uint64_t dg_attn_maps_finer(const dg_unet *u, int ds);

// A collector: its capture hook selects the transformers of dg_attn_maps_select and the context
// positions 1..n_tokens (the prompt's, however many); at each selected transformer it finishes
// the stream and adds the cond item's (the batch's last) probabilities to host sums, so it slows only
// runs that ask for maps. dg_attn_maps_take gives the maps of what was captured since the last take.
typedef struct dg_attn_maps dg_attn_maps;
dg_status dg_attn_maps_new(dg_stream *s, const dg_unet *u, int lh, int lw, int n_tokens, dg_attn_maps **out);
void dg_attn_maps_free(dg_attn_maps *m);
const dg_nn_attn_capture *dg_attn_maps_capture(dg_attn_maps *m);
void dg_attn_maps_size(const dg_attn_maps *m, int *mh, int *mw);
int dg_attn_maps_n_tokens(const dg_attn_maps *m);
// maps [n_tokens, mh, mw] (dg_attn_maps_normalize of the average), then the sums start again.
// DG_ERR_ARG if nothing was captured since the last take.
dg_status dg_attn_maps_take(dg_attn_maps *m, float *maps);

// The map of a word from the token maps [n, h*w] (token position t is map t - 1): the mean of its
// tokens' maps (positions past n are skipped; none left: zeros).
void dg_attn_maps_word(const float *maps, int n, int hw, const int *tokens, int n_word_tokens, float *out);
