#pragma once
#include <vulkan/vulkan.h>

#include "dg_arena.h"

struct dg_buffer {
  VkBuffer buffer;
  VkDeviceMemory memory;
  unsigned char *mapped;
  uint64_t size;
};
