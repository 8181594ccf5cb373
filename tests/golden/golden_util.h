// Fixture access for the golden tests: tensors of a fixture .safetensors as host f32 arrays
// (I64 timesteps/labels converted) or device tensors.
#pragma once
#include "dg_nn.h"
#include "dg_safetensors.h"

extern const char *golden_dir;

// Starts a golden test program: golden_dir from argv[1] when given, then dg_test_init(name).
void golden_init(int argc, char **argv, const char *name);
dg_safetensors *golden_open(const char *file);
// The model store golden_dir/file, opened as a counted check; NULL when that fails.
dg_weights *golden_weights(const char *file);
// Host copy as f32 (F32/F16/I64 sources); *numel gets the element count. Caller frees.
float *golden_read(const dg_safetensors *st, const char *name, int64_t *numel);
// Device tensor of the stored shape in dtype, from the test arena.
dg_tensor golden_tensor(const dg_safetensors *st, const char *name, dg_dtype dtype);
// Compares a device tensor with a fixture tensor; tolerance by dtype (1e-4 f32, 1e-2 f16). Returns the error.
double golden_check(const char *what, const dg_tensor *got, const dg_safetensors *st, const char *name, dg_dtype dtype);
double golden_check_host(const char *what, const float *got, const dg_safetensors *st, const char *name, double tol);
