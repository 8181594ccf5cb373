#pragma once
#include <stddef.h>
#include <vulkan/vulkan.h>

#include "dg_kernel.h"

// A kernel is its shader, its constants and the Vulkan compute pipeline built from them.
struct dg_kernel {
  const dg_shader_blob *blob;
  uint32_t spec[DG_MAX_SPEC];
  int n_spec;
  VkPipeline pipeline;
};

// Cache files under our own header (magic, version, size, FNV-1a hash), so a truncated or corrupt file
// reads as absent: the pipeline cache, and VkFFT's compiled shaders (dg_fft). dg_cache_path is the
// pipeline cache's path ("" when caching is off); other caches are named after it.
const char *dg_cache_path(const dg_device *d);
void *dg_cache_file_read(const char *path, size_t *size); // malloc'd, or NULL
void dg_cache_file_write(const char *path, const void *data, size_t size); // atomic; failures ignored
