// The one Vulkan device context: instance, physical device choice, queue, shared pipeline layout.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

typedef struct dg_device dg_device;

typedef struct dg_device_options {
  // Device choice: a decimal index into the physical-device list, or a case-insensitive substring
  // of the device name. NULL reads the DIRIGENT_DEVICE environment variable; unset picks the best
  // (discrete > integrated > virtual > CPU).
  const char *select;
  // Enable VK_LAYER_KHRONOS_validation and count its messages. Also on when DIRIGENT_VALIDATION=1.
  bool validation;
  // Record GPU timestamps per dispatch (profiling). Also on when DIRIGENT_PROFILE=1.
  bool timestamps;
  // Largest storage-buffer binding ops may use; 0 means the device's maxStorageBufferRange. Tests
  // lower it to exercise the code that splits big tensors. Also read from DIRIGENT_MAX_BINDING.
  uint64_t max_binding_bytes;
  // Keep every arena block unmapped and copy through a staging buffer, as on a discrete GPU without
  // host-visible video memory, whatever the device offers (so lavapipe exercises that path). Also on
  // when DIRIGENT_STAGING=1.
  bool staging;
} dg_device_options;

// The one uniform-buffer binding of every kernel (see dg_stream_dispatch): on lavapipe a uniform buffer's
// per-lane loads are branch-free gathers, where a storage buffer's are a lane-by-lane loop with a bounds
// check and a branch per component.
#define DG_UNIFORM_BINDING 8

typedef struct dg_device_info {
  char name[256];
  char driver[520];
  uint32_t api_version, vendor_id, device_id;
  const char *type; // "discrete", "integrated", "virtual", "cpu", "other"
  uint64_t max_binding_bytes;   // effective limit ops respect (<= device maxStorageBufferRange)
  uint64_t max_storage_buffer_range;
  uint32_t min_storage_offset_alignment;
  uint64_t max_uniform_bytes; // maxUniformBufferRange: the most binding DG_UNIFORM_BINDING may cover
  uint32_t min_uniform_offset_alignment;
  uint32_t max_push_constants;
  uint32_t max_workgroup_invocations;
  uint32_t max_workgroup_count[3];
  uint32_t max_shared_memory;
  uint32_t subgroup_size;
  bool fp16_storage, fp16_arithmetic;
  // Shaders may read and write arena memory through buffer device addresses (dg_range_address)
  // and use 64-bit integers (bufferDeviceAddress and shaderInt64 enabled). On lavapipe such
  // accesses skip the per-lane bounds checks of storage buffers (docs/lavapipe-performance.md).
  bool buffer_address;
  bool timestamps; // timestamps enabled and supported
  float timestamp_period_ns;
  uint64_t device_local_bytes;
  // "mapped": arena blocks are host-visible device memory (CPU drivers, integrated GPUs, resizable
  // BAR); "staged": device-local blocks, host access through staging copies.
  const char *memory_path;
  uint64_t block_heap_bytes; // size of the heap the arena's blocks come from
} dg_device_info;

dg_status dg_device_open(const dg_device_options *options, dg_device **out);
void dg_device_close(dg_device *device);
const dg_device_info *dg_device_get_info(const dg_device *device);
// Number of validation-layer warnings and errors seen so far (0 when validation is off).
uint64_t dg_device_validation_messages(const dg_device *device);
// Bytes the arena's heap has left for this process (VK_EXT_memory_budget when the device has it,
// else the heap size less what this process's arenas hold), for reports and fit checks.
uint64_t dg_device_memory_budget(const dg_device *device);
// Writes one line per physical device ("index: name (type, driver)") into buf; returns the count.
int dg_device_list(char *buf, size_t size);
