// A growable JSON text builder used by the world's scene, caption and index writers.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "dg_world.h"

typedef struct dg_json {
  char *s;
  size_t len, cap;
  bool failed; // out of memory: dg_json_finish returns NULL
} dg_json;

void dg_json_init(dg_json *j);
void dg_json_add(dg_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_json_str(dg_json *j, const char *s); // a quoted, escaped string
void dg_json_style(dg_json *j, dg_world_style style);
void dg_json_captions(dg_json *j, const dg_world_caption *captions, int n);
// The text (caller frees), or NULL if memory ran out.
char *dg_json_finish(dg_json *j);
