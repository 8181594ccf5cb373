// Device memory for one job: large blocks, each one VkBuffer, suballocated with a bump pointer.
// Blocks are mapped once where the device's memory policy allows (dg_device_info.memory_path), so
// uploads and downloads are plain copies; otherwise they go through staging copies. Either way the
// stream that used a range must have finished.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_device.h"

typedef struct dg_arena dg_arena;
typedef struct dg_buffer dg_buffer;

// A byte range inside one block.
typedef struct dg_range {
  dg_buffer *buffer;
  uint64_t offset, size;
} dg_range;

typedef struct dg_arena_mark {
  int block;
  uint64_t offset;
} dg_arena_mark;

#define DG_ARENA_ALIGN 256u

// block_bytes: size of each block (0 = 64 MiB); a larger allocation gets a block of its own size.
dg_status dg_arena_create(dg_device *device, uint64_t block_bytes, dg_arena **out);
void dg_arena_destroy(dg_arena *arena);
dg_status dg_arena_alloc(dg_arena *arena, uint64_t bytes, dg_range *out);
// Stack discipline for temporaries: everything allocated after `mark` is released (blocks are kept).
dg_arena_mark dg_arena_get_mark(const dg_arena *arena);
void dg_arena_release(dg_arena *arena, dg_arena_mark mark);
uint64_t dg_arena_bytes_in_use(const dg_arena *arena);
dg_device *dg_arena_device(const dg_arena *arena);

// Host pointer to the start of a range when its block is mapped, else NULL (staged memory).
void *dg_range_map(dg_range range);
// Buffer device address of the start of a range, 0 unless dg_device_info.buffer_address.
uint64_t dg_range_address(dg_range range);
// An address as a shader's uvec2 push constant (low word first).
static inline void dg_address_words(uint64_t address, uint32_t out[2]) {
  out[0] = (uint32_t)address;
  out[1] = (uint32_t)(address >> 32);
}
// Host copies into and out of a range, mapped or staged.
dg_status dg_range_write(dg_range range, uint64_t offset, const void *src, uint64_t bytes);
dg_status dg_range_read(dg_range range, uint64_t offset, void *dst, uint64_t bytes);
// Lets `produce` write the range's first `bytes` bytes: in place when mapped, else into a host buffer
// that is then uploaded (loaders that convert while they read).
typedef dg_status (*dg_range_producer)(void *ctx, void *dst, size_t bytes);
dg_status dg_range_produce(dg_range range, size_t bytes, dg_range_producer produce, void *ctx);
