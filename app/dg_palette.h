// The class palette of a semantic layout: ids, names and colours, loaded from assets/palettes/*.json
// (docs/world-format.md). Ids are dense from 0; `unlabelled` (255) is the erased class.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_status.h"

#define DG_UNLABELLED 255

typedef struct dg_palette_class {
  int id;
  char *name;
  uint8_t rgb[3];
} dg_palette_class;

typedef struct dg_palette dg_palette;

// Parses a palette file; on failure returns NULL and sets the error message (file and problem).
dg_palette *dg_palette_load(const char *path, dg_status *status);
dg_palette *dg_palette_parse(const char *json, long length, dg_status *status);
// Finds `name` (e.g. "world.json") in $DIRIGENT_ASSETS/palettes, the source tree, then the install dir.
dg_palette *dg_palette_load_default(dg_status *status);
void dg_palette_free(dg_palette *p);

int dg_palette_count(const dg_palette *p);
const dg_palette_class *dg_palette_class_at(const dg_palette *p, int index);
// The class with this id, or NULL (also for DG_UNLABELLED).
const dg_palette_class *dg_palette_find(const dg_palette *p, int id);
// The colour of id (the unlabelled colour for DG_UNLABELLED or unknown ids).
void dg_palette_color(const dg_palette *p, int id, uint8_t rgb[3]);
// The class id whose colour is exactly rgb, DG_UNLABELLED for the unlabelled colour, -1 if none.
int dg_palette_lookup_rgb(const dg_palette *p, const uint8_t rgb[3]);
const char *dg_palette_name(const dg_palette *p, int id); // "unlabelled" for 255, NULL if unknown
