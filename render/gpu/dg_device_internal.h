// Internals of the device shared by the gpu/ modules only.
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <vulkan/vulkan.h>

#include "dg_device.h"

#define DG_MAX_BINDINGS 9 // bindings 0-7 storage buffers, DG_UNIFORM_BINDING (8) a uniform buffer
#define DG_PUSH_BYTES 128

typedef struct dg_kernel_table dg_kernel_table;
typedef struct dg_transfer dg_transfer;

struct dg_device {
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkPhysicalDeviceMemoryProperties memory;
  // Memory policy (dg_device_open): arena blocks come from block_memory_type and are mapped unless
  // `staged`, in which case host access copies through the staging buffer (staging_memory_type).
  bool staged;
  int block_memory_type, staging_memory_type;
  dg_transfer *transfer; // made on first staged copy
  pthread_mutex_t transfer_lock, queue_lock;
  bool memory_budget; // VK_EXT_memory_budget enabled
  atomic_uint_fast64_t block_bytes; // arena blocks allocated on this device
  uint64_t budget_cap;              // DIRIGENT_MEMORY_BUDGET_MIB: pretend the device has only this much
  VkDescriptorSetLayout set_layout; // DG_MAX_BINDINGS buffers (see above), push descriptors
  VkPipelineLayout pipeline_layout;
  VkPipelineCache pipeline_cache;
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_set;
  dg_kernel_table *kernels;
  atomic_uint_fast64_t validation_messages;
  dg_device_info info;
};

const char *dg_vk_result_name(VkResult r);
#define DG_VK(call, what)                                                                                \
  do {                                                                                                   \
    VkResult dg_vk_r_ = (call);                                                                          \
    if (dg_vk_r_ != VK_SUCCESS)                                                                          \
      return dg_fail(dg_vk_r_ == VK_ERROR_OUT_OF_DEVICE_MEMORY || dg_vk_r_ == VK_ERROR_OUT_OF_HOST_MEMORY \
                         ? DG_ERR_OOM                                                                    \
                         : DG_ERR_VULKAN,                                                                \
                     "%s failed: %s", what, dg_vk_result_name(dg_vk_r_));                                \
  } while (0)

// vkQueueSubmit under the queue's lock (streams and staging copies may run on different threads).
dg_status dg_device_submit(dg_device *d, const VkSubmitInfo *submit, VkFence fence);

dg_status dg_kernel_table_create(dg_device *device);
void dg_kernel_table_destroy(dg_device *device);
