// `dirigent-cli device`: report the Vulkan devices and the chosen one's limits, then run a quick
// self-test of the op path (upload, dispatch, barrier, download) against values computed here.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "dg_cli.h"
#include "dg_conv.h"
#include "dg_elementwise.h"
#include "dg_matmul.h"
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

// A small matmul (37x29 @ 29x19) and a 3x3 padded convolution (5->6 channels, 9x12) against
// values computed here.
static int self_test_mm_conv(dg_device *dev) {
  enum { M = 37, K = 29, N = 19, CI = 5, CO = 6, H = 9, W = 12 };
  static float a[M * K], b[K * N], c[M * N], x[CI * H * W], w[CO * CI * 9], y[CO * H * W];
  for (int i = 0; i < M * K; i++)
    a[i] = (float)sin(i * 0.37);
  for (int i = 0; i < K * N; i++)
    b[i] = (float)cos(i * 0.11);
  for (int i = 0; i < CI * H * W; i++)
    x[i] = (float)sin(i * 0.05);
  for (int i = 0; i < CO * CI * 9; i++)
    w[i] = (float)cos(i * 0.7);
  dg_arena *arena = NULL;
  dg_stream *stream = NULL;
  dg_tensor ta, tb, tc, tx, tw, ty;
  int64_t sa[2] = {M, K}, sb[2] = {K, N}, sc[2] = {M, N}, sx[4] = {1, CI, H, W}, sw[4] = {CO, CI, 3, 3};
  int64_t sy[4] = {1, CO, H, W};
  dg_status s = dg_arena_create(dev, 0, &arena);
  if (s == DG_OK) s = dg_stream_create(dev, 0, &stream);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 2, sa, &ta);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 2, sb, &tb);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 2, sc, &tc);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 4, sx, &tx);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 4, sw, &tw);
  if (s == DG_OK) s = dg_tensor_alloc(arena, DG_F32, 4, sy, &ty);
  if (s == DG_OK) {
    dg_tensor_write_f32(&ta, a);
    dg_tensor_write_f32(&tb, b);
    dg_tensor_write_f32(&tx, x);
    dg_tensor_write_f32(&tw, w);
    s = dg_matmul(stream, &ta, false, &tb, false, &tc);
  }
  dg_conv2d_params same = {.pad_h = 1, .pad_w = 1};
  if (s == DG_OK) s = dg_conv2d(stream, &tx, &tw, NULL, &same, &ty);
  if (s == DG_OK) s = dg_stream_finish(stream);
  double mm_err = 0, conv_err = 0;
  if (s == DG_OK) {
    dg_tensor_read_f32(&tc, c);
    dg_tensor_read_f32(&ty, y);
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++) {
        double want = 0;
        for (int k = 0; k < K; k++)
          want += (double)a[m * K + k] * b[k * N + n];
        double e = fabs(c[m * N + n] - want);
        if (!(e <= mm_err)) mm_err = e;
      }
    for (int co = 0; co < CO; co++)
      for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++) {
          double want = 0;
          for (int ci = 0; ci < CI; ci++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++) {
                int iy = oy + ky - 1, ix = ox + kx - 1;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  want += (double)w[((co * CI + ci) * 3 + ky) * 3 + kx] * x[(ci * H + iy) * W + ix];
              }
          double e = fabs(y[(co * H + oy) * W + ox] - want);
          if (!(e <= conv_err)) conv_err = e;
        }
  }
  dg_stream_destroy(stream);
  dg_arena_destroy(arena);
  if (s != DG_OK) {
    fprintf(stderr, "self-test failed: %s\n", dg_last_error());
    return 1;
  }
  bool ok = mm_err < 1e-4 && conv_err < 1e-4;
  printf("self-test: matmul %dx%d @ %dx%d max abs error %.2e, conv2d 3x3 %d->%d on %dx%d max abs error %.2e: %s\n", M,
         K, K, N, mm_err, CI, CO, H, W, conv_err, ok ? "ok" : "FAILED");
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
         (unsigned long long)(info->max_storage_buffer_range >> 20),
         (unsigned long long)(info->max_binding_bytes >> 20));
  printf("  device-local memory: %llu MiB; arena memory %s (heap %llu MiB, %llu MiB free)\n  subgroup size: %u, shared memory: %u KiB, workgroup invocations: %u\n",
         (unsigned long long)(info->device_local_bytes >> 20), info->memory_path,
         (unsigned long long)(info->block_heap_bytes >> 20), (unsigned long long)(dg_device_memory_budget(dev) >> 20),
         info->subgroup_size, info->max_shared_memory / 1024,
         info->max_workgroup_invocations);
  printf("  f16 storage: %s, f16 arithmetic: %s, timestamps: %s\n", info->fp16_storage ? "yes" : "no",
         info->fp16_arithmetic ? "yes" : "no", info->timestamps ? "on" : "off");
  int rc = self_test(dev);
  if (rc == 0) rc = self_test_mm_conv(dev);
  dg_device_close(dev);
  return rc;
}
