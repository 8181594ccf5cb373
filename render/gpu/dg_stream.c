#include "dg_stream.h"

#include <stdlib.h>
#include <string.h>

#include "dg_arena_internal.h"
#include "dg_device_internal.h"
#include "dg_kernel_internal.h"

#define SLOTS 2
#define MAX_HAZARDS 128
#define MAX_PROFILE 256

typedef struct slot {
  VkCommandBuffer cb;
  VkFence fence;
  VkQueryPool queries;
  const char **labels; // label per recorded dispatch (profiling)
  int recorded;        // dispatches recorded
  bool open, in_flight;
} slot;

typedef struct hazard {
  const dg_buffer *buffer;
  uint64_t begin, end;
  bool write;
} hazard;

struct dg_stream {
  dg_device *device;
  VkCommandPool pool;
  slot slots[SLOTS];
  int current, batch;
  const atomic_bool *cancel;
  bool cancelled;
  hazard hazards[MAX_HAZARDS];
  int n_hazards;
  dg_profile_entry profile[MAX_PROFILE];
  int n_profile;
  uint64_t dispatches, barriers;
  dg_arena *work; // dg_stream_workspace's memory, made on first use
};

dg_device *dg_stream_device(const dg_stream *s) { return s->device; }

dg_status dg_stream_create(dg_device *d, int batch, dg_stream **out) {
  *out = NULL;
  dg_stream *s = calloc(1, sizeof *s);
  if (!s) return dg_fail(DG_ERR_OOM, "out of host memory");
  s->device = d;
  s->batch = batch > 0 ? batch : 128;
  dg_status st = DG_OK;
  VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                .queueFamilyIndex = d->queue_family};
  if (vkCreateCommandPool(d->device, &pi, NULL, &s->pool) != VK_SUCCESS)
    st = dg_fail(DG_ERR_VULKAN, "vkCreateCommandPool failed");
  for (int i = 0; st == DG_OK && i < SLOTS; i++) {
    slot *sl = &s->slots[i];
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = s->pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (vkAllocateCommandBuffers(d->device, &ai, &sl->cb) != VK_SUCCESS ||
        vkCreateFence(d->device, &fi, NULL, &sl->fence) != VK_SUCCESS)
      st = dg_fail(DG_ERR_VULKAN, "creating command buffers failed");
    if (st == DG_OK && d->info.timestamps) {
      VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                  .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                  .queryCount = 2u * (uint32_t)s->batch};
      sl->labels = calloc((size_t)s->batch, sizeof *sl->labels);
      if (!sl->labels || vkCreateQueryPool(d->device, &qi, NULL, &sl->queries) != VK_SUCCESS)
        st = dg_fail(DG_ERR_VULKAN, "creating timestamp queries failed");
    }
  }
  if (st != DG_OK) {
    dg_stream_destroy(s);
    return st;
  }
  *out = s;
  return DG_OK;
}

static void record_profile(dg_stream *s, slot *sl) {
  if (!sl->queries || !sl->recorded) return;
  uint64_t *ticks = malloc(2 * (size_t)sl->recorded * sizeof *ticks);
  if (!ticks) return;
  if (vkGetQueryPoolResults(s->device->device, sl->queries, 0, 2u * (uint32_t)sl->recorded,
                            2 * (size_t)sl->recorded * sizeof *ticks, ticks, sizeof *ticks,
                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS) {
    for (int i = 0; i < sl->recorded; i++) {
      double ms = (double)(ticks[2 * i + 1] - ticks[2 * i]) * s->device->info.timestamp_period_ns * 1e-6;
      const char *label = sl->labels[i] ? sl->labels[i] : "?";
      int k = 0;
      while (k < s->n_profile && strcmp(s->profile[k].label, label) != 0) k++;
      if (k == s->n_profile) {
        if (k == MAX_PROFILE) continue;
        s->profile[s->n_profile++] = (dg_profile_entry){.label = label};
      }
      s->profile[k].total_ms += ms;
      s->profile[k].count++;
    }
  }
  free(ticks);
}

static dg_status wait_slot(dg_stream *s, slot *sl) {
  if (!sl->in_flight) return DG_OK;
  VkResult r = vkWaitForFences(s->device->device, 1, &sl->fence, VK_TRUE, UINT64_MAX);
  sl->in_flight = false;
  DG_VK(r, "vkWaitForFences");
  record_profile(s, sl);
  sl->recorded = 0;
  DG_VK(vkResetFences(s->device->device, 1, &sl->fence), "vkResetFences");
  return DG_OK;
}

static dg_status open_slot(dg_stream *s, slot *sl) {
  DG_TRY(wait_slot(s, sl));
  DG_VK(vkResetCommandBuffer(sl->cb, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  DG_VK(vkBeginCommandBuffer(sl->cb, &bi), "vkBeginCommandBuffer");
  if (sl->queries) vkCmdResetQueryPool(sl->cb, sl->queries, 0, 2u * (uint32_t)s->batch);
  sl->open = true;
  sl->recorded = 0;
  return DG_OK;
}

// Ends and submits the open command buffer of the current slot (if any) and moves to the next.
static dg_status submit_current(dg_stream *s) {
  slot *sl = &s->slots[s->current];
  if (!sl->open) return DG_OK;
  sl->open = false;
  DG_VK(vkEndCommandBuffer(sl->cb), "vkEndCommandBuffer");
  if (s->cancel && atomic_load(s->cancel)) s->cancelled = true;
  if (s->cancelled) { // drop the recorded work
    sl->recorded = 0;
    return DG_OK;
  }
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &sl->cb};
  DG_TRY(dg_device_submit(s->device, &si, sl->fence));
  sl->in_flight = true;
  s->current = (s->current + 1) % SLOTS;
  return DG_OK;
}

static bool overlaps(const hazard *h, const dg_buffer *b, uint64_t begin, uint64_t end) {
  return h->buffer == b && h->begin < end && begin < h->end;
}

// True if a dispatch with these bindings must wait for earlier dispatches since the last barrier.
static bool needs_barrier(const dg_stream *s, const dg_binding *bindings, int n) {
  if (s->n_hazards + n > MAX_HAZARDS) return true;
  for (int i = 0; i < n; i++) {
    uint64_t begin = bindings[i].range.offset, end = begin + bindings[i].range.size;
    for (int k = 0; k < s->n_hazards; k++)
      if ((bindings[i].write || s->hazards[k].write) && overlaps(&s->hazards[k], bindings[i].range.buffer, begin, end))
        return true;
  }
  return false;
}

// Starts one command in the current slot: submits a full batch, opens a command buffer, inserts the
// barrier the bindings need, records them as hazards and writes the start timestamp.
static dg_status begin_command(dg_stream *s, const dg_binding *bindings, int n, slot **out) {
  slot *sl = &s->slots[s->current];
  if (sl->open && sl->recorded >= s->batch) {
    DG_TRY(submit_current(s));
    if (s->cancelled) return dg_fail(DG_ERR_CANCELLED, "cancelled");
    sl = &s->slots[s->current];
  }
  if (!sl->open) DG_TRY(open_slot(s, sl));

  if (needs_barrier(s, bindings, n)) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    vkCmdPipelineBarrier(sl->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                         0, NULL, 0, NULL);
    s->n_hazards = 0;
    s->barriers++;
  }
  for (int i = 0; i < n; i++)
    s->hazards[s->n_hazards++] = (hazard){bindings[i].range.buffer, bindings[i].range.offset,
                                          bindings[i].range.offset + bindings[i].range.size, bindings[i].write};
  if (sl->queries)
    vkCmdWriteTimestamp(sl->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, sl->queries, 2u * (uint32_t)sl->recorded);
  *out = sl;
  return DG_OK;
}

static void end_command(dg_stream *s, slot *sl, const char *label) {
  if (sl->queries) {
    vkCmdWriteTimestamp(sl->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, sl->queries, 2u * (uint32_t)sl->recorded + 1);
    sl->labels[sl->recorded] = label;
  }
  sl->recorded++;
  s->dispatches++;
}

dg_status dg_stream_dispatch(dg_stream *s, dg_kernel *p, const dg_binding *bindings, int n, const void *push,
                             uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz, const char *label) {
  const dg_device_info *info = &s->device->info;
  if (s->cancelled) return dg_fail(DG_ERR_CANCELLED, "cancelled");
  if (n < 0 || n > DG_MAX_BINDINGS) return dg_fail(DG_ERR_ARG, "%s: %d bindings (max %d)", label, n, DG_MAX_BINDINGS);
  if (push_size > DG_PUSH_BYTES) return dg_fail(DG_ERR_ARG, "%s: push constants of %u bytes", label, push_size);
  if (!gx || !gy || !gz || gx > info->max_workgroup_count[0] || gy > info->max_workgroup_count[1] ||
      gz > info->max_workgroup_count[2])
    return dg_fail(DG_ERR_ARG, "%s: workgroup count %u x %u x %u outside the device limits", label, gx, gy, gz);
  VkDescriptorBufferInfo buffers[DG_MAX_BINDINGS];
  VkWriteDescriptorSet writes[DG_MAX_BINDINGS];
  for (int i = 0; i < n; i++) {
    const dg_range *r = &bindings[i].range;
    if (!r->buffer || r->size == 0) return dg_fail(DG_ERR_ARG, "%s: binding %d is empty", label, i);
    if (r->size > info->max_binding_bytes)
      return dg_fail(DG_ERR_ARG, "%s: binding %d is %llu bytes, over the %llu-byte binding limit", label, i,
                     (unsigned long long)r->size, (unsigned long long)info->max_binding_bytes);
    bool uniform = i == DG_UNIFORM_BINDING;
    uint32_t align = uniform ? info->min_uniform_offset_alignment : info->min_storage_offset_alignment;
    if (uniform && r->size > info->max_uniform_bytes)
      return dg_fail(DG_ERR_ARG, "%s: uniform binding of %llu bytes, over the device's %llu", label,
                     (unsigned long long)r->size, (unsigned long long)info->max_uniform_bytes);
    if (r->offset % align)
      return dg_fail(DG_ERR_ARG, "%s: binding %d offset %llu is not %u-byte aligned", label, i,
                     (unsigned long long)r->offset, align);
    if (r->offset + r->size > r->buffer->size)
      return dg_fail(DG_ERR_ARG, "%s: binding %d runs past its buffer", label, i);
    buffers[i] = (VkDescriptorBufferInfo){r->buffer->buffer, r->offset, r->size};
    writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                       .dstBinding = (uint32_t)i,
                                       .descriptorCount = 1,
                                       .descriptorType = uniform ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                                                 : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .pBufferInfo = &buffers[i]};
  }
  slot *sl;
  DG_TRY(begin_command(s, bindings, n, &sl));
  vkCmdBindPipeline(sl->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
  if (n) s->device->push_descriptor_set(sl->cb, VK_PIPELINE_BIND_POINT_COMPUTE, s->device->pipeline_layout, 0,
                                        (uint32_t)n, writes);
  if (push_size) vkCmdPushConstants(sl->cb, s->device->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
  vkCmdDispatch(sl->cb, gx, gy, gz);
  end_command(s, sl, label);
  return DG_OK;
}

dg_status dg_stream_record(dg_stream *s, const dg_binding *bindings, int n, dg_stream_record_fn record, void *user,
                           const char *label) {
  if (s->cancelled) return dg_fail(DG_ERR_CANCELLED, "cancelled");
  if (n < 0 || n > DG_MAX_BINDINGS) return dg_fail(DG_ERR_ARG, "%s: %d bindings (max %d)", label, n, DG_MAX_BINDINGS);
  for (int i = 0; i < n; i++)
    if (!bindings[i].range.buffer || bindings[i].range.size == 0)
      return dg_fail(DG_ERR_ARG, "%s: binding %d is empty", label, i);
  slot *sl;
  DG_TRY(begin_command(s, bindings, n, &sl));
  dg_status st = record(sl->cb, user);
  // Foreign commands may leave their own barriers and bindings; what they wrote is in the hazards, so the
  // next dispatch that touches it waits.
  end_command(s, sl, label);
  return st;
}

dg_status dg_stream_finish(dg_stream *s) {
  dg_status st = submit_current(s);
  for (int i = 0; i < SLOTS; i++) {
    dg_status w = wait_slot(s, &s->slots[i]);
    if (st == DG_OK) st = w;
  }
  s->n_hazards = 0; // the fence wait orders everything before it
  if (st == DG_OK && s->cancelled) {
    s->cancelled = false;
    return dg_fail(DG_ERR_CANCELLED, "cancelled");
  }
  return st;
}

void dg_stream_set_cancel(dg_stream *s, const atomic_bool *flag) { s->cancel = flag; }

void dg_stream_destroy(dg_stream *s) {
  if (!s) return;
  dg_device *d = s->device;
  for (int i = 0; i < SLOTS; i++) {
    slot *sl = &s->slots[i];
    if (sl->open) vkEndCommandBuffer(sl->cb);
    if (sl->in_flight) vkWaitForFences(d->device, 1, &sl->fence, VK_TRUE, UINT64_MAX);
    if (sl->fence) vkDestroyFence(d->device, sl->fence, NULL);
    if (sl->queries) vkDestroyQueryPool(d->device, sl->queries, NULL);
    free(sl->labels);
  }
  if (s->pool) vkDestroyCommandPool(d->device, s->pool, NULL);
  dg_arena_destroy(s->work);
  free(s);
}

dg_status dg_stream_workspace(dg_stream *s, int n, const uint64_t *bytes, dg_range *out) {
  uint64_t total = 0;
  for (int i = 0; i < n; i++)
    total += (bytes[i] + DG_ARENA_ALIGN - 1) / DG_ARENA_ALIGN * DG_ARENA_ALIGN;
  if (!s->work) DG_TRY(dg_arena_create(s->device, total, &s->work));
  dg_arena_release(s->work, (dg_arena_mark){0, 0});
  for (int i = 0; i < n; i++)
    DG_TRY(dg_arena_alloc(s->work, bytes[i], &out[i]));
  return DG_OK;
}

int dg_stream_profile(const dg_stream *s, const dg_profile_entry **entries) {
  *entries = s->profile;
  return s->n_profile;
}

void dg_stream_profile_reset(dg_stream *s) { s->n_profile = 0; }

static int by_time(const void *a, const void *b) {
  double d = ((const dg_profile_entry *)b)->total_ms - ((const dg_profile_entry *)a)->total_ms;
  return (d > 0) - (d < 0);
}

void dg_stream_profile_print(const dg_stream *s, FILE *f) {
  int n = s->n_profile;
  dg_profile_entry *sorted = malloc(sizeof *sorted * (size_t)(n > 0 ? n : 1));
  if (!sorted) return;
  memcpy(sorted, s->profile, sizeof *sorted * (size_t)n);
  qsort(sorted, (size_t)n, sizeof *sorted, by_time);
  double total = 0;
  for (int i = 0; i < n; i++) total += sorted[i].total_ms;
  fprintf(f, "GPU time by op (%.1f ms in all):\n", total);
  for (int i = 0; i < n; i++)
    fprintf(f, "  %-16s %10.1f ms %5.1f %% %8llu dispatches\n", sorted[i].label, sorted[i].total_ms,
            total > 0 ? 100 * sorted[i].total_ms / total : 0, (unsigned long long)sorted[i].count);
  free(sorted);
}
uint64_t dg_stream_dispatch_count(const dg_stream *s) { return s->dispatches; }
uint64_t dg_stream_barrier_count(const dg_stream *s) { return s->barriers; }
