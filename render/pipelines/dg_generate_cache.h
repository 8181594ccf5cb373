// What dg_generate may keep between generations: the text encoder's output per prompt text and the
// ControlNet hint per layout, as host floats, so a generation whose prompt (or negative prompt, or
// layout) did not change does not rerun the text encoder (or rebuild the hint). The caller owns the cache
// and passes it in dg_generate_params.cache; dg_generate fills and reuses it. It belongs to one model
// set: dg_generate clears it when handed another set, and a caller that closes and reopens a set clears
// it (dg_generate_cache_clear), since a new set may sit at the old one's address. Images are
// byte-identical with and without a cache (the stored values round-trip through the tensor's dtype
// exactly). Not thread-safe: one generation at a time per cache.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

typedef struct dg_generate_cache dg_generate_cache;

typedef struct dg_generate_cache_stats {
  int text_encodes, text_hits; // text encoder runs (a prompt or negative not cached) and reuses
  int hint_builds, hint_hits;  // layout hints built and reused
} dg_generate_cache_stats;

dg_generate_cache *dg_generate_cache_new(void);
void dg_generate_cache_free(dg_generate_cache *c);
// Forgets every entry (the counters stay).
void dg_generate_cache_clear(dg_generate_cache *c);
void dg_generate_cache_get_stats(const dg_generate_cache *c, dg_generate_cache_stats *out);

// For dg_generate. Entries of a kind are keyed by bytes; a kind keeps its `DG_GENERATE_CACHE_KEEP`
// most recently used entries.
typedef enum dg_generate_cache_kind { DG_GENERATE_CACHE_TEXT, DG_GENERATE_CACHE_HINT } dg_generate_cache_kind;
#define DG_GENERATE_CACHE_KEEP 4
// Clears the cache when `owner` (the model set) is not the one its entries came from.
void dg_generate_cache_bind(dg_generate_cache *c, const void *owner);
// The stored values of (kind, key) and their shape, or NULL (counting a hit or a miss).
const float *dg_generate_cache_find(dg_generate_cache *c, dg_generate_cache_kind kind, const void *key, size_t key_len,
                                    int *ndim, int64_t shape[4]);
// Stores a copy of the values (their count is the shape's product).
dg_status dg_generate_cache_put(dg_generate_cache *c, dg_generate_cache_kind kind, const void *key, size_t key_len,
                                int ndim, const int64_t *shape, const float *v);
