// Records dispatches into command buffers and submits them in batches, so recording overlaps
// execution. A barrier is inserted only where a dispatch touches memory an earlier, not yet
// barriered dispatch wrote (or writes memory one read). A cancellation flag is checked at every
// batch boundary.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dg_arena.h"
#include "dg_kernel.h"

typedef struct dg_stream dg_stream;

typedef struct dg_binding {
  dg_range range;
  bool write;
} dg_binding;

// batch: dispatches per submit (0 = 128).
dg_status dg_stream_create(dg_device *device, int batch, dg_stream **out);
void dg_stream_destroy(dg_stream *stream);
dg_device *dg_stream_device(const dg_stream *stream);
// The flag is read, never written; NULL disables cancellation.
void dg_stream_set_cancel(dg_stream *stream, const atomic_bool *flag);

// Binding i of the shader (set 0) gets bindings[i]: a storage buffer, except binding DG_UNIFORM_BINDING, a
// uniform buffer (at most max_uniform_bytes, offset aligned to min_uniform_offset_alignment). push is copied
// (at most 128 bytes).
dg_status dg_stream_dispatch(dg_stream *stream, dg_kernel *kernel, const dg_binding *bindings, int n_bindings,
                             const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz,
                             const char *label);
// Foreign commands (VkFFT, render/gpu/dg_fft): `record` appends its own commands to the stream's open
// command buffer (a VkCommandBuffer, passed as void * so that this header stays free of Vulkan types).
// `bindings` declares every range they read and write, so the barriers before and after stay right;
// memory the foreign code owns alone is its own affair. Counts as one dispatch of the batch; `label`
// names it in the profile. The callback's error is returned.
typedef dg_status (*dg_stream_record_fn)(void *command_buffer, void *user);
dg_status dg_stream_record(dg_stream *s, const dg_binding *bindings, int n, dg_stream_record_fn record, void *user,
                           const char *label);
// Temporaries of one op (dg_conv2d's Winograd path): n ranges of bytes[i] bytes in memory the stream owns,
// valid until the next call, which reuses the memory (the bindings' hazards order that reuse).
dg_status dg_stream_workspace(dg_stream *stream, int n, const uint64_t *bytes, dg_range *out);
// Submits what is recorded and waits for all of it. Returns DG_ERR_CANCELLED (once) if the flag
// was seen raised; the work recorded after that point was dropped.
dg_status dg_stream_finish(dg_stream *stream);

// Profiling (device opened with timestamps): GPU time per label, accumulated over finished work.
typedef struct dg_profile_entry {
  const char *label;
  double total_ms;
  uint64_t count;
} dg_profile_entry;
int dg_stream_profile(const dg_stream *stream, const dg_profile_entry **entries);
void dg_stream_profile_reset(dg_stream *stream);
// Prints the profile to `f`, largest GPU time first: one line per label with its share and dispatches.
void dg_stream_profile_print(const dg_stream *stream, FILE *f);
uint64_t dg_stream_dispatch_count(const dg_stream *stream);
uint64_t dg_stream_barrier_count(const dg_stream *stream);
