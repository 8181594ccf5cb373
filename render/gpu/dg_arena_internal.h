#pragma once
#include <vulkan/vulkan.h>

#include "dg_arena.h"

struct dg_buffer {
  dg_device *device;
  VkBuffer buffer;
  VkDeviceMemory memory;
  unsigned char *mapped; // NULL when the device is staged
  uint64_t size;
  uint64_t address; // buffer device address, 0 without dg_device_info.buffer_address
};
