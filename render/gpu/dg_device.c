#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_device_internal.h"
#include "dg_memory.h"
#include "dg_transfer.h"

const char *dg_vk_result_name(VkResult r) {
  switch (r) {
  case VK_SUCCESS: return "VK_SUCCESS";
  case VK_NOT_READY: return "VK_NOT_READY";
  case VK_TIMEOUT: return "VK_TIMEOUT";
  case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
  case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
  case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
  case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
  case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
  case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
  case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
  case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
  case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
  case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
  case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
  default: return "VkResult (other)";
  }
}

static bool env_flag(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                            VkDebugUtilsMessageTypeFlagsEXT types,
                                                            const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                            void *user) {
  (void)types;
  dg_device *device = user;
  if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
    atomic_fetch_add(&device->validation_messages, 1);
    fprintf(stderr, "vulkan validation: %s\n", data->pMessage);
  }
  return VK_FALSE;
}

static bool layer_available(const char *name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, NULL);
  VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
  if (!layers) return false;
  vkEnumerateInstanceLayerProperties(&n, layers);
  bool found = false;
  for (uint32_t i = 0; i < n; i++) found |= strcmp(layers[i].layerName, name) == 0;
  free(layers);
  return found;
}

static dg_status create_instance(dg_device *d, bool validation) {
  const char *layer = "VK_LAYER_KHRONOS_validation";
  if (validation && !layer_available(layer))
    return dg_fail(DG_ERR_VULKAN, "validation requested but %s is not installed (Debian: vulkan-validationlayers)",
                   layer);
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "dirigent",
                           .pEngineName = "dirigent",
                           .apiVersion = VK_API_VERSION_1_2};
  const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pApplicationInfo = &app,
                             .enabledLayerCount = validation ? 1 : 0,
                             .ppEnabledLayerNames = &layer,
                             .enabledExtensionCount = validation ? 1 : 0,
                             .ppEnabledExtensionNames = extensions};
  VkResult r = vkCreateInstance(&ci, NULL, &d->instance);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
    return dg_fail(DG_ERR_VULKAN,
                   "no Vulkan driver found (%s). Install a Vulkan 1.2 driver, e.g. Debian's mesa-vulkan-drivers "
                   "for the lavapipe CPU device",
                   dg_vk_result_name(r));
  DG_VK(r, "vkCreateInstance");
  if (validation) {
    PFN_vkCreateDebugUtilsMessengerEXT create =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(d->instance, "vkCreateDebugUtilsMessengerEXT");
    VkDebugUtilsMessengerCreateInfoEXT mi = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = d};
    if (create) DG_VK(create(d->instance, &mi, NULL, &d->messenger), "vkCreateDebugUtilsMessengerEXT");
  }
  return DG_OK;
}

static const char *type_name(VkPhysicalDeviceType t) {
  switch (t) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
  default: return "other";
  }
}

static int type_score(VkPhysicalDeviceType t) {
  switch (t) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
  default: return 0;
  }
}

static bool contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
    if (i == n) return true;
  }
  return n == 0;
}

static bool has_extension(VkPhysicalDevice pd, const char *name) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
  VkExtensionProperties *ext = calloc(n ? n : 1, sizeof *ext);
  if (!ext) return false;
  vkEnumerateDeviceExtensionProperties(pd, NULL, &n, ext);
  bool found = false;
  for (uint32_t i = 0; i < n; i++) found |= strcmp(ext[i].extensionName, name) == 0;
  free(ext);
  return found;
}

static dg_status pick_physical(dg_device *d, const char *select) {
  uint32_t n = 0;
  DG_VK(vkEnumeratePhysicalDevices(d->instance, &n, NULL), "vkEnumeratePhysicalDevices");
  if (n == 0)
    return dg_fail(DG_ERR_VULKAN, "no Vulkan device found. Install a Vulkan 1.2 driver, e.g. Debian's "
                                  "mesa-vulkan-drivers for the lavapipe CPU device");
  VkPhysicalDevice devices[16];
  if (n > 16) n = 16;
  vkEnumeratePhysicalDevices(d->instance, &n, devices);
  int best = -1, best_score = -1;
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(devices[i], &p);
    bool usable = p.apiVersion >= VK_API_VERSION_1_2 && has_extension(devices[i], "VK_KHR_push_descriptor");
    if (select && *select) {
      char *end;
      long index = strtol(select, &end, 10);
      bool match = *end == '\0' ? index == (long)i : contains_nocase(p.deviceName, select);
      if (match) {
        if (!usable)
          return dg_fail(DG_ERR_UNSUPPORTED, "device '%s' (selected by '%s') lacks Vulkan 1.2 or VK_KHR_push_descriptor",
                         p.deviceName, select);
        best = (int)i;
        break;
      }
    } else if (usable && type_score(p.deviceType) > best_score) {
      best = (int)i;
      best_score = type_score(p.deviceType);
    }
  }
  if (best < 0)
    return select && *select ? dg_fail(DG_ERR_ARG, "no Vulkan device matches DIRIGENT_DEVICE='%s'", select)
                             : dg_fail(DG_ERR_UNSUPPORTED, "no Vulkan device with Vulkan 1.2 and VK_KHR_push_descriptor");
  d->physical = devices[best];
  return DG_OK;
}

static void fill_info(dg_device *d, uint64_t max_binding, bool timestamps) {
  VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                                 .pNext = &driver};
  VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &subgroup};
  vkGetPhysicalDeviceProperties2(d->physical, &props);
  const VkPhysicalDeviceLimits *l = &props.properties.limits;
  dg_device_info *info = &d->info;
  snprintf(info->name, sizeof info->name, "%s", props.properties.deviceName);
  snprintf(info->driver, sizeof info->driver, "%s %s", driver.driverName, driver.driverInfo);
  info->api_version = props.properties.apiVersion;
  info->vendor_id = props.properties.vendorID;
  info->device_id = props.properties.deviceID;
  info->type = type_name(props.properties.deviceType);
  info->max_storage_buffer_range = l->maxStorageBufferRange;
  info->max_binding_bytes = l->maxStorageBufferRange;
  if (max_binding && max_binding < info->max_binding_bytes) info->max_binding_bytes = max_binding;
  info->min_storage_offset_alignment = (uint32_t)l->minStorageBufferOffsetAlignment;
  info->max_uniform_bytes = l->maxUniformBufferRange;
  info->min_uniform_offset_alignment = (uint32_t)l->minUniformBufferOffsetAlignment;
  info->max_push_constants = l->maxPushConstantsSize;
  info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
  memcpy(info->max_workgroup_count, l->maxComputeWorkGroupCount, sizeof info->max_workgroup_count);
  info->max_shared_memory = l->maxComputeSharedMemorySize;
  info->subgroup_size = subgroup.subgroupSize;
  info->timestamp_period_ns = l->timestampPeriod;
  info->timestamps = timestamps && l->timestampComputeAndGraphics;
  vkGetPhysicalDeviceMemoryProperties(d->physical, &d->memory);
  for (uint32_t i = 0; i < d->memory.memoryHeapCount; i++)
    if (d->memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      info->device_local_bytes += d->memory.memoryHeaps[i].size;
}

static int memory_type(const dg_device *d, VkMemoryPropertyFlags want, VkMemoryPropertyFlags prefer) {
  int found = -1;
  for (uint32_t i = 0; i < d->memory.memoryTypeCount; i++) {
    VkMemoryPropertyFlags f = d->memory.memoryTypes[i].propertyFlags;
    if ((f & want) != want) continue;
    if ((f & prefer) == prefer) return (int)i;
    if (found < 0) found = (int)i;
  }
  return found;
}

// Where arena blocks live. Mapped device-local memory when its heap is (nearly) all of the device's
// largest device-local heap: CPU drivers, integrated GPUs and discrete GPUs with resizable BAR. A
// discrete GPU whose host-visible window is small (256 MiB without BAR) gets unmapped device-local
// blocks and staging copies, as does any device when staging is forced.
static dg_status choose_memory(dg_device *d, bool force_staging) {
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  uint64_t largest = 0;
  for (uint32_t i = 0; i < d->memory.memoryHeapCount; i++)
    if ((d->memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && d->memory.memoryHeaps[i].size > largest)
      largest = d->memory.memoryHeaps[i].size;
  int mapped_local = memory_type(d, host | local, 0);
  int staging = memory_type(d, host, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  if (staging < 0) return dg_fail(DG_ERR_UNSUPPORTED, "device %s has no host-visible coherent memory", d->info.name);
  uint64_t mapped_heap = mapped_local < 0 ? 0 : d->memory.memoryHeaps[d->memory.memoryTypes[mapped_local].heapIndex].size;
  if (!force_staging && mapped_local >= 0 && mapped_heap >= largest / 10 * 9) {
    d->block_memory_type = mapped_local;
  } else if (memory_type(d, local, 0) >= 0) {
    d->staged = true;
    d->block_memory_type = memory_type(d, local, 0);
  } else if (!force_staging) { // no device-local memory at all: plain host memory, mapped
    d->block_memory_type = staging;
  } else {
    d->staged = true;
    d->block_memory_type = staging;
  }
  d->staging_memory_type = staging;
  d->info.memory_path = d->staged ? "staged" : "mapped";
  d->info.block_heap_bytes = d->memory.memoryHeaps[d->memory.memoryTypes[d->block_memory_type].heapIndex].size;
  return DG_OK;
}

dg_status dg_device_submit(dg_device *d, const VkSubmitInfo *submit, VkFence fence) {
  pthread_mutex_lock(&d->queue_lock);
  VkResult r = vkQueueSubmit(d->queue, 1, submit, fence);
  pthread_mutex_unlock(&d->queue_lock);
  if (r != VK_SUCCESS)
    return dg_fail(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY ? DG_ERR_OOM : DG_ERR_VULKAN,
                   "vkQueueSubmit failed on %s: %s", d->info.name, dg_vk_result_name(r));
  return DG_OK;
}

uint64_t dg_device_memory_budget(const dg_device *d) {
  uint32_t heap = d->memory.memoryTypes[d->block_memory_type].heapIndex;
  uint64_t used = atomic_load(&d->block_bytes), left;
  if (d->memory_budget) {
    VkPhysicalDeviceMemoryBudgetPropertiesEXT b = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 p = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, .pNext = &b};
    vkGetPhysicalDeviceMemoryProperties2(d->physical, &p);
    left = b.heapBudget[heap] > b.heapUsage[heap] ? b.heapBudget[heap] - b.heapUsage[heap] : 0;
  } else {
    uint64_t size = d->memory.memoryHeaps[heap].size;
    left = size > used ? size - used : 0;
  }
  if (d->budget_cap) {
    uint64_t capped = d->budget_cap > used ? d->budget_cap - used : 0;
    if (capped < left) left = capped;
  }
  return left;
}

static dg_status create_logical(dg_device *d) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(d->physical, &n, NULL);
  VkQueueFamilyProperties families[32];
  if (n > 32) n = 32;
  vkGetPhysicalDeviceQueueFamilyProperties(d->physical, &n, families);
  d->queue_family = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    // Prefer a compute queue that also supports timestamps.
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) &&
        (d->queue_family == UINT32_MAX || families[i].timestampValidBits > 0))
      d->queue_family = i;
  }
  if (d->queue_family == UINT32_MAX) return dg_fail(DG_ERR_UNSUPPORTED, "device %s has no compute queue", d->info.name);
  if (families[d->queue_family].timestampValidBits == 0) d->info.timestamps = false;

  VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                          .pNext = &f11};
  VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
  vkGetPhysicalDeviceFeatures2(d->physical, &f);
  d->info.fp16_storage = f11.storageBuffer16BitAccess;
  d->info.fp16_arithmetic = f12.shaderFloat16;
  d->info.buffer_address =
      f12.bufferDeviceAddress && f.features.shaderInt64 && !getenv("DIRIGENT_NO_BUFFER_ADDRESS");

  VkPhysicalDeviceVulkan11Features e11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                          .storageBuffer16BitAccess = f11.storageBuffer16BitAccess};
  VkPhysicalDeviceVulkan12Features e12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                          .pNext = &e11,
                                          .shaderFloat16 = f12.shaderFloat16,
                                          .bufferDeviceAddress = d->info.buffer_address};
  VkPhysicalDeviceFeatures2 enable = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                      .pNext = &e12,
                                      .features = {.shaderInt64 = d->info.buffer_address}};
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = d->queue_family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &priority};
  const char *extensions[] = {"VK_KHR_push_descriptor", "VK_EXT_memory_budget"};
  d->memory_budget = has_extension(d->physical, "VK_EXT_memory_budget");
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = &enable,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = d->memory_budget ? 2 : 1,
                            .ppEnabledExtensionNames = extensions};
  if (!strcmp(d->info.type, "cpu")) {
    char doing[300];
    snprintf(doing, sizeof doing, "starting the CPU Vulkan driver (%.200s)", d->info.name);
    DG_TRY(dg_memory_need(doing, DG_MEMORY_CPU_DRIVER_START));
  }
  DG_VK(vkCreateDevice(d->physical, &dci, NULL, &d->device), "vkCreateDevice");
  vkGetDeviceQueue(d->device, d->queue_family, 0, &d->queue);
  d->push_descriptor_set = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(d->device, "vkCmdPushDescriptorSetKHR");
  if (!d->push_descriptor_set) return dg_fail(DG_ERR_UNSUPPORTED, "vkCmdPushDescriptorSetKHR missing");

  VkDescriptorSetLayoutBinding bindings[DG_MAX_BINDINGS];
  for (uint32_t i = 0; i < DG_MAX_BINDINGS; i++)
    bindings[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                                 .descriptorType = i == DG_UNIFORM_BINDING ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                                                                    : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                 .descriptorCount = 1,
                                                 .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo sli = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                         .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
                                         .bindingCount = DG_MAX_BINDINGS,
                                         .pBindings = bindings};
  DG_VK(vkCreateDescriptorSetLayout(d->device, &sli, NULL, &d->set_layout), "vkCreateDescriptorSetLayout");
  VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = DG_PUSH_BYTES};
  VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                    .setLayoutCount = 1,
                                    .pSetLayouts = &d->set_layout,
                                    .pushConstantRangeCount = 1,
                                    .pPushConstantRanges = &range};
  DG_VK(vkCreatePipelineLayout(d->device, &pli, NULL, &d->pipeline_layout), "vkCreatePipelineLayout");
  return DG_OK;
}

dg_status dg_device_open(const dg_device_options *options, dg_device **out) {
  *out = NULL;
  dg_device_options o = options ? *options : (dg_device_options){0};
  if (!o.select) o.select = getenv("DIRIGENT_DEVICE");
  o.validation |= env_flag("DIRIGENT_VALIDATION");
  o.timestamps |= env_flag("DIRIGENT_PROFILE");
  if (!o.max_binding_bytes && getenv("DIRIGENT_MAX_BINDING"))
    o.max_binding_bytes = strtoull(getenv("DIRIGENT_MAX_BINDING"), NULL, 10);
  o.staging |= env_flag("DIRIGENT_STAGING");
  const char *cap = getenv("DIRIGENT_MEMORY_BUDGET_MIB");
  dg_device *d = calloc(1, sizeof *d);
  if (!d) return dg_fail(DG_ERR_OOM, "out of host memory opening the device");
  pthread_mutex_init(&d->queue_lock, NULL);
  pthread_mutex_init(&d->transfer_lock, NULL);
  if (cap && *cap) d->budget_cap = strtoull(cap, NULL, 10) << 20;
  dg_status s = create_instance(d, o.validation);
  if (s == DG_OK) s = pick_physical(d, o.select);
  if (s == DG_OK) {
    fill_info(d, o.max_binding_bytes, o.timestamps);
    s = choose_memory(d, o.staging);
  }
  if (s == DG_OK) {
    s = create_logical(d);
  }
  if (s == DG_OK) s = dg_kernel_table_create(d);
  if (s != DG_OK) {
    dg_device_close(d);
    return s;
  }
  *out = d;
  return DG_OK;
}

void dg_device_close(dg_device *d) {
  if (!d) return;
  if (d->device) {
    vkDeviceWaitIdle(d->device);
    dg_transfer_destroy(d);
    dg_kernel_table_destroy(d);
    if (d->pipeline_layout) vkDestroyPipelineLayout(d->device, d->pipeline_layout, NULL);
    if (d->set_layout) vkDestroyDescriptorSetLayout(d->device, d->set_layout, NULL);
    vkDestroyDevice(d->device, NULL);
  }
  if (d->messenger) {
    PFN_vkDestroyDebugUtilsMessengerEXT destroy =
        (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(d->instance, "vkDestroyDebugUtilsMessengerEXT");
    if (destroy) destroy(d->instance, d->messenger, NULL);
  }
  if (d->instance) vkDestroyInstance(d->instance, NULL);
  pthread_mutex_destroy(&d->queue_lock);
  pthread_mutex_destroy(&d->transfer_lock);
  free(d);
}

const dg_device_info *dg_device_get_info(const dg_device *d) { return &d->info; }

uint64_t dg_device_validation_messages(const dg_device *d) { return atomic_load(&d->validation_messages); }

int dg_device_list(char *buf, size_t size) {
  if (size) buf[0] = '\0';
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
  VkInstance instance;
  if (vkCreateInstance(&ci, NULL, &instance) != VK_SUCCESS) return 0;
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(instance, &n, NULL);
  VkPhysicalDevice devices[16];
  if (n > 16) n = 16;
  vkEnumeratePhysicalDevices(instance, &n, devices);
  size_t used = 0;
  for (uint32_t i = 0; i < n && used < size; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(devices[i], &p);
    used += (size_t)snprintf(buf + used, size - used, "%u: %s (%s, Vulkan %u.%u)\n", i, p.deviceName,
                             type_name(p.deviceType), VK_API_VERSION_MAJOR(p.apiVersion),
                             VK_API_VERSION_MINOR(p.apiVersion));
  }
  vkDestroyInstance(instance, NULL);
  return (int)n;
}
