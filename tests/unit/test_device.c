// The engine core: device report, arena, kernels and their pipeline cache, batching, barriers,
// cancellation and error reporting.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dg_elementwise.h"
#include "dg_test.h"

static void test_info(void) {
  const dg_device_info *info = dg_device_get_info(T.device);
  dg_check(info->name[0] != '\0', "device has a name");
  dg_check(info->max_binding_bytes > 0 && info->max_binding_bytes <= info->max_storage_buffer_range,
           "binding limit within maxStorageBufferRange");
  dg_check(info->min_storage_offset_alignment <= DG_ARENA_ALIGN, "arena alignment covers the device's");
}

static void test_arena(void) {
  dg_arena_mark m = dg_arena_get_mark(T.arena);
  uint64_t before = dg_arena_bytes_in_use(T.arena);
  dg_range a, b;
  dg_check(dg_arena_alloc(T.arena, 1000, &a) == DG_OK && dg_arena_alloc(T.arena, 10, &b) == DG_OK, "alloc");
  dg_check(a.offset % DG_ARENA_ALIGN == 0 && b.offset % DG_ARENA_ALIGN == 0, "aligned");
  dg_check(a.buffer != b.buffer || a.offset + a.size <= b.offset, "no overlap");
  dg_arena_release(T.arena, m);
  dg_check(dg_arena_bytes_in_use(T.arena) == before, "release returns to the mark");
  // An impossible allocation is an error with a message, not a crash.
  dg_range huge;
  dg_status s = dg_arena_alloc(T.arena, 1ull << 46, &huge);
  dg_check(s == DG_ERR_OOM || s == DG_ERR_VULKAN, "64 TiB allocation fails cleanly (%s)", dg_status_name(s));
  dg_check(strstr(dg_last_error(), "MiB") != NULL, "OOM message names the size: %s", dg_last_error());
  int64_t bad[2] = {3, 0};
  dg_tensor t;
  dg_check_error(dg_tensor_alloc(T.arena, DG_F32, 2, bad, &t), DG_ERR_ARG, "size 0", "zero-sized dim");
}

static void test_kernel(void) {
  dg_kernel *p;
  dg_check_error(dg_kernel_get(T.device, "no_such_shader", NULL, 0, &p), DG_ERR_ARG, "no_such_shader",
                 "unknown shader");
  uint32_t spec[2] = {64, 0};
  dg_kernel *p1, *p2, *p3;
  dg_check(dg_kernel_get(T.device, "elementwise", spec, 2, &p1) == DG_OK &&
               dg_kernel_get(T.device, "elementwise", spec, 2, &p2) == DG_OK && p1 == p2,
           "kernels are cached by name and constants");
  spec[1] = 1;
  dg_check(dg_kernel_get(T.device, "elementwise", spec, 2, &p3) == DG_OK && p3 != p1,
           "other constants give another kernel");
}

static void test_barriers_and_batching(void) {
  int64_t shape[1] = {1000};
  dg_tensor a = dg_test_tensor(DG_F32, 1, shape, 0, 1, NULL), b = dg_test_tensor(DG_F32, 1, shape, 0, 1, NULL);
  dg_tensor c = dg_test_poisoned(DG_F32, 1, shape), d = dg_test_poisoned(DG_F32, 1, shape);
  uint64_t b0 = dg_stream_barrier_count(T.stream);
  dg_binary(T.stream, DG_ADD, &a, &b, &c); // reads a, b
  dg_binary(T.stream, DG_MUL, &a, &b, &d); // independent: no barrier
  dg_check(dg_stream_barrier_count(T.stream) == b0, "independent dispatches share a barrier-free run");
  dg_binary(T.stream, DG_ADD, &c, &d, &c); // reads c, d written above: barrier
  dg_check(dg_stream_barrier_count(T.stream) == b0 + 1, "a dependent dispatch gets one barrier");
  dg_test_ok(DG_OK, "finish");
  float *got = dg_test_read(&c), *av = dg_test_read(&a), *bv = dg_test_read(&b);
  float want[1000];
  for (int i = 0; i < 1000; i++)
    want[i] = (av[i] + bv[i]) + av[i] * bv[i];
  dg_test_close("dependent chain", got, want, 1000, 1e-6);
  free(got);
  free(av);
  free(bv);

  // Many dispatches span several batches: a chain of 300 x += 1.
  dg_stream *s;
  dg_stream_create(T.device, 16, &s);
  dg_tensor x = dg_test_tensor(DG_F32, 1, shape, 0, 0, NULL);
  for (int i = 0; i < 300; i++)
    dg_unary(s, DG_SCALE, &x, &x, 1.0f, 1.0f);
  dg_check(dg_stream_finish(s) == DG_OK, "300 dispatches in batches of 16");
  float *xv = dg_test_read(&x);
  dg_check(xv[0] == 300.0f && xv[999] == 300.0f, "chain across batches ordered: %g", xv[0]);
  free(xv);

  // Cancellation: raised before a batch boundary, the rest is dropped and finish says so.
  atomic_bool cancel = false;
  dg_stream_set_cancel(s, &cancel);
  dg_tensor y = dg_test_tensor(DG_F32, 1, shape, 0, 0, NULL);
  dg_status st = DG_OK;
  int issued = 0;
  for (int i = 0; i < 200 && st == DG_OK; i++, issued++) {
    if (i == 40) atomic_store(&cancel, true);
    st = dg_unary(s, DG_SCALE, &y, &y, 1.0f, 1.0f);
  }
  dg_check(st == DG_ERR_CANCELLED && issued <= 40 + 16 + 1, "dispatch stops within one batch of cancel (%d)", issued);
  dg_check(dg_stream_finish(s) == DG_ERR_CANCELLED, "finish reports the cancellation");
  atomic_store(&cancel, false);
  dg_unary(s, DG_SCALE, &y, &y, 0.0f, 5.0f);
  dg_check(dg_stream_finish(s) == DG_OK, "the stream is usable after a cancellation");
  float *yv = dg_test_read(&y);
  dg_check(yv[0] == 5.0f, "work after cancellation runs");
  free(yv);
  dg_stream_destroy(s);
}

static void test_binding_limit(void) {
  const dg_device_info *info = dg_device_get_info(T.device);
  dg_kernel *p;
  uint32_t spec[2] = {64, 9};
  dg_kernel_get(T.device, "elementwise", spec, 2, &p);
  dg_range r;
  if (dg_arena_alloc(T.arena, info->max_binding_bytes + 1024, &r) != DG_OK) return; // not enough memory here
  dg_binding b[3] = {{r, false}, {r, false}, {r, true}};
  uint32_t push[9] = {0};
  dg_check_error(dg_stream_dispatch(T.stream, p, b, 3, push, sizeof push, 1, 1, 1, "test"), DG_ERR_ARG, "binding limit",
                 "oversized binding refused");
}

static void test_pipeline_cache_corrupt(void) {
  // A corrupt cache file is ignored: a second device opens and runs ops.
  char path[] = "/tmp/dg-cache-XXXXXX";
  int fd = mkstemp(path);
  const char junk[] = "DGPC this is not a pipeline cache";
  if (write(fd, junk, sizeof junk) < 0) dg_check(false, "write junk");
  close(fd);
  setenv("DIRIGENT_PIPELINE_CACHE", path, 1);
  dg_device *d2;
  dg_check(dg_device_open(NULL, &d2) == DG_OK, "device opens with a corrupt pipeline cache");
  dg_kernel *p;
  uint32_t spec[2] = {64, 0};
  dg_check(dg_kernel_get(d2, "elementwise", spec, 2, &p) == DG_OK, "kernels build");
  dg_device_close(d2); // writes a valid cache over the junk
  dg_check(dg_device_open(NULL, &d2) == DG_OK, "device opens with the rewritten cache");
  dg_device_close(d2);
  unlink(path);
}

static void test_bad_device_choice(void) {
  dg_device *d2;
  dg_device_options o = {.select = "no-such-device-anywhere"};
  dg_check_error(dg_device_open(&o, &d2), DG_ERR_ARG, "no-such-device-anywhere", "unknown device name");
  o.select = "0";
  dg_check(dg_device_open(&o, &d2) == DG_OK, "device by index");
  dg_device_close(d2);
}

// The two memory paths: lavapipe maps its blocks; with staging forced nothing is mapped and every host
// access is a staging copy, chunked at 8 MiB, at any offset, converting f16 on the way.
static void test_memory_paths(void) {
  const dg_device_info *info = dg_device_get_info(T.device);
  dg_check(!strcmp(info->memory_path, "mapped") || !strcmp(info->memory_path, "staged"), "memory path %s",
           info->memory_path);
  dg_check(dg_device_memory_budget(T.device) > 0 && info->block_heap_bytes > 0, "memory budget reported");
  dg_device *d2;
  dg_device_options o = {.staging = true};
  if (!dg_check(dg_device_open(&o, &d2) == DG_OK, "device with staging forced")) return;
  dg_check(!strcmp(dg_device_get_info(d2)->memory_path, "staged"), "forced staging is staged");
  dg_arena *arena;
  dg_stream *s;
  dg_arena_create(d2, 0, &arena);
  dg_stream_create(d2, 4, &s);
  int64_t n = (9 << 20) / 4 + 77; // more than one 8 MiB staging chunk
  float *host = malloc((size_t)n * 4), *back = malloc((size_t)n * 4);
  for (int64_t i = 0; i < n; i++) host[i] = (float)(i % 1009) - 500.0f;
  dg_tensor a, b, h;
  dg_tensor_alloc(arena, DG_F32, 1, &n, &a);
  dg_tensor_alloc(arena, DG_F32, 1, &n, &b);
  dg_tensor_alloc(arena, DG_F16, 1, &n, &h);
  dg_check(dg_range_map(a.data) == NULL, "staged memory is not mapped");
  dg_check(dg_tensor_write_f32(&a, host) == DG_OK && dg_tensor_fill_f32(&b, 2.0f) == DG_OK, "staged uploads");
  dg_binary(s, DG_MUL, &a, &b, &b);
  dg_check(dg_stream_finish(s) == DG_OK && dg_tensor_read_f32(&b, back) == DG_OK, "staged download after a kernel");
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++) bad += back[i] != 2.0f * host[i];
  dg_check(bad == 0, "kernel result through staging: %lld wrong of %lld", (long long)bad, (long long)n);
  dg_check(dg_tensor_write_f32(&h, host) == DG_OK && dg_tensor_read_f32(&h, back) == DG_OK, "f16 round trip");
  bad = 0;
  for (int64_t i = 0; i < n; i++) bad += back[i] != host[i]; // integers below 2048 are exact in f16
  dg_check(bad == 0, "f16 through staging: %lld wrong", (long long)bad);
  float part[3] = {7, 8, 9}, got[3];
  dg_check(dg_range_write(a.data, 4ull * (uint64_t)(n - 3), part, sizeof part) == DG_OK &&
               dg_range_read(a.data, 4ull * (uint64_t)(n - 3), got, sizeof got) == DG_OK && !memcmp(part, got, sizeof got),
           "write and read at an offset");
  dg_check_error(dg_range_write(a.data, 4ull * (uint64_t)n - 4, part, sizeof part), DG_ERR_ARG, "passes the end",
                 "a write past the range's end is refused");
  free(host);
  free(back);
  dg_stream_destroy(s);
  dg_arena_destroy(arena);
  dg_device_close(d2);
}

static void test_timestamps(void) {
  dg_device *d2;
  dg_device_options o = {.timestamps = true};
  if (!dg_check(dg_device_open(&o, &d2) == DG_OK, "device with timestamps")) return;
  if (!dg_device_get_info(d2)->timestamps) {
    printf("device has no compute timestamps: profiling check skipped\n");
    dg_device_close(d2);
    return;
  }
  dg_arena *arena;
  dg_stream *s;
  dg_arena_create(d2, 0, &arena);
  dg_stream_create(d2, 4, &s);
  int64_t shape[1] = {1 << 16};
  dg_tensor a, b;
  dg_tensor_alloc(arena, DG_F32, 1, shape, &a);
  dg_tensor_alloc(arena, DG_F32, 1, shape, &b);
  dg_tensor_fill_f32(&a, 1.0f);
  for (int i = 0; i < 10; i++)
    dg_unary(s, DG_SILU, &a, &b, 0, 0);
  dg_binary(s, DG_ADD, &a, &b, &b);
  dg_check(dg_stream_finish(s) == DG_OK, "profiled run");
  const dg_profile_entry *e;
  int n = dg_stream_profile(s, &e);
  uint64_t silu = 0, add = 0;
  for (int i = 0; i < n; i++) {
    if (!strcmp(e[i].label, "silu")) silu = e[i].count;
    if (!strcmp(e[i].label, "add")) add = e[i].count;
    dg_check(e[i].total_ms >= 0, "%s: GPU time %.3f ms", e[i].label, e[i].total_ms);
  }
  dg_check(silu == 10 && add == 1, "per-label dispatch counts (silu %llu, add %llu)", (unsigned long long)silu,
           (unsigned long long)add);
  dg_stream_destroy(s);
  dg_arena_destroy(arena);
  dg_device_close(d2);
}

int main(void) {
  dg_test_init("test_device");
  test_info();
  test_arena();
  test_kernel();
  test_barriers_and_batching();
  test_binding_limit();
  test_pipeline_cache_corrupt();
  test_bad_device_choice();
  test_timestamps();
  test_memory_paths();
  return dg_test_finish();
}
