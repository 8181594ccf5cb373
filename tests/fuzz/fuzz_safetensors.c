// The safetensors reader on a file image in memory (dg_safetensors_open_memory): every tensor the
// reader accepts lies inside the data, is found by name and converts to f32 and f16 (or is refused
// with a message); metadata entries are found by key.
#include <stdlib.h>
#include <string.h>

#include "dg_safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_safetensors *st = NULL;
  dg_clear_error();
  dg_status s = dg_safetensors_open_memory(data, size, "fuzz", &st);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_safetensors_open_memory");
    if (st) fuzz_fail("a failed open returned a handle");
    return 0;
  }
  size_t data_size = size - 8; // at least the length field is there
  uint64_t header;
  memcpy(&header, data, 8);
  data_size -= (size_t)header;
  for (size_t i = 0; i < dg_safetensors_count(st); i++) {
    const dg_st_tensor *t = dg_safetensors_tensor(st, i);
    if (t->end < t->begin || t->end > data_size || dg_safetensors_find(st, t->name) != t)
      fuzz_fail("tensor '%s' at [%llu, %llu) of %zu data bytes", t->name, (unsigned long long)t->begin,
                (unsigned long long)t->end, data_size);
    if ((uint64_t)t->numel * dg_st_dtype_size(t->dtype) != t->end - t->begin)
      fuzz_fail("tensor '%s': %lld elements in %llu bytes", t->name, (long long)t->numel,
                (unsigned long long)(t->end - t->begin));
    size_t need = (size_t)t->numel * 4;
    if (need > (16u << 20)) continue;
    void *buf = malloc(need ? need : 1);
    for (int f16 = 0; f16 < 2; f16++) {
      dg_clear_error();
      s = dg_safetensors_read(st, t, f16 ? DG_F16 : DG_F32, buf, need);
      if (s != DG_OK) fuzz_expect_error(s, "dg_safetensors_read");
    }
    free(buf);
  }
  for (size_t i = 0; i < dg_safetensors_metadata_count(st); i++) {
    const char *k, *v;
    dg_safetensors_metadata_at(st, i, &k, &v);
    if (!k || !v || !dg_safetensors_metadata(st, k)) fuzz_fail("metadata entry %zu", i);
  }
  dg_safetensors_close(st);
  return 0;
}
