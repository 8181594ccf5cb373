// Kernels: the embedded SPIR-V compute shaders, each specialised with its constants and built into a
// Vulkan compute pipeline (VkPipeline) on first use, cached per device, and kept across runs in
// Vulkan's pipeline cache (a file under $XDG_CACHE_HOME/dirigent/, or DIRIGENT_PIPELINE_CACHE).
// "Kernel" is this engine's word for them: "pipeline" alone means a task pipeline (render/pipelines).
#pragma once
#include <stdint.h>

#include "dg_device.h"

typedef struct dg_kernel dg_kernel;

#define DG_MAX_SPEC 8

// Returns the kernel for shader `name` (a compute-shaders/ file stem, with ".f16" appended for the
// f16 variant) specialised with constants 0..n_spec-1. Shaders declare their workgroup size through
// specialisation constants too, so the same SPIR-V serves several tile shapes.
dg_status dg_kernel_get(dg_device *device, const char *name, const uint32_t *spec, int n_spec, dg_kernel **out);

// Embedded shader lookup (generated at build time from compute-shaders/).
typedef struct dg_shader_blob {
  const char *name;
  const uint32_t *code;
  uint32_t size_bytes;
} dg_shader_blob;
const dg_shader_blob *dg_shader_find(const char *name);
