#include "golden_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_test.h"

const char *golden_dir = ".";

void golden_init(int argc, char **argv, const char *name) {
  if (argc > 1) golden_dir = argv[1];
  dg_test_init(name);
}

dg_weights *golden_weights(const char *file) {
  char path[1024], what[1100];
  snprintf(path, sizeof path, "%s/%s", golden_dir, file);
  snprintf(what, sizeof what, "open %s", file);
  dg_weights *w = NULL;
  return dg_test_ok(dg_weights_open(path, &w), what) ? w : NULL;
}

dg_safetensors *golden_open(const char *file) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", golden_dir, file);
  dg_safetensors *st = NULL;
  if (dg_safetensors_open(path, &st) != DG_OK) {
    fprintf(stderr, "cannot open %s: %s\n", path, dg_last_error());
    exit(1);
  }
  return st;
}

float *golden_read(const dg_safetensors *st, const char *name, int64_t *numel) {
  const dg_st_tensor *t = dg_safetensors_find(st, name);
  if (!t) {
    fprintf(stderr, "fixture %s has no tensor %s\n", dg_safetensors_path(st), name);
    exit(1);
  }
  float *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *out);
  if (t->dtype == DG_ST_I64) {
    const unsigned char *raw = dg_safetensors_data(st, t);
    for (int64_t i = 0; i < t->numel; i++) {
      int64_t v;
      memcpy(&v, raw + 8 * i, 8);
      out[i] = (float)v;
    }
  } else if (dg_safetensors_read(st, t, DG_F32, out, (size_t)t->numel * sizeof *out) != DG_OK) {
    fprintf(stderr, "%s: %s\n", name, dg_last_error());
    exit(1);
  }
  if (numel) *numel = t->numel;
  return out;
}

dg_tensor golden_tensor(const dg_safetensors *st, const char *name, dg_dtype dtype) {
  dg_tensor t;
  if (dg_safetensors_load(st, name, T.arena, dtype, &t) != DG_OK) {
    fprintf(stderr, "%s: %s\n", name, dg_last_error());
    exit(1);
  }
  return t;
}

double golden_check_host(const char *what, const float *got, const dg_safetensors *st, const char *name, double tol) {
  int64_t n;
  float *want = golden_read(st, name, &n);
  double err = dg_test_rel_err(got, want, n);
  printf("  %-48s rel err %.3g (tol %.0e)\n", what, err, tol);
  dg_test_close(what, got, want, n, tol);
  free(want);
  return err;
}

double golden_check(const char *what, const dg_tensor *got, const dg_safetensors *st, const char *name,
                    dg_dtype dtype) {
  const dg_st_tensor *t = dg_safetensors_find(st, name);
  if (!t || t->numel != dg_tensor_numel(got)) {
    dg_check(false, "%s: fixture %s missing or of another size", what, name);
    return 1e9;
  }
  float *g = dg_test_read(got);
  char w[160];
  snprintf(w, sizeof w, "%s %s", what, dg_dtype_name(dtype));
  double err = golden_check_host(w, g, st, name, dg_test_tolerance(dtype));
  free(g);
  return err;
}
