// Reductions along one axis.
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

typedef enum dg_reduce_op { DG_REDUCE_SUM = 0, DG_REDUCE_MEAN = 1, DG_REDUCE_MAX = 2 } dg_reduce_op;

// out = op(x, axis): out holds numel(x) / x.shape[axis] elements (keepdim or not, any shape).
dg_status dg_reduce(dg_stream *s, dg_reduce_op op, const dg_tensor *x, int axis, dg_tensor *out);
