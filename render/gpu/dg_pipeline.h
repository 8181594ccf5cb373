// Compute pipelines for the embedded SPIR-V shaders, created lazily and cached per device.
#pragma once
#include <stdint.h>

#include "dg_device.h"

typedef struct dg_pipeline dg_pipeline;

#define DG_MAX_SPEC 8

// Returns the pipeline for shader `name` (a compute-shaders/ file stem, with ".f16" appended for the
// f16 variant) specialised with constants 0..n_spec-1. Shaders declare their workgroup size through
// specialisation constants too, so the same SPIR-V serves several tile shapes.
dg_status dg_pipeline_get(dg_device *device, const char *name, const uint32_t *spec, int n_spec, dg_pipeline **out);

// Embedded shader lookup (generated at build time from compute-shaders/).
typedef struct dg_shader_blob {
  const char *name;
  const uint32_t *code;
  uint32_t size_bytes;
} dg_shader_blob;
const dg_shader_blob *dg_shader_find(const char *name);
