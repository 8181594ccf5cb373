#pragma once
#include <vulkan/vulkan.h>

#include "dg_kernel.h"

// A kernel is its shader, its constants and the Vulkan compute pipeline built from them.
struct dg_kernel {
  const dg_shader_blob *blob;
  uint32_t spec[DG_MAX_SPEC];
  int n_spec;
  VkPipeline pipeline;
};
