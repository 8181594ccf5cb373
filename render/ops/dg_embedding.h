// Embeddings: token lookup (CLIP's token table) and the sinusoidal timestep embedding.
#pragma once
#include <stdbool.h>

#include "dg_arena.h"

#include "dg_stream.h"
#include "dg_tensor.h"

// out[r, :] = table[ids[r], :] for r < n_ids; ids is a buffer of n_ids uint32 values (written by
// the host or an earlier op). table: [vocab, dim]; out: [n_ids, dim] (any shape with that many
// elements). Ids >= vocab give rows of zeros (they cannot be checked on the host without a sync).
dg_status dg_embedding_lookup(dg_stream *s, dg_range ids, int64_t n_ids, const dg_tensor *table, dg_tensor *out);
// The same for ids on the host (CLIP's tokens): each is checked against the table (an id >= vocab is
// an error), then they are uploaded into `arena` after finishing the stream, since that memory may
// have been released by work still recorded.
dg_status dg_embedding_lookup_host(dg_stream *s, dg_arena *arena, const uint32_t *ids, int64_t n_ids,
                                   const dg_tensor *table, dg_tensor *out);
// t: [N] f32 timesteps; out: [N, dim]. cos_first: LDM's order [cos, sin] (diffusers'
// flip_sin_to_cos=True); false gives [sin, cos]. max_period: 10000 in SD.
dg_status dg_timestep_embedding(dg_stream *s, const dg_tensor *t, int dim, float max_period, bool cos_first,
                                dg_tensor *out);
