#include "dg_arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dg_arena_internal.h"
#include "dg_device_internal.h"
#include "dg_memory.h"
#include "dg_transfer.h"

typedef struct block {
  dg_buffer buf;
  uint64_t used;
} block;

struct dg_arena {
  dg_device *device;
  uint64_t block_bytes;
  block **blocks; // heap-allocated so the dg_buffer pointers in ranges stay valid
  int count, capacity;
  int current; // index of the block being filled
};

// DG_ERR_OOM (or DG_ERR_VULKAN for other results) naming the size, the device and, under an
// address-space limit, the limit.
static dg_status block_failure(const dg_device *d, const char *what, uint64_t size, const char *why, VkResult r) {
  char note[160] = "";
  bool oom = r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_MEMORY_MAP_FAILED;
  return dg_fail(oom ? DG_ERR_OOM : DG_ERR_VULKAN,
                 "%s %.1f MiB of device memory on %s failed: %s (this process holds %.1f MiB of it, %.1f MiB left "
                 "of a %.1f MiB heap%s)%s",
                 what, (double)size / 1048576.0, d->info.name, why ? why : dg_vk_result_name(r),
                 (double)atomic_load(&d->block_bytes) / 1048576.0, (double)dg_device_memory_budget(d) / 1048576.0,
                 (double)d->info.block_heap_bytes / 1048576.0,
                 d->budget_cap ? ", capped by DIRIGENT_MEMORY_BUDGET_MIB" : "", dg_memory_limit_note(note, sizeof note));
}

static dg_status create_block(dg_arena *a, uint64_t size, block *out) {
  dg_device *d = a->device;
  *out = (block){0};
  // A CPU driver maps device memory into the process: under an address-space limit that cannot hold
  // the block and leave the driver room to work, fail here rather than in the driver.
  if (!strcmp(d->info.type, "cpu") && size + DG_MEMORY_CPU_DRIVER_MARGIN > dg_memory_address_space_left())
    return block_failure(d, "allocating", size, "too little address space would be left to the driver",
                         VK_ERROR_OUT_OF_HOST_MEMORY);
  if (size > dg_device_memory_budget(d))
    return block_failure(d, "allocating", size, "the device's memory budget is spent", VK_ERROR_OUT_OF_DEVICE_MEMORY);
  bool address = d->info.buffer_address;
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = size,
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                    (address ? VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0),
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  VkResult r = vkCreateBuffer(d->device, &bi, NULL, &out->buf.buffer);
  if (r != VK_SUCCESS) return block_failure(d, "creating a buffer of", size, NULL, r);
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(d->device, out->buf.buffer, &req);
  if (!(req.memoryTypeBits & (1u << d->block_memory_type))) {
    vkDestroyBuffer(d->device, out->buf.buffer, NULL);
    return dg_fail(DG_ERR_UNSUPPORTED, "device %s: storage buffers cannot use memory type %d", d->info.name,
                   d->block_memory_type);
  }
  VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                   .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .pNext = address ? &fi : NULL,
                             .allocationSize = req.size,
                             .memoryTypeIndex = (uint32_t)d->block_memory_type};
  r = vkAllocateMemory(d->device, &ai, NULL, &out->buf.memory);
  if (r == VK_SUCCESS) r = vkBindBufferMemory(d->device, out->buf.buffer, out->buf.memory, 0);
  if (r == VK_SUCCESS && !d->staged)
    r = vkMapMemory(d->device, out->buf.memory, 0, VK_WHOLE_SIZE, 0, (void **)&out->buf.mapped);
  // lavapipe (Mesa 25.0) reports success with MAP_FAILED when its mmap fails, as under `ulimit -v`;
  // its worker threads would then write through that pointer.
  if (r == VK_SUCCESS && !d->staged && (!out->buf.mapped || out->buf.mapped == (unsigned char *)MAP_FAILED))
    r = VK_ERROR_MEMORY_MAP_FAILED;
  if (r != VK_SUCCESS) {
    if (out->buf.memory) vkFreeMemory(d->device, out->buf.memory, NULL);
    vkDestroyBuffer(d->device, out->buf.buffer, NULL);
    return block_failure(d, "allocating", size, r == VK_ERROR_MEMORY_MAP_FAILED ? "it could not be mapped" : NULL, r);
  }
  out->buf.size = size;
  out->buf.device = d;
  if (address) {
    VkBufferDeviceAddressInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
                                      .buffer = out->buf.buffer};
    out->buf.address = vkGetBufferDeviceAddress(d->device, &info);
  }
  atomic_fetch_add(&d->block_bytes, size);
  return DG_OK;
}

dg_status dg_arena_create(dg_device *device, uint64_t block_bytes, dg_arena **out) {
  dg_arena *a = calloc(1, sizeof *a);
  if (!a) return dg_fail(DG_ERR_OOM, "out of host memory");
  a->device = device;
  a->block_bytes = block_bytes ? block_bytes : 64ull << 20;
  *out = a;
  return DG_OK;
}

void dg_arena_destroy(dg_arena *a) {
  if (!a) return;
  for (int i = 0; i < a->count; i++) {
    vkDestroyBuffer(a->device->device, a->blocks[i]->buf.buffer, NULL);
    vkFreeMemory(a->device->device, a->blocks[i]->buf.memory, NULL);
    atomic_fetch_sub(&a->device->block_bytes, a->blocks[i]->buf.size);
    free(a->blocks[i]);
  }
  free(a->blocks);
  free(a);
}

dg_status dg_arena_alloc(dg_arena *a, uint64_t bytes, dg_range *out) {
  uint64_t size = (bytes + DG_ARENA_ALIGN - 1) / DG_ARENA_ALIGN * DG_ARENA_ALIGN;
  if (size == 0) size = DG_ARENA_ALIGN;
  // First fit among the current and later (released) blocks.
  for (int i = a->current; i < a->count; i++) {
    block *b = a->blocks[i];
    if (b->used + size <= b->buf.size) {
      *out = (dg_range){&b->buf, b->used, bytes};
      b->used += size;
      a->current = i;
      return DG_OK;
    }
  }
  if (a->count == a->capacity) {
    int cap = a->capacity ? 2 * a->capacity : 8;
    block **blocks = realloc(a->blocks, (size_t)cap * sizeof *blocks);
    if (!blocks) return dg_fail(DG_ERR_OOM, "out of host memory");
    a->blocks = blocks;
    a->capacity = cap;
  }
  block *nb = malloc(sizeof *nb);
  if (!nb) return dg_fail(DG_ERR_OOM, "out of host memory");
  // A device with less memory left than a whole block gets a block of what is left (at least `size`).
  uint64_t want = size > a->block_bytes ? size : a->block_bytes, left = dg_device_memory_budget(a->device) / DG_ARENA_ALIGN * DG_ARENA_ALIGN;
  if (want > left) want = left >= size ? left : size;
  dg_status s = create_block(a, want, nb);
  if (s != DG_OK) {
    free(nb);
    return s;
  }
  // Appended last and made current: later allocations never go into earlier blocks, so
  // release-to-mark keeps stack order.
  a->blocks[a->count] = nb;
  a->current = a->count++;
  *out = (dg_range){&nb->buf, 0, bytes};
  nb->used = size;
  return DG_OK;
}

dg_arena_mark dg_arena_get_mark(const dg_arena *a) {
  return (dg_arena_mark){a->current, a->count ? a->blocks[a->current]->used : 0};
}

void dg_arena_release(dg_arena *a, dg_arena_mark m) {
  if (!a->count) return;
  for (int i = m.block + 1; i < a->count; i++) a->blocks[i]->used = 0;
  a->blocks[m.block]->used = m.offset;
  a->current = m.block;
}

uint64_t dg_arena_bytes_in_use(const dg_arena *a) {
  uint64_t n = 0;
  for (int i = 0; i < a->count; i++) n += a->blocks[i]->used;
  return n;
}

dg_device *dg_arena_device(const dg_arena *a) { return a->device; }

void *dg_range_map(dg_range r) { return r.buffer->mapped ? r.buffer->mapped + r.offset : NULL; }

uint64_t dg_range_address(dg_range r) { return r.buffer->address ? r.buffer->address + r.offset : 0; }

static dg_status check_span(dg_range r, uint64_t offset, uint64_t bytes, const char *what) {
  if (offset > r.size || bytes > r.size - offset)
    return dg_fail(DG_ERR_ARG, "%s of %llu bytes at offset %llu passes the end of a %llu-byte range", what,
                   (unsigned long long)bytes, (unsigned long long)offset, (unsigned long long)r.size);
  return DG_OK;
}

dg_status dg_range_write(dg_range r, uint64_t offset, const void *src, uint64_t bytes) {
  DG_TRY(check_span(r, offset, bytes, "write"));
  if (!bytes) return DG_OK;
  if (r.buffer->mapped) {
    memcpy(r.buffer->mapped + r.offset + offset, src, bytes);
    return DG_OK;
  }
  return dg_transfer_upload(r.buffer->device, r.buffer, r.offset + offset, src, bytes);
}

dg_status dg_range_read(dg_range r, uint64_t offset, void *dst, uint64_t bytes) {
  DG_TRY(check_span(r, offset, bytes, "read"));
  if (!bytes) return DG_OK;
  if (r.buffer->mapped) {
    memcpy(dst, r.buffer->mapped + r.offset + offset, bytes);
    return DG_OK;
  }
  return dg_transfer_download(r.buffer->device, r.buffer, r.offset + offset, dst, bytes);
}

dg_status dg_range_produce(dg_range r, size_t bytes, dg_range_producer produce, void *ctx) {
  DG_TRY(check_span(r, 0, bytes, "write"));
  if (r.buffer->mapped) return produce(ctx, r.buffer->mapped + r.offset, bytes);
  void *host = malloc(bytes ? bytes : 1);
  if (!host) return dg_fail(DG_ERR_OOM, "out of host memory staging %zu bytes", bytes);
  dg_status s = produce(ctx, host, bytes);
  if (s == DG_OK) s = dg_range_write(r, 0, host, bytes);
  free(host);
  return s;
}
