// Copies between the host and device memory that is not mapped (device-local blocks of a discrete
// GPU, or any block when staging is forced): through one host-visible staging buffer per device, a
// chunk at a time, each chunk a copy command submitted on the device's queue and waited for.
// Internal to render/gpu; everything above goes through dg_range_write/dg_range_read.
#pragma once
#include <stdint.h>

#include "dg_arena_internal.h"
#include "dg_device_internal.h"

dg_status dg_transfer_upload(dg_device *d, const dg_buffer *dst, uint64_t offset, const void *src, uint64_t bytes);
dg_status dg_transfer_download(dg_device *d, const dg_buffer *src, uint64_t offset, void *dst, uint64_t bytes);
// Frees the staging buffer and its command buffer (device close).
void dg_transfer_destroy(dg_device *d);
