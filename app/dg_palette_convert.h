// Converting a layout from one class palette to another by class name: the same name (ASCII
// case-insensitive), else a synonym from a short table (docs/palettes.md); the rest become unlabelled
// and are reported by name.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_palette.h"

typedef struct dg_palette_map {
  uint8_t to[256]; // source id -> target id; DG_UNLABELLED for unmatched classes and unknown ids
  int matched;     // how many of the source's classes have a target
} dg_palette_map;

// The map from `from`'s classes to `to`'s.
void dg_palette_map_make(const dg_palette *from, const dg_palette *to, dg_palette_map *out);
// The target class name for a source class name: `name` itself when `to` has it, else a synonym's;
// -1 when `to` has neither.
int dg_palette_match_name(const dg_palette *to, const char *name);

typedef struct dg_palette_conversion {
  int unmatched_count;  // source classes on the layout that had no target (their pixels are unlabelled now)
  int unmatched_pixels; // how many pixels became unlabelled
  char unmatched[1024]; // their names, comma-separated, in id order ("" when none; "..." when cut)
} dg_palette_conversion;

// Rewrites ids[n] (class ids of `from`, or DG_UNLABELLED) in place as ids of `to`; `report` (may be
// NULL) gets the unmatched classes that occurred.
void dg_palette_convert_ids(const dg_palette *from, const dg_palette *to, uint8_t *ids, size_t n,
                            dg_palette_conversion *report);

// The palette as dg_png wants it (colour-coded label maps and the PLTE of written ones).
#include "dg_png.h"
void dg_palette_to_png(const dg_palette *p, dg_png_palette *out);

// The editor's palette switch: the document's layout converted from `from` to `to` (whose
// dg_palette_title, or `name` when given, becomes the document's palette) as one undo step.
#include "dg_document.h"
dg_status dg_palette_convert_document(dg_document *doc, const dg_palette *from, const dg_palette *to, const char *name,
                                      dg_palette_conversion *report);
