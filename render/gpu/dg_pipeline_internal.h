#pragma once
#include <vulkan/vulkan.h>

#include "dg_pipeline.h"

struct dg_pipeline {
  const dg_shader_blob *blob;
  uint32_t spec[DG_MAX_SPEC];
  int n_spec;
  VkPipeline pipeline;
};
