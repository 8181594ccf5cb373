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
// The palettes shipped in assets/palettes, by name: "world" (the default), "ade20k", "cityscapes".
#define DG_PALETTE_BUILTIN_COUNT 3
extern const char *const dg_palette_builtin[DG_PALETTE_BUILTIN_COUNT];
bool dg_palette_is_builtin(const char *name);
// A shipped palette by name, or a palette file when `name_or_path` is no such name (a path).
dg_palette *dg_palette_load_named(const char *name_or_path, dg_status *status);
void dg_palette_free(dg_palette *p);
// A palette of n (1..255) classes with ids 0..n-1 (copies the strings); unlabelled is black.
dg_palette *dg_palette_new(const char *title, int n, const char *const *names, const uint8_t (*rgb)[3]);

int dg_palette_count(const dg_palette *p);
const dg_palette_class *dg_palette_class_at(const dg_palette *p, int index);
// The class with this id, or NULL (also for DG_UNLABELLED).
const dg_palette_class *dg_palette_find(const dg_palette *p, int id);
// The colour of id (the unlabelled colour for DG_UNLABELLED or unknown ids).
void dg_palette_color(const dg_palette *p, int id, uint8_t rgb[3]);
// The class id whose colour is exactly rgb, DG_UNLABELLED for the unlabelled colour, -1 if none.
int dg_palette_lookup_rgb(const dg_palette *p, const uint8_t rgb[3]);
const char *dg_palette_name(const dg_palette *p, int id); // "unlabelled" for 255, NULL if unknown
// The palette's own "name" ("world", "ade20k", ...; "palette" when the file has none).
const char *dg_palette_title(const dg_palette *p);
// The id of the class called `name` (ASCII case-insensitive, surrounding spaces ignored), -1 if none.
int dg_palette_find_name(const dg_palette *p, const char *name);
