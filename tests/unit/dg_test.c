#include "dg_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

dg_test T;

void dg_test_init(const char *name) {
  T.name = name;
  const char *env = getenv("DG_TEST_SEED");
  T.seed = env ? strtoull(env, NULL, 10) : ((uint64_t)time(NULL) * 2654435761u) ^ (uint64_t)clock();
  T.rng = T.seed * 0x9E3779B97F4A7C15ull + 1;
  printf("%s: seed %llu (DG_TEST_SEED=%llu to replay)\n", name, (unsigned long long)T.seed, (unsigned long long)T.seed);
  if (dg_device_open(NULL, &T.device) != DG_OK) {
    printf("no usable Vulkan device: %s\n", dg_last_error());
    exit(77);
  }
  const dg_device_info *info = dg_device_get_info(T.device);
  printf("device: %s, binding limit %llu bytes, memory %s\n", info->name, (unsigned long long)info->max_binding_bytes,
         info->memory_path);
  if (dg_arena_create(T.device, 0, &T.arena) != DG_OK || dg_stream_create(T.device, 0, &T.stream) != DG_OK) {
    printf("setup failed: %s\n", dg_last_error());
    exit(1);
  }
}

int dg_test_finish(void) {
  uint64_t messages = dg_device_validation_messages(T.device);
  dg_check(messages == 0, "%llu validation-layer messages", (unsigned long long)messages);
  dg_stream_destroy(T.stream);
  dg_arena_destroy(T.arena);
  dg_device_close(T.device);
  printf("seed %llu\n", (unsigned long long)T.seed);
  return dg_check_finish(T.name);
}

uint64_t dg_test_next(void) { // splitmix64
  uint64_t z = (T.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float dg_test_uniform(float lo, float hi) { return lo + (hi - lo) * (float)((dg_test_next() >> 40) / 16777216.0); }

float dg_test_normal(void) {
  double u1 = ((dg_test_next() >> 11) + 1.0) / 9007199254740993.0, u2 = (dg_test_next() >> 11) / 9007199254740992.0;
  return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

int dg_test_int(int lo, int hi) { return lo + (int)(dg_test_next() % (uint64_t)(hi - lo + 1)); }

static dg_tensor alloc_or_die(dg_dtype dtype, int ndim, const int64_t *shape) {
  dg_tensor t;
  if (dg_tensor_alloc(T.arena, dtype, ndim, shape, &t) != DG_OK) {
    printf("allocation failed: %s\n", dg_last_error());
    exit(1);
  }
  return t;
}

dg_tensor dg_test_tensor(dg_dtype dtype, int ndim, const int64_t *shape, float lo, float hi, float **host) {
  dg_tensor t = alloc_or_die(dtype, ndim, shape);
  int64_t n = dg_tensor_numel(&t);
  float *v = malloc((size_t)n * sizeof *v);
  for (int64_t i = 0; i < n; i++)
    v[i] = dg_test_uniform(lo, hi);
  dg_tensor_write_f32(&t, v);
  if (host) {
    dg_tensor_read_f32(&t, v); // the values as stored
    *host = v;
  } else {
    free(v);
  }
  return t;
}

dg_tensor dg_test_poisoned(dg_dtype dtype, int ndim, const int64_t *shape) {
  dg_tensor t = alloc_or_die(dtype, ndim, shape);
  dg_tensor_fill_f32(&t, NAN);
  return t;
}

float *dg_test_read(const dg_tensor *t) {
  float *v = malloc((size_t)dg_tensor_numel(t) * sizeof *v);
  dg_tensor_read_f32(t, v);
  return v;
}

double dg_test_rel_err(const float *got, const float *want, int64_t n) {
  double max_diff = 0, max_want = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= max_diff)) max_diff = isnan(d) ? INFINITY : d;
    if (fabs(want[i]) > max_want) max_want = fabs(want[i]);
  }
  return max_diff / (max_want > 1e-30 ? max_want : 1e-30);
}

bool dg_test_close(const char *what, const float *got, const float *want, int64_t n, double tol) {
  double e = dg_test_rel_err(got, want, n);
  bool ok = dg_check(e < tol, "%s: relative error %.3g >= %.3g", what, e, tol);
  if (ok && getenv("DG_TEST_VERBOSE")) printf("ok: %s (rel err %.3g)\n", what, e);
  return ok;
}

bool dg_test_ok(dg_status s, const char *what) {
  if (s == DG_OK) s = dg_stream_finish(T.stream);
  return dg_check_status(s, what);
}

double dg_test_tolerance(dg_dtype dtype) { return dtype == DG_F16 ? 1e-2 : 1e-4; }
