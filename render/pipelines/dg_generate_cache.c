#include "dg_generate_cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  void *key;
  size_t key_len;
  int ndim;
  int64_t shape[4];
  float *v;
  uint64_t used; // the clock at the last use; 0: empty
} entry;

struct dg_generate_cache {
  const void *owner;
  entry e[2][DG_GENERATE_CACHE_KEEP];
  uint64_t clock;
  dg_generate_cache_stats stats;
};

dg_generate_cache *dg_generate_cache_new(void) { return calloc(1, sizeof(dg_generate_cache)); }

static void entry_clear(entry *e) {
  free(e->key), free(e->v);
  memset(e, 0, sizeof *e);
}

void dg_generate_cache_clear(dg_generate_cache *c) {
  if (!c) return;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < DG_GENERATE_CACHE_KEEP; i++)
      entry_clear(&c->e[k][i]);
  c->owner = NULL;
}

void dg_generate_cache_free(dg_generate_cache *c) {
  dg_generate_cache_clear(c);
  free(c);
}

void dg_generate_cache_get_stats(const dg_generate_cache *c, dg_generate_cache_stats *out) {
  *out = c ? c->stats : (dg_generate_cache_stats){0};
}

void dg_generate_cache_bind(dg_generate_cache *c, const void *owner) {
  if (c->owner != owner) dg_generate_cache_clear(c);
  c->owner = owner;
}

const float *dg_generate_cache_find(dg_generate_cache *c, dg_generate_cache_kind kind, const void *key, size_t key_len,
                                    int *ndim, int64_t shape[4]) {
  for (int i = 0; i < DG_GENERATE_CACHE_KEEP; i++) {
    entry *e = &c->e[kind][i];
    if (e->used && e->key_len == key_len && !memcmp(e->key, key, key_len)) {
      e->used = ++c->clock;
      *ndim = e->ndim;
      memcpy(shape, e->shape, sizeof e->shape);
      if (kind == DG_GENERATE_CACHE_TEXT)
        c->stats.text_hits++;
      else
        c->stats.hint_hits++;
      return e->v;
    }
  }
  if (kind == DG_GENERATE_CACHE_TEXT)
    c->stats.text_encodes++;
  else
    c->stats.hint_builds++;
  return NULL;
}

dg_status dg_generate_cache_put(dg_generate_cache *c, dg_generate_cache_kind kind, const void *key, size_t key_len,
                                int ndim, const int64_t *shape, const float *v) {
  entry *slot = &c->e[kind][0]; // an empty one, else the least recently used
  for (int i = 1; i < DG_GENERATE_CACHE_KEEP && slot->used; i++)
    if (c->e[kind][i].used < slot->used) slot = &c->e[kind][i];
  entry_clear(slot);
  size_t n = 1;
  for (int d = 0; d < ndim && d < 4; d++)
    n *= (size_t)shape[d];
  slot->key = malloc(key_len ? key_len : 1);
  slot->v = malloc(n * sizeof *slot->v);
  if (!slot->key || !slot->v) {
    entry_clear(slot);
    return dg_fail(DG_ERR_OOM, "generate: out of memory for the cache");
  }
  memcpy(slot->key, key, key_len);
  memcpy(slot->v, v, n * sizeof *v);
  slot->key_len = key_len;
  slot->ndim = ndim;
  memcpy(slot->shape, shape, (size_t)ndim * sizeof *shape);
  slot->used = ++c->clock;
  return DG_OK;
}
