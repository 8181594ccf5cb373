#include "dg_kernel.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_device_internal.h"
#include "dg_kernel_internal.h"
#include "dg_memory.h"

// Pipeline-cache file: our own header guards the driver's blob, so a truncated or corrupt file is
// detected and ignored rather than handed to the driver.
#define CACHE_MAGIC 0x43504744u // "DGPC"
#define CACHE_VERSION 1u
typedef struct cache_header {
  uint32_t magic, version;
  uint64_t size, hash;
} cache_header;

struct dg_kernel_table {
  pthread_mutex_t lock;
  dg_kernel **items;
  int count, capacity;
  char cache_path[1024];
};

static uint64_t fnv1a(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void cache_path(dg_device *d, char *out, size_t n) {
  const char *env = getenv("DIRIGENT_PIPELINE_CACHE");
  if (env) {
    snprintf(out, n, "%s", strcmp(env, "off") == 0 ? "" : env);
    return;
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char dir[768];
  if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/dirigent", xdg);
  else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/dirigent", home);
  else {
    out[0] = '\0';
    return;
  }
  snprintf(out, n, "%s/pipelines-%08x-%08x.bin", dir, d->info.vendor_id, d->info.device_id);
}

void *dg_cache_file_read(const char *path, size_t *size) {
  *size = 0;
  if (!path[0]) return NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  cache_header h;
  void *data = NULL;
  if (fread(&h, sizeof h, 1, f) == 1 && h.magic == CACHE_MAGIC && h.version == CACHE_VERSION && h.size > 0 &&
      h.size < (1ull << 30) && (data = malloc(h.size)) && fread(data, 1, h.size, f) == h.size &&
      fnv1a(data, h.size) == h.hash) {
    *size = h.size;
  } else {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

static void mkdir_parents(const char *path) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(tmp, 0755);
    *p = '/';
  }
}

void dg_cache_file_write(const char *path, const void *data, size_t size) {
  if (!path[0] || !size) return;
  mkdir_parents(path);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  cache_header h = {CACHE_MAGIC, CACHE_VERSION, size, fnv1a(data, size)};
  bool ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, size, f) == size;
  if (f) ok &= fclose(f) == 0;
  if (ok) rename(tmp, path);
  else unlink(tmp);
}

const char *dg_cache_path(const dg_device *d) { return d->kernels->cache_path; }

static void write_cache(dg_device *d) {
  size_t size = 0;
  if (!d->kernels->cache_path[0] || vkGetPipelineCacheData(d->device, d->pipeline_cache, &size, NULL) != VK_SUCCESS ||
      !size)
    return;
  void *data = malloc(size);
  if (!data) return;
  if (vkGetPipelineCacheData(d->device, d->pipeline_cache, &size, data) == VK_SUCCESS)
    dg_cache_file_write(d->kernels->cache_path, data, size);
  free(data);
}

dg_status dg_kernel_table_create(dg_device *d) {
  dg_kernel_table *t = calloc(1, sizeof *t);
  if (!t) return dg_fail(DG_ERR_OOM, "out of host memory");
  pthread_mutex_init(&t->lock, NULL);
  d->kernels = t;
  cache_path(d, t->cache_path, sizeof t->cache_path);
  size_t size;
  void *data = dg_cache_file_read(t->cache_path, &size);
  VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                  .initialDataSize = size,
                                  .pInitialData = data};
  VkResult r = vkCreatePipelineCache(d->device, &ci, NULL, &d->pipeline_cache);
  if (r != VK_SUCCESS && data) { // the driver rejected the data: start empty
    ci.initialDataSize = 0;
    ci.pInitialData = NULL;
    r = vkCreatePipelineCache(d->device, &ci, NULL, &d->pipeline_cache);
  }
  free(data);
  DG_VK(r, "vkCreatePipelineCache");
  return DG_OK;
}

void dg_kernel_table_destroy(dg_device *d) {
  dg_kernel_table *t = d->kernels;
  if (!t) return;
  if (d->pipeline_cache) {
    write_cache(d);
    vkDestroyPipelineCache(d->device, d->pipeline_cache, NULL);
  }
  for (int i = 0; i < t->count; i++) {
    vkDestroyPipeline(d->device, t->items[i]->pipeline, NULL);
    free(t->items[i]);
  }
  free(t->items);
  pthread_mutex_destroy(&t->lock);
  free(t);
  d->kernels = NULL;
}

static dg_status create_kernel(dg_device *d, const dg_shader_blob *blob, const uint32_t *spec, int n_spec,
                                 VkPipeline *out) {
  VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                 .codeSize = blob->size_bytes,
                                 .pCode = blob->code};
  VkShaderModule module;
  DG_VK(vkCreateShaderModule(d->device, &mi, NULL, &module), "vkCreateShaderModule");
  VkSpecializationMapEntry entries[DG_MAX_SPEC];
  for (int i = 0; i < n_spec; i++)
    entries[i] = (VkSpecializationMapEntry){.constantID = (uint32_t)i, .offset = (uint32_t)(4 * i), .size = 4};
  VkSpecializationInfo si = {.mapEntryCount = (uint32_t)n_spec,
                             .pMapEntries = entries,
                             .dataSize = 4 * (size_t)n_spec,
                             .pData = spec};
  VkComputePipelineCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = n_spec ? &si : NULL},
      .layout = d->pipeline_layout};
  dg_status s = DG_OK;
  if (!strcmp(d->info.type, "cpu")) { // the driver's compiler must not run out of memory: it would abort
    char doing[300];
    snprintf(doing, sizeof doing, "compiling a shader on the CPU Vulkan driver (%.200s)", d->info.name);
    s = dg_memory_need(doing, DG_MEMORY_CPU_DRIVER_MARGIN);
  }
  VkResult r = s == DG_OK ? vkCreateComputePipelines(d->device, d->pipeline_cache, 1, &ci, NULL, out) : VK_SUCCESS;
  vkDestroyShaderModule(d->device, module, NULL);
  DG_TRY(s);
  DG_VK(r, "vkCreateComputePipelines");
  return DG_OK;
}

dg_status dg_kernel_get(dg_device *d, const char *name, const uint32_t *spec, int n_spec, dg_kernel **out) {
  if (n_spec < 0 || n_spec > DG_MAX_SPEC) return dg_fail(DG_ERR_ARG, "kernel %s: %d specialisation constants", name, n_spec);
  dg_kernel_table *t = d->kernels;
  pthread_mutex_lock(&t->lock);
  for (int i = 0; i < t->count; i++) {
    dg_kernel *p = t->items[i];
    if (p->n_spec == n_spec && strcmp(p->blob->name, name) == 0 && !memcmp(p->spec, spec, 4 * (size_t)n_spec)) {
      *out = p;
      pthread_mutex_unlock(&t->lock);
      return DG_OK;
    }
  }
  dg_status s = DG_OK;
  const dg_shader_blob *blob = dg_shader_find(name);
  dg_kernel *p = NULL;
  if (!blob) s = dg_fail(DG_ERR_ARG, "no embedded shader named '%s'", name);
  if (s == DG_OK && t->count == t->capacity) {
    int cap = t->capacity ? 2 * t->capacity : 64;
    dg_kernel **items = realloc(t->items, (size_t)cap * sizeof *items);
    if (!items) s = dg_fail(DG_ERR_OOM, "out of host memory");
    else {
      t->items = items;
      t->capacity = cap;
    }
  }
  if (s == DG_OK && !(p = calloc(1, sizeof *p))) s = dg_fail(DG_ERR_OOM, "out of host memory");
  if (s == DG_OK) {
    p->blob = blob;
    p->n_spec = n_spec;
    if (n_spec) memcpy(p->spec, spec, 4 * (size_t)n_spec);
    s = create_kernel(d, blob, spec, n_spec, &p->pipeline);
  }
  if (s == DG_OK) {
    t->items[t->count++] = p;
    *out = p;
  } else {
    free(p);
  }
  pthread_mutex_unlock(&t->lock);
  return s;
}
