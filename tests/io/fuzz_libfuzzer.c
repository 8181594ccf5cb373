// libFuzzer entry point for the render/io parsers (coverage-guided, complements the deterministic
// fuzz_io test). Built only with clang:
//   CC=clang-14 meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false
//   ninja -C build-fuzz tests/io/fuzz_io_libfuzzer
//   mkdir /tmp/corpus && cp tests/io/data/*.safetensors /tmp/corpus   # libFuzzer adds inputs to it
//   build-fuzz/tests/io/fuzz_io_libfuzzer -max_total_time=150 /tmp/corpus
// The first byte picks the target: even = safetensors image, odd = JSON text (the rest of the input).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dg_json.h"
#include "dg_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  // Seeds from tests/io/data are raw safetensors files; their first byte (low byte of the header
  // length) is then both the selector and part of the input.
  if ((data[0] & 1) == 0) {
    dg_safetensors *st = NULL;
    if (dg_safetensors_open_memory(data, size, "fuzz", &st) == DG_OK) {
      for (size_t i = 0; i < dg_safetensors_count(st); i++) {
        const dg_st_tensor *t = dg_safetensors_tensor(st, i);
        if (t->end < t->begin || t->end > size || dg_safetensors_find(st, t->name) != t) abort();
        size_t need = (size_t)t->numel * 4;
        if (need > (16u << 20)) continue;
        void *buf = malloc(need ? need : 1);
        dg_safetensors_read(st, t, DG_F32, buf, need);
        dg_safetensors_read(st, t, DG_F16, buf, need);
        free(buf);
      }
      dg_safetensors_close(st);
    } else if (!dg_last_error()[0])
      abort();
  } else {
    dg_json *doc = NULL;
    if (dg_json_parse((const char *)data + 1, size - 1, "fuzz", 0, 0, &doc) == DG_OK)
      dg_json_free(doc);
    else if (!dg_last_error()[0] || doc)
      abort();
  }
  return 0;
}
