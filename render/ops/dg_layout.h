// Data layout ops: concatenation and splitting along an axis (channels in the UNet's skip
// connections) and general permutation of up to 5 dims.
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

// out = cat(inputs, axis): all inputs have out's rank and shape except along `axis`.
dg_status dg_concat(dg_stream *s, const dg_tensor *const *inputs, int n, int axis, dg_tensor *out);
// The inverse: outs[i] receive consecutive slices of x along `axis` (their sizes must add up).
dg_status dg_split(dg_stream *s, const dg_tensor *x, int axis, dg_tensor *const *outs, int n);
// out = x.permute(perm): out.shape[i] = x.shape[perm[i]].
dg_status dg_permute(dg_stream *s, const dg_tensor *x, const int *perm, dg_tensor *out);
