// Helpers shared by the op wrappers: kernel lookup per dtype, bindings and windows into tensors,
// and dispatch-grid sizing. Not part of the public API.
#pragma once
#include <stdatomic.h>

#include "dg_stream.h"
#include "dg_tensor.h"

// Kernel for shader `name`, picking the ".f16" variant for f16 tensors. spec[0] is the workgroup
// size by convention.
dg_status dg_op_kernel(dg_stream *s, const char *name, dg_dtype dtype, const uint32_t *spec, int n_spec,
                         dg_kernel **out);

static inline dg_binding dg_bind(const dg_tensor *t, bool write) { return (dg_binding){t->data, write}; }

// A binding covering elements [first, first + count) of t, starting at an aligned byte offset;
// *elem_offset is the index of element `first` inside the binding.
dg_binding dg_window(const dg_device *d, const dg_tensor *t, int64_t first, int64_t count, bool write,
                     uint32_t *elem_offset);
// Largest element count per window such that any window of t fits the binding limit.
int64_t dg_window_elems(const dg_device *d, const dg_tensor *t);

// Workgroup grid for `groups` workgroups: x up to the device limit, the rest in y.
void dg_grid_1d(const dg_device *d, uint64_t groups, uint32_t *gx, uint32_t *gy);

// Argument checks that fill the error message.
dg_status dg_check_same_dtype(const char *op, const dg_tensor *a, const dg_tensor *b);
dg_status dg_check_numel(const char *op, const char *what, const dg_tensor *t, int64_t numel);
// out must have x's dtype and shape except its last two dims, which must be oh, ow.
dg_status dg_check_planes_out(const char *op, const dg_tensor *x, const dg_tensor *out, int64_t oh, int64_t ow);

// Whether environment variable `name` is set, read once into *cache (initialised to -1): the timing switches
// (DIRIGENT_GEMM_NO_ADDRESS, ...) are consulted on every dispatch of the ops that have them.
bool dg_op_env_flag(atomic_int *cache, const char *name);
