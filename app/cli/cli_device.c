// `dirigent-cli device`: report the Vulkan devices and the chosen one's limits, then run a quick
// self-test of the op path (upload, dispatch, barrier, download) against values computed here.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "dg_cli.h"
#include "dg_elementwise.h"
#include "dg_stream.h"
#include "dg_tensor.h"

static int self_test(dg_device *dev) {
  dg_arena *arena = NULL;
  dg_stream *stream = NULL;
  enum { N = 100003 };
  static float a[N], b[N], got[N];
  for (int i = 0; i < N; i++) {
    a[i] = (float)sin(i * 0.01);
    b[i] = (float)(i % 7) - 3.0f;
  }
  int64_t shape[1] = {N};
  dg_tensor ta, tb, tc, td;
  dg_status s = dg_arena_create(dev, 0, &arena);
  if (s == DG_OK) s = dg_stream_create(dev, 0, &stream);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 1, shape, &ta);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 1, shape, &tb);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 1, shape, &tc);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 1, shape, &td);
  if (s == DG_OK) {
    dg_tensor_write_f32(&ta, a);
    dg_tensor_write_f32(&tb, b);
    s = dg_binary(stream, DG_ADD, &ta, &tb, &tc); // c = a + b
  }
  if (s == DG_OK) s = dg_unary(stream, DG_SILU, &tc, &td, 0, 0); // d = silu(c), depends on c
  if (s == DG_OK) s = dg_stream_finish(stream);
  double max_err = 0;
  if (s == DG_OK) {
    dg_tensor_read_f32(&td, got);
    for (int i = 0; i < N; i++) {
      double c = (double)a[i] + b[i], want = c / (1 + exp(-c));
      double e = fabs(got[i] - want);
      if (!(e <= max_err)) max_err = e; // NaN-safe
    }
  }
  dg_stream_destroy(stream);
  dg_arena_destroy(arena);
  if (s != DG_OK) {
    fprintf(stderr, "self-test failed: %s\n", dg_last_error());
    return 1;
  }
  bool ok = max_err < 1e-5;
  printf("self-test: silu(a + b) over %d elements, max abs error %.2e: %s\n", N, max_err, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

int dg_cli_device(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: dirigent-cli device\n\nLists Vulkan devices, reports the one Dirigent uses (choose with\n"
             "DIRIGENT_DEVICE=index or name substring) and runs a quick op self-test.\n");
      return 0;
    }
    fprintf(stderr, "device: unknown option '%s'\n", argv[i]);
    return 2;
  }
  char list[4096];
  int n = dg_device_list(list, sizeof list);
  printf("Vulkan devices (%d):\n%s", n, list);
  dg_device *dev;
  if (dg_device_open(NULL, &dev) != DG_OK) {
    fprintf(stderr, "dirigent: %s\n", dg_last_error());
    return 1;
  }
  const dg_device_info *info = dg_device_get_info(dev);
  printf("using: %s (%s)\n  driver: %s\n  Vulkan %u.%u.%u\n", info->name, info->type, info->driver,
         VK_API_VERSION_MAJOR(info->api_version), VK_API_VERSION_MINOR(info->api_version),
         VK_API_VERSION_PATCH(info->api_version));
  printf("  max storage buffer range: %llu MiB (binding limit used: %llu MiB)\n",
         (unsigned long long)(info->max_storage_buffer_range >> 20), (unsigned long long)(info->max_binding_bytes >> 20));
  printf("  device-local memory: %llu MiB\n  subgroup size: %u, shared memory: %u KiB, workgroup invocations: %u\n",
         (unsigned long long)(info->device_local_bytes >> 20), info->subgroup_size, info->max_shared_memory / 1024,
         info->max_workgroup_invocations);
  printf("  f16 storage: %s, f16 arithmetic: %s, timestamps: %s\n", info->fp16_storage ? "yes" : "no",
         info->fp16_arithmetic ? "yes" : "no", info->timestamps ? "on" : "off");
  int rc = self_test(dev);
  dg_device_close(dev);
  return rc;
}
