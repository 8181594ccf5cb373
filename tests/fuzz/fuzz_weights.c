// The model store (dg_weights_open of a checkpoint file, dg_weights_detect) without a device: the
// name maps of every layout (LDM, diffusers, CLIP text, ControlNet, ...) and the detection of models
// and their configuration from tensor shapes. The input is the safetensors header (its JSON text);
// the harness adds the length field and a zero-filled data section as long as the largest offset in
// it (sparse, up to 256 MiB), so that the fuzzer spends its mutations on names and shapes. An input
// that starts like a PyTorch zip or pickle checkpoint is written as it is, to model.ckpt (read by
// dg_ckpt, or refused; fuzz_ckpt covers that reader in depth).
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "dg_json.h"
#include "dg_weights.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

// The largest data offset in the header (0 if it does not parse).
static uint64_t data_end(const uint8_t *data, size_t size) {
  dg_json *doc;
  uint64_t end = 0;
  if (dg_json_parse((const char *)data, size, "header", 8, 0, &doc) != DG_OK) return 0;
  const dg_json_value *root = dg_json_root(doc);
  for (size_t i = 0; root->type == DG_JSON_OBJECT && i < root->count; i++) {
    const dg_json_value *off = dg_json_get(root->members[i].value, "data_offsets");
    for (size_t k = 0; off && off->type == DG_JSON_ARRAY && k < off->count; k++)
      if (off->items[k]->is_uint && off->items[k]->uint > end && off->items[k]->uint <= (256u << 20))
        end = off->items[k]->uint;
  }
  dg_json_free(doc);
  return end;
}

static char *write_checkpoint(const uint8_t *data, size_t size) {
  if ((size >= 4 && !memcmp(data, "PK\x03\x04", 4)) || (size >= 2 && data[0] == 0x80))
    return fuzz_write("model.ckpt", data, size);
  char *path = fuzz_path("model.safetensors");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  uint64_t n = size;
  if (fd < 0 || write(fd, &n, 8) != 8 || (size && write(fd, data, size) != (ssize_t)size) ||
      ftruncate(fd, (off_t)(8 + size + data_end(data, size))) != 0 || close(fd) != 0)
    fuzz_fail("cannot write %s", path);
  return path;
}

static void exercise(const dg_weights *w) {
  dg_weights_layout(w);
  dg_weights_tokenizer_dir(w);
  dg_weights_metadata(w, "config");
  size_t count = dg_weights_count(w);
  for (size_t i = 0; i < count; i++) {
    const dg_weight *t = dg_weights_at(w, i);
    if (!t || dg_weights_find(w, t->name) != t || !dg_weights_has_prefix(w, t->name))
      fuzz_fail("tensor %zu ('%s') is not found by name", i, t ? t->name : "(null)");
    if (i > 0 && strcmp(dg_weights_at(w, i - 1)->name, t->name) >= 0) fuzz_fail("tensors out of order at %zu", i);
    if (i >= 4 || t->numel > (1 << 16)) continue; // conversions of any size: fuzz_safetensors
    size_t bytes = (size_t)t->numel * 4;
    void *buf = malloc(bytes ? bytes : 1);
    dg_clear_error();
    dg_status s = dg_weights_read(w, t, i % 2 ? DG_F16 : DG_F32, buf, bytes);
    if (s != DG_OK) fuzz_expect_error(s, "dg_weights_read");
    free(buf);
  }
  dg_weights_findf(w, DG_LDM_UNET "input_blocks.%d.0.op.weight", 3);
  dg_model_info info;
  dg_clear_error();
  dg_status s = dg_weights_detect(w, &info);
  if (s != DG_OK) fuzz_expect_error(s, "dg_weights_detect");
  else if (!info.parts) fuzz_fail("a detection without a part");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *path = write_checkpoint(data, size);
  dg_weights *w = NULL;
  dg_clear_error();
  dg_status s = dg_weights_open(path, &w);
  if (s == DG_OK) {
    exercise(w);
    dg_weights_close(w);
  } else {
    fuzz_expect_error(s, "dg_weights_open");
    if (w) fuzz_fail("a failed open returned a store");
  }
  g_free(path);
  return 0;
}
