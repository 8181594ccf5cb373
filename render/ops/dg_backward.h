// Gradients of the ops with respect to their inputs (reverse mode, no weight gradients), f32 or f16
// storage with f32 arithmetic, for the gradient tape of render/nn (dg_tape.h). Backwards that are
// forward ops are not repeated here: linear's is a matmul (dx = dy W), a permutation's the inverse
// permutation, concatenation's a split, nearest 2x upsampling's a 2x2 average pool times 4, an add's
// the identity. Each tensor must fit one binding (no windows yet: these run on one latent's
// activations, which the size rule keeps under the limit).
#pragma once
#include <stdbool.h>

#include "dg_conv.h"
#include "dg_stream.h"
#include "dg_tensor.h"

// dx [N, Cin, H, W] of y = conv2d(x, w) (one group, any stride and padding of dg_conv2d_params,
// bottom/right padding included): dy [N, Cout, Ho, Wo], w [Cout, Cin, KH, KW]. dx's shape gives H, W.
dg_status dg_conv2d_backward(dg_stream *s, const dg_tensor *dy, const dg_tensor *w, const dg_conv2d_params *params,
                             dg_tensor *dx);
// dx of out = silu?(group_norm(x)) (dg_group_norm with affine), statistics recomputed from x.
dg_status dg_group_norm_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, int groups,
                                 const dg_tensor *gamma, const dg_tensor *beta, float eps, bool silu, dg_tensor *dx);
// dx of out = silu?(layer_norm(x)) over the last dim.
dg_status dg_layer_norm_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, const dg_tensor *gamma,
                                 const dg_tensor *beta, float eps, bool silu, dg_tensor *dx);
// ds = scale * P (dP - rowsum(dP P)) for P = softmax(scale * S) over the last dim: the gradient of
// the logits S. dp [rows, len] (NULL: none) and/or gc [rows, n_chosen], the gradient of the
// probabilities at the columns chosen_first .. chosen_first + n_chosen - 1 (a capture hook's). p, ds
// [rows, len] (any shape of that size).
dg_status dg_softmax_backward(dg_stream *s, const dg_tensor *p, const dg_tensor *dp, const dg_tensor *gc,
                              int chosen_first, int n_chosen, float scale, dg_tensor *ds);
// dx [..., 2F] of out = dg_geglu(x) [..., F], given x and dy.
dg_status dg_geglu_backward(dg_stream *s, const dg_tensor *x, const dg_tensor *dy, dg_tensor *dx);

// Gradients of out = dg_attention(q, k, v) (no bias, no mask; layout of dg_attention.h) given dO
// and/or the gradient gprobs [N*heads, Lq, n_chosen] of the probabilities at the chosen keys. The
// probabilities are recomputed into scratch (P of as many heads as one binding holds, released
// before returning).
// dq is required; dk and dv may be NULL (cross-attention: keys and values come from the text).
typedef struct dg_attention_grad_args {
  int heads;
  float scale; // 0: 1 / sqrt(d)
  const dg_tensor *d_out;  // NULL: only gprobs
  const dg_tensor *gprobs; // NULL: none
  int chosen_first, n_chosen; // the keys gprobs is of, as dg_attention_args'
} dg_attention_grad_args;
dg_status dg_attention_backward(dg_stream *s, dg_arena *scratch, const dg_tensor *q, const dg_tensor *k,
                                const dg_tensor *v, const dg_attention_grad_args *args, dg_tensor *dq, dg_tensor *dk,
                                dg_tensor *dv);
