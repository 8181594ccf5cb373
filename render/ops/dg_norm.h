// Normalisations over rows: group norm (GroupNorm32 of SD, with affine and an optional fused SiLU),
// layer norm over the last dim, and row softmax. out may not alias x.
#pragma once
#include <stdbool.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// x: [N, C, ...] (2 to 5 dims), C divisible by groups; gamma, beta: C elements, or both NULL for
// no affine. out = silu?(gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]), statistics per
// (sample, group) with the biased variance, as torch.nn.GroupNorm.
dg_status dg_group_norm(dg_stream *s, const dg_tensor *x, int groups, const dg_tensor *gamma, const dg_tensor *beta,
                        float eps, bool silu, dg_tensor *out);
// Normalises over the last dim of x; gamma, beta: that many elements, or both NULL.
dg_status dg_layer_norm(dg_stream *s, const dg_tensor *x, const dg_tensor *gamma, const dg_tensor *beta, float eps,
                        dg_tensor *out);
// out = softmax(scale * x) along the last dim.
dg_status dg_softmax(dg_stream *s, const dg_tensor *x, float scale, dg_tensor *out);
