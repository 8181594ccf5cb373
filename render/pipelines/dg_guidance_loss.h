// The losses of Attend-and-Excite and Divide & Bind on aggregated cross-attention probabilities, with
// their gradients (host arithmetic; docs/methods.md §3). The input is the probabilities of the prompt's
// tokens 1..n averaged over the layers and heads of the map resolution (and, for D&B's attribute maps,
// those of the finer layers, nearest-downsampled to it); each map is softmax(100 p) over the n tokens at
// each pixel, then smoothed (dg_attn_maps_normalize). A word of several tokens maps to the mean of its
// tokens' maps.
//
// A&E: loss = max over objects of max(0, 1 - max S); indicator = min over objects of max S.
// D&B: per object v = TV(S) - coef JSD(S, C) (the JSD only for an object with a bound attribute, C the
// attribute's map), loss = max over objects of -v; indicator = min over objects of TV(S). TV is the
// mean absolute difference of horizontal neighbours plus that of vertical neighbours (the reference
// code compares the last row with every row for the second term, which we take for a slip and do not
// copy). The JSD follows the reference: C rescaled to max(S), both flattened through a softmax over the
// pixels (p, q), both thresholded at k max(p) (k = 0.3 when TV < 0.1, else 0.2) as relu(. - t) + 1e-5.
#pragma once
#include <stdint.h>

#include "dg_guidance.h"
#include "dg_marks.h"

typedef struct dg_guidance_term {
  const int *tokens; // the object's token positions (1-based, as dg_mark_word.tokens)
  int n_tokens;
  const int *attr_tokens; // its bound attribute's, or NULL
  int n_attr_tokens;
} dg_guidance_term;

typedef struct dg_guidance_eval {
  double loss, indicator;
  int worst; // the object whose term is the loss
} dg_guidance_eval;

// avg, inter: [h*w, n] (inter NULL: avg serves for the attribute maps too). coef: D&B's bind weight.
// davg, dinter (same sizes, may be NULL to skip the gradient; dinter unused when inter is NULL) are
// overwritten with d loss / d avg and d loss / d inter. DG_ERR_ARG for a token outside 1..n, DG_ERR_OOM.
dg_status dg_guidance_loss(dg_guidance_kind kind, const float *avg, const float *inter, int h, int w, int n,
                           const dg_guidance_term *terms, int n_terms, float coef, dg_guidance_eval *out,
                           float *davg, float *dinter);
