#include "dg_fft.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dg_arena_internal.h"
#include "dg_device_internal.h"
#include "dg_kernel_internal.h"

#define VKFFT_BACKEND 0
// VkFFT's code generator trips GCC's flow-sensitive warnings once inlined here.
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <vkFFT.h>
#pragma GCC diagnostic pop

#define MAX_SIDE 16384
#define MAX_PLANES 256
// Part of the cache files' names: raise it whenever the VkFFT configuration below changes, so binaries
// compiled for another configuration are never loaded.
#define CONFIG_VERSION 3

struct dg_fft_plan {
  int planes, height, width;
  uint64_t last_use;
  // One arena (one VkBuffer) per tensor, so each starts at offset 0: VkFFT binds a buffer from its start
  // over the size it is given.
  dg_arena *real_arena, *spectrum_arena;
  dg_tensor real, spectrum;
  // VkFFT keeps pointers to these for the plan's life.
  VkBuffer real_buffer, spectrum_buffer;
  pfUINT real_bytes, spectrum_bytes;
  VkFFTApplication app;
  bool app_made;
};

struct dg_fft {
  dg_device *device;
  VkCommandPool pool; // VkFFT's uploads at plan creation, on the engine's queue
  VkFence fence;
  dg_fft_plan *plans[DG_FFT_MAX_PLANS];
  int n_plans, made;
  uint64_t clock;
};

dg_status dg_fft_create(dg_device *d, dg_fft **out) {
  *out = NULL;
  dg_fft *f = calloc(1, sizeof *f);
  if (!f) return dg_fail(DG_ERR_OOM, "fft: out of host memory");
  f->device = d;
  VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                .queueFamilyIndex = d->queue_family};
  VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  if (vkCreateCommandPool(d->device, &pi, NULL, &f->pool) != VK_SUCCESS ||
      vkCreateFence(d->device, &fi, NULL, &f->fence) != VK_SUCCESS) {
    dg_fft_destroy(f);
    return dg_fail(DG_ERR_VULKAN, "fft: creating VkFFT's command pool and fence failed");
  }
  *out = f;
  return DG_OK;
}

static void plan_destroy(dg_fft_plan *p) {
  if (!p) return;
  if (p->app_made) deleteVkFFT(&p->app);
  dg_arena_destroy(p->real_arena);
  dg_arena_destroy(p->spectrum_arena);
  free(p);
}

void dg_fft_destroy(dg_fft *f) {
  if (!f) return;
  for (int i = 0; i < f->n_plans; i++) plan_destroy(f->plans[i]);
  VkDevice dev = f->device->device;
  if (f->fence) vkDestroyFence(dev, f->fence, NULL);
  if (f->pool) vkDestroyCommandPool(dev, f->pool, NULL);
  free(f);
}

static dg_status tensor_alone(dg_device *d, int ndim, const int64_t *shape, dg_arena **arena, dg_tensor *t) {
  uint64_t bytes = 4;
  for (int i = 0; i < ndim; i++) bytes *= (uint64_t)shape[i];
  DG_TRY(dg_arena_create(d, bytes, arena));
  return dg_tensor_alloc(*arena, DG_F32, ndim, shape, t);
}

static dg_status plan_make(dg_fft *f, int planes, int h, int w, dg_fft_plan **out) {
  dg_device *d = f->device;
  dg_fft_plan *p = calloc(1, sizeof *p);
  if (!p) return dg_fail(DG_ERR_OOM, "fft: out of host memory");
  *p = (dg_fft_plan){.planes = planes, .height = h, .width = w};
  const int64_t rs[3] = {planes, h, w}, ss[4] = {planes, h, w / 2 + 1, 2};
  dg_status st = tensor_alone(d, 3, rs, &p->real_arena, &p->real);
  if (st == DG_OK) st = tensor_alone(d, 4, ss, &p->spectrum_arena, &p->spectrum);
  if (st != DG_OK) {
    plan_destroy(p);
    return st;
  }
  p->real_buffer = p->real.data.buffer->buffer;
  p->spectrum_buffer = p->spectrum.data.buffer->buffer;
  p->real_bytes = p->real.data.size;
  p->spectrum_bytes = p->spectrum.data.size;

  VkFFTConfiguration c = {0};
  c.FFTdim = 2;
  c.size[0] = (pfUINT)w; // fastest axis first
  c.size[1] = (pfUINT)h;
  c.numberBatches = (pfUINT)planes;
  c.performR2C = 1;
  c.normalize = 1;
  c.isInputFormatted = 1; // the real planes unpadded in their own buffer, the spectrum in `buffer`
  c.inverseReturnToInputBuffer = 1;
  c.inputBufferStride[0] = (pfUINT)w;
  c.inputBufferStride[1] = (pfUINT)w * (pfUINT)h;
  c.bufferStride[0] = (pfUINT)(w / 2 + 1);
  c.bufferStride[1] = (pfUINT)(w / 2 + 1) * (pfUINT)h;
  c.physicalDevice = &d->physical;
  c.device = &d->device;
  c.queue = &d->queue;
  c.commandPool = &f->pool;
  c.fence = &f->fence;
  c.pipelineCache = &d->pipeline_cache;
  c.inputBuffer = &p->real_buffer;
  c.inputBufferSize = &p->real_bytes;
  c.buffer = &p->spectrum_buffer;
  c.bufferSize = &p->spectrum_bytes;
  // VkFFT's compiled shaders for this size from the cache beside the pipeline cache: glslang's compile is
  // most of a plan's cost (the pipelines themselves come from the pipeline cache).
  char path[1200] = "";
  if (dg_cache_path(d)[0])
    snprintf(path, sizeof path, "%s.vkfft%d-c%d-%dx%dx%d", dg_cache_path(d), VkFFTGetVersion(), CONFIG_VERSION,
             planes, h, w);
  size_t cached_size = 0;
  void *cached = path[0] ? dg_cache_file_read(path, &cached_size) : NULL;
  VkFFTResult r = VKFFT_ERROR_PLAN_NOT_INITIALIZED;
  if (cached) {
    VkFFTConfiguration load = c;
    load.loadApplicationFromString = 1;
    load.loadApplicationString = cached;
    pthread_mutex_lock(&d->queue_lock); // VkFFT submits its table uploads on the engine's queue
    r = initializeVkFFT(&p->app, load);
    pthread_mutex_unlock(&d->queue_lock);
    free(cached);
    if (r != VKFFT_SUCCESS) p->app = (VkFFTApplication){0}; // stale (VkFFT freed what it made): compile afresh
  }
  if (r != VKFFT_SUCCESS) {
    c.saveApplicationToString = path[0] ? 1 : 0;
    pthread_mutex_lock(&d->queue_lock);
    r = initializeVkFFT(&p->app, c);
    pthread_mutex_unlock(&d->queue_lock);
    if (r == VKFFT_SUCCESS && path[0])
      dg_cache_file_write(path, p->app.saveApplicationString, (size_t)p->app.applicationStringSize);
  }
  if (r != VKFFT_SUCCESS) {
    plan_destroy(p);
    return dg_fail(r == VKFFT_ERROR_MALLOC_FAILED ? DG_ERR_OOM : DG_ERR_VULKAN,
                   "fft: VkFFT could not make a plan for %d planes of %dx%d: %s (%d)", planes, w, h,
                   getVkFFTErrorString(r), (int)r);
  }
  p->app_made = true;
  f->made++;
  *out = p;
  return DG_OK;
}

dg_status dg_fft_plan_get(dg_fft *f, int planes, int h, int w, dg_fft_plan **out) {
  *out = NULL;
  if (planes < 1 || planes > MAX_PLANES || h < 2 || w < 2 || h > MAX_SIDE || w > MAX_SIDE)
    return dg_fail(DG_ERR_ARG, "fft: %d planes of %dx%d (1..%d planes, sides 2..%d)", planes, w, h, MAX_PLANES,
                   MAX_SIDE);
  f->clock++;
  for (int i = 0; i < f->n_plans; i++) {
    dg_fft_plan *p = f->plans[i];
    if (p->planes == planes && p->height == h && p->width == w) {
      p->last_use = f->clock;
      *out = p;
      return DG_OK;
    }
  }
  uint64_t limit = f->device->info.max_binding_bytes;
  uint64_t spectrum = (uint64_t)planes * (uint64_t)h * (uint64_t)(w / 2 + 1) * 8u;
  if (spectrum > limit)
    return dg_fail(DG_ERR_UNSUPPORTED,
                   "fft: the spectrum of %d planes of %dx%d is %llu bytes, over the %llu-byte binding limit "
                   "(VkFFT binds each buffer whole)",
                   planes, w, h, (unsigned long long)spectrum, (unsigned long long)limit);
  dg_fft_plan *p;
  DG_TRY(plan_make(f, planes, h, w, &p));
  p->last_use = f->clock;
  if (f->n_plans == DG_FFT_MAX_PLANS) { // evict the least recently used
    int lru = 0;
    for (int i = 1; i < f->n_plans; i++)
      if (f->plans[i]->last_use < f->plans[lru]->last_use) lru = i;
    plan_destroy(f->plans[lru]);
    f->plans[lru] = f->plans[--f->n_plans];
  }
  f->plans[f->n_plans++] = p;
  *out = p;
  return DG_OK;
}

dg_tensor *dg_fft_plan_real(dg_fft_plan *p) { return &p->real; }
dg_tensor *dg_fft_plan_spectrum(dg_fft_plan *p) { return &p->spectrum; }
int dg_fft_plans_made(const dg_fft *f) { return f->made; }

typedef struct append_args {
  dg_fft_plan *plan;
  int inverse;
} append_args;

static dg_status append(void *command_buffer, void *user) {
  append_args *a = user;
  VkCommandBuffer cb = command_buffer;
  VkFFTLaunchParams lp = {0};
  lp.commandBuffer = &cb;
  VkFFTResult r = VkFFTAppend(&a->plan->app, a->inverse, &lp);
  if (r != VKFFT_SUCCESS)
    return dg_fail(DG_ERR_VULKAN, "fft: VkFFT could not record the %s transform of %d planes of %dx%d: %s (%d)",
                   a->inverse ? "inverse" : "forward", a->plan->planes, a->plan->width, a->plan->height,
                   getVkFFTErrorString(r), (int)r);
  return DG_OK;
}

static dg_status run(dg_stream *s, dg_fft_plan *p, int inverse) {
  // Both directions read and write both tensors as far as the barriers are concerned (C2R overwrites
  // the spectrum it reads).
  dg_binding b[2] = {{p->real.data, true}, {p->spectrum.data, true}};
  append_args a = {p, inverse};
  return dg_stream_record(s, b, 2, append, &a, inverse ? "fft_inverse" : "fft_forward");
}

dg_status dg_fft_forward(dg_stream *s, dg_fft_plan *p) { return run(s, p, -1); }
dg_status dg_fft_inverse(dg_stream *s, dg_fft_plan *p) { return run(s, p, 1); }
