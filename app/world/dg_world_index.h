// Reading a world image dataset's index (DIR/index.jsonl, docs/world-format.md): per sample its id,
// seed, size, image and label paths (made absolute from DIR) and captions with the class and colour
// attribute of each role. Used by `dirigent-cli eval`.
#pragma once
#include <stdint.h>

#include "dg_world.h"

typedef struct dg_world_index_role {
  int cls;  // DG_WORLD_* class id, -1 if the line does not name one
  int attr; // dg_world_attr, DG_ATTR_NONE without a colour
  int count;
} dg_world_index_role;

typedef struct dg_world_index_caption {
  char *text;
  char kind[8]; // "short", "list", "count" (or "" if absent)
  int n_roles;
  dg_world_index_role roles[DG_WORLD_MAX_ROLES];
} dg_world_index_caption;

typedef struct dg_world_index_entry {
  char *id, *image, *label;
  uint64_t seed;
  int width, height;
  int n_captions;
  dg_world_index_caption captions[DG_WORLD_MAX_CAPTIONS];
} dg_world_index_entry;

typedef struct dg_world_index {
  int n;
  dg_world_index_entry *entries;
} dg_world_index;

// Reads the first `max` lines (all when max <= 0) of DIR/index.jsonl. A missing file, a malformed
// line or a missing required field (id, image, label, width, height, captions) is an error naming the
// file and the line.
dg_status dg_world_index_load(const char *dir, int max, dg_world_index *out);
void dg_world_index_free(dg_world_index *ix);
// The first caption of `kind` ("short"...), else the first caption; NULL if the entry has none.
const dg_world_index_caption *dg_world_index_caption_of(const dg_world_index_entry *e, const char *kind);
