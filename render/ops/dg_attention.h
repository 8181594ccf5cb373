// Scaled dot-product attention, flash-style: out = softmax(scale * Q K^T + bias) V, computed with an
// online softmax over key tiles so the [Lq, Lk] score matrix is never stored.
//
// Layout: q and out are [N, Lq, heads * d], k and v [N, Lk, heads * d] (3-D, contiguous), i.e. the
// output of the q/k/v projections as they come; head h of item n uses columns h*d .. h*d+d-1. With
// heads = 1 this is plain [B, L, d] with heads already folded into B. The batch of the attention is
// B = N * heads, indexed b = n * heads + h (bias and probs use this index).
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// Head dims up to DG_ATTENTION_MAX_D run the flash kernel (query rows and accumulators in registers,
// K/V rows shared through subgroup broadcasts); wider heads, up to DG_ATTENTION_MAX_WIDE_D (the VAE
// mid-block's single head of 512), a one-query-per-lane kernel with the same options.
#define DG_ATTENTION_MAX_D 256
#define DG_ATTENTION_MAX_WIDE_D 512

typedef struct dg_attention_args {
  int heads;             // >= 1, divides q's last dim
  float scale;           // 0 means 1 / sqrt(d)
  const dg_tensor *bias; // optional additive bias: [Lq, Lk] (broadcast over B) or [B, Lq, Lk]
  bool causal;           // mask key j for query i when j > i + (Lk - Lq) (CLIP's text encoder)
  // Optional: probs[b, i, c] = softmax(...)[b, i, chosen_first + c] for the n_chosen keys from
  // chosen_first on (the same distribution that weights V, bias and mask included): a prompt's tokens
  // 1..n. probs: [B, Lq, n_chosen].
  int chosen_first, n_chosen;
  dg_tensor *probs;
} dg_attention_args;

dg_status dg_attention(dg_stream *s, const dg_tensor *q, const dg_tensor *k, const dg_tensor *v,
                       const dg_attention_args *args, dg_tensor *out);
