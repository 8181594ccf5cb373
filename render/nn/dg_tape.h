// The gradient tape (reverse mode, gradients with respect to inputs only; Divide & Bind's
// d loss / d latent through the UNet). While a tape is set in the model context's hooks
// (dg_nn_hooks.tape), the layers of render/nn and the UNet's glue record one entry per op whose
// input depends on a watched tensor: its backward function, the layer's parameters and its input and
// output tensors (scratch is not released while a tape is set, so the inputs stay intact and every
// tensor has its own address). Ops on constants (the timestep embedding, the text context's keys
// and values) are not recorded. Tensors are identified by buffer + offset, so a reshaped view is the
// same tensor; an op writing in place keeps its input's identity, and the layers do that only where
// no recorded entry reads the overwritten value (an add of a constant, a residual add into a
// convolution's output).
//
// dg_tape_backward walks the entries in reverse from seeded gradients (e.g. a loss's gradient with
// respect to captured attention probabilities), skipping entries none of whose outputs got a
// gradient, and accumulating where a tensor fed several ops (residuals, skip connections).
// Gradients live in the tape's own arena, until dg_tape_reset.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"
#include "dg_attention.h"
#include "dg_nn.h"
#include "dg_stream.h"
#include "dg_tensor.h"

typedef struct dg_tape_entry dg_tape_entry;
// Computes the gradients of the entry's inputs from those of its outputs (dg_tape_grad) and adds
// them (dg_tape_accumulate).
typedef dg_status (*dg_tape_backward_fn)(dg_tape *t, dg_stream *s, const dg_tape_entry *e);

#define DG_TAPE_MAX_IN 3
struct dg_tape_entry {
  dg_tape_backward_fn backward;
  const void *layer; // the layer's parameters (weights), which outlive the tape's use
  dg_tensor in[DG_TAPE_MAX_IN];
  int n_in;
  dg_tensor out[2];
  int n_out;
  int ints[8]; // op parameters (a permutation, heads and the chosen tokens, ...)
  float scale;
};

dg_status dg_tape_create(dg_device *device, dg_tape **out);
void dg_tape_free(dg_tape *t);
// Forgets the entries, watched tensors and gradients (their memory is reused: finish the stream
// that used them first).
void dg_tape_reset(dg_tape *t);
// Marks x (the latent) as a tensor whose gradient is wanted: ops reading it, or anything computed
// from it, are recorded.
dg_status dg_tape_watch(dg_tape *t, const dg_tensor *x);
bool dg_tape_tracks(const dg_tape *t, const dg_tensor *x);
// Appends e if one of its inputs is tracked (its outputs then are); otherwise does nothing.
dg_status dg_tape_record(dg_tape *t, const dg_tape_entry *e);
int dg_tape_entries(const dg_tape *t);

// Adds g (any tensor of x's element count and dtype) to the gradient of x.
dg_status dg_tape_seed(dg_tape *t, dg_stream *s, const dg_tensor *x, const dg_tensor *g);
// Runs the entries backward (recorded on s; finish s before reading a gradient on the host).
dg_status dg_tape_backward(dg_tape *t, dg_stream *s);
// The gradient of x (x's shape), or NULL when nothing reached it. The pointer lasts until the next
// dg_tape_accumulate, dg_tape_seed or dg_tape_record.
const dg_tensor *dg_tape_grad(const dg_tape *t, const dg_tensor *x);

// For backward functions: a tensor from the tape's arena, and the gradient accumulation. With
// owned, dx was allocated by dg_tape_alloc for this call and becomes x's gradient if x has none
// (no copy); otherwise it is added (or copied) in.
dg_status dg_tape_alloc(dg_tape *t, dg_dtype dtype, int ndim, const int64_t *shape, dg_tensor *out);
dg_status dg_tape_accumulate(dg_tape *t, dg_stream *s, const dg_tensor *x, const dg_tensor *dx, bool owned);
// Scratch for temporaries of one backward function (released by it).
dg_arena *dg_tape_scratch(dg_tape *t);
// A tensor derived from a weight (e.g. a convolution's kernel transposed and flipped), kept across
// dg_tape_reset for the tape's life, keyed by the weight and `kind`: *fresh tells the caller to
// fill it (from the host: the memory is new).
dg_status dg_tape_derived(dg_tape *t, const dg_tensor *weight, int kind, dg_dtype dtype, int ndim,
                          const int64_t *shape, dg_tensor *out, bool *fresh);

// The tape of a model context, or NULL.
static inline dg_tape *dg_nn_tape(const dg_nn_ctx *nn) { return nn->hooks ? nn->hooks->tape : NULL; }

// Entries of the layout glue, recorded where the op runs: out = a + b (b or a may be a constant, or
// alias out: an in-place add), out = x.permute(perm) (up to 5 dims), out = nearest 2x upsample of
// x, out = cat(parts, axis).
dg_status dg_tape_record_add(dg_tape *t, const dg_tensor *out, const dg_tensor *a, const dg_tensor *b);
dg_status dg_tape_record_permute(dg_tape *t, const dg_tensor *x, const int *perm, const dg_tensor *out);
dg_status dg_tape_record_upsample(dg_tape *t, const dg_tensor *x, const dg_tensor *out);
dg_status dg_tape_record_concat(dg_tape *t, const dg_tensor *const *parts, int n, int axis, const dg_tensor *out);
