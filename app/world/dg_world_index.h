// Reading a world image dataset's index (DIR/index.jsonl, docs/world-format.md): per sample its id,
// seed, size, image, label and scene paths (prefixed with DIR) and captions with the class and colour
// attribute of each role; and the colours of a class's objects from a sample's scene graph. Used by
// `dirigent-cli eval`.
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
  char *scene; // NULL when the line has none
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
// The colours of the objects of class `cls` in the entry's scene graph: bit a of *colours set for each
// dg_world_attr a present; *uncoloured set if some object of the class has no colour attribute.
dg_status dg_world_index_object_colours(const dg_world_index_entry *e, int cls, unsigned *colours, bool *uncoloured);
