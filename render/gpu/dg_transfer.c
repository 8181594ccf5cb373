#include "dg_transfer.h"

#include <stdlib.h>
#include <string.h>

#define STAGING_BYTES (8ull << 20)

struct dg_transfer {
  VkBuffer buffer;
  VkDeviceMemory memory;
  unsigned char *mapped;
  VkCommandPool pool;
  VkCommandBuffer cb;
  VkFence fence;
};

void dg_transfer_destroy(dg_device *d) {
  dg_transfer *t = d->transfer;
  if (!t) return;
  if (t->fence) vkDestroyFence(d->device, t->fence, NULL);
  if (t->pool) vkDestroyCommandPool(d->device, t->pool, NULL);
  if (t->buffer) vkDestroyBuffer(d->device, t->buffer, NULL);
  if (t->memory) vkFreeMemory(d->device, t->memory, NULL);
  free(t);
  d->transfer = NULL;
}

static dg_status create(dg_device *d) {
  dg_transfer *t = calloc(1, sizeof *t);
  if (!t) return dg_fail(DG_ERR_OOM, "out of host memory");
  d->transfer = t;
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = STAGING_BYTES,
                           .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  DG_VK(vkCreateBuffer(d->device, &bi, NULL, &t->buffer), "creating the staging buffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(d->device, t->buffer, &req);
  if (!(req.memoryTypeBits & (1u << d->staging_memory_type)))
    return dg_fail(DG_ERR_UNSUPPORTED, "device %s: the staging buffer cannot use memory type %d", d->info.name,
                   d->staging_memory_type);
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = (uint32_t)d->staging_memory_type};
  DG_VK(vkAllocateMemory(d->device, &ai, NULL, &t->memory), "allocating 8 MiB of staging memory");
  DG_VK(vkBindBufferMemory(d->device, t->buffer, t->memory, 0), "binding the staging buffer");
  DG_VK(vkMapMemory(d->device, t->memory, 0, VK_WHOLE_SIZE, 0, (void **)&t->mapped), "mapping the staging buffer");
  VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                .queueFamilyIndex = d->queue_family};
  DG_VK(vkCreateCommandPool(d->device, &pi, NULL, &t->pool), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = t->pool,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                    .commandBufferCount = 1};
  DG_VK(vkAllocateCommandBuffers(d->device, &ci, &t->cb), "vkAllocateCommandBuffers");
  VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  DG_VK(vkCreateFence(d->device, &fi, NULL, &t->fence), "vkCreateFence");
  return DG_OK;
}

// Records one copy between a device buffer and the staging buffer, with barriers against the compute
// work before and after it on the queue, submits it and waits.
static dg_status copy_chunk(dg_device *d, VkBuffer from, uint64_t from_offset, VkBuffer to, uint64_t to_offset,
                            uint64_t bytes) {
  dg_transfer *t = d->transfer;
  DG_VK(vkResetCommandBuffer(t->cb, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  DG_VK(vkBeginCommandBuffer(t->cb, &bi), "vkBeginCommandBuffer");
  VkMemoryBarrier before = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                            .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
  vkCmdPipelineBarrier(t->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
  VkBufferCopy region = {.srcOffset = from_offset, .dstOffset = to_offset, .size = bytes};
  vkCmdCopyBuffer(t->cb, from, to, 1, &region);
  VkMemoryBarrier after = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                            VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(t->cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &after, 0, NULL, 0,
                       NULL);
  DG_VK(vkEndCommandBuffer(t->cb), "vkEndCommandBuffer");
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &t->cb};
  DG_TRY(dg_device_submit(d, &si, t->fence));
  DG_VK(vkWaitForFences(d->device, 1, &t->fence, VK_TRUE, UINT64_MAX), "waiting for a staging copy");
  DG_VK(vkResetFences(d->device, 1, &t->fence), "vkResetFences");
  return DG_OK;
}

static dg_status transfer(dg_device *d, const dg_buffer *buf, uint64_t offset, unsigned char *host, uint64_t bytes,
                          bool upload) {
  if (offset + bytes > buf->size)
    return dg_fail(DG_ERR_ARG, "copy of %llu bytes at %llu passes the end of a %llu-byte buffer",
                   (unsigned long long)bytes, (unsigned long long)offset, (unsigned long long)buf->size);
  pthread_mutex_lock(&d->transfer_lock);
  dg_status s = d->transfer ? DG_OK : create(d);
  if (s != DG_OK) dg_transfer_destroy(d);
  for (uint64_t done = 0; s == DG_OK && done < bytes; done += STAGING_BYTES) {
    uint64_t n = bytes - done < STAGING_BYTES ? bytes - done : STAGING_BYTES;
    if (upload) {
      memcpy(d->transfer->mapped, host + done, n);
      s = copy_chunk(d, d->transfer->buffer, 0, buf->buffer, offset + done, n);
    } else {
      s = copy_chunk(d, buf->buffer, offset + done, d->transfer->buffer, 0, n);
      if (s == DG_OK) memcpy(host + done, d->transfer->mapped, n);
    }
  }
  pthread_mutex_unlock(&d->transfer_lock);
  return s;
}

dg_status dg_transfer_upload(dg_device *d, const dg_buffer *dst, uint64_t offset, const void *src, uint64_t bytes) {
  return transfer(d, dst, offset, (unsigned char *)(uintptr_t)src, bytes, true);
}

dg_status dg_transfer_download(dg_device *d, const dg_buffer *src, uint64_t offset, void *dst, uint64_t bytes) {
  return transfer(d, src, offset, dst, bytes, false);
}
