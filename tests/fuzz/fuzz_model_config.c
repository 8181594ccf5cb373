// A model's configuration (dg_model_config_load) from both places it is read: MODEL.json beside the
// weights, and the weights file's `__metadata__["config"]` (the input as that JSON string, in a
// safetensors file of one tensor opened through the model store). Then the lookups the models make
// (render/models, render/pipelines): typed values at dotted paths, with defaults.
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "dg_model_config.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

// The keys the loaders read (dg_segmenter, dg_clip, dg_clip_image, dg_generate), and some odd paths.
static void lookups(const dg_model_config *c) {
  static const char *const ints[] = {"image.groups", "text.heads", "num_heads", "num_head_channels", "heads",
                                     "width", "in_channels", "model_channels", "a.b.c.d", "", ".", "image..groups"};
  static const char *const arrays[] = {"pool_scales", "channel_mult", "image.channels", "latent_shape"};
  static const char *const strings[] = {"norm", "act", "text_prefix", "tokenizer", "init.weights"};
  char long_path[300];
  memset(long_path, 'k', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = 0;
  dg_model_config_get(c, long_path);
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    int v;
    dg_clear_error();
    dg_status s = dg_model_config_int(c, ints[i], 7, -1, 1 << 20, &v);
    if (s == DG_OK && (v < -1 || v > 1 << 20)) fuzz_fail("'%s': %d out of range", ints[i], v);
    if (s != DG_OK) fuzz_expect_error(s, "dg_model_config_int");
  }
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
    static const int def[4] = {1, 2, 3, 6};
    int v[8], n = -1;
    dg_clear_error();
    dg_status s = dg_model_config_ints(c, arrays[i], def, 4, 8, 0, 1 << 16, v, &n);
    if (s != DG_OK) fuzz_expect_error(s, "dg_model_config_ints");
    else if (n < 0 || n > 8) fuzz_fail("'%s': %d values", arrays[i], n);
  }
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
    const char *v = NULL;
    dg_clear_error();
    dg_status s = dg_model_config_string(c, strings[i], "def", &v);
    if (s != DG_OK) fuzz_expect_error(s, "dg_model_config_string");
    else if (!v) fuzz_fail("'%s': no string", strings[i]);
  }
  double x;
  dg_clear_error();
  dg_status s = dg_model_config_number(c, "scale_factor", 0.18215, 1e-6, 1e6, &x);
  if (s != DG_OK) fuzz_expect_error(s, "dg_model_config_number");
  else if (!(x >= 1e-6 && x <= 1e6)) fuzz_fail("scale_factor %g out of range", x);
}

static void load(const char *weights_path, const dg_weights *w) {
  dg_model_config c;
  dg_clear_error();
  dg_status s = dg_model_config_load(weights_path, w, &c);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_model_config_load");
    return;
  }
  if (!c.root || c.root->type != DG_JSON_OBJECT) fuzz_fail("a configuration that is not an object");
  lookups(&c);
  dg_model_config_free(&c);
}

// A safetensors file with one f32 scalar and the input as its `config` metadata string.
static uint8_t *with_metadata(const uint8_t *data, size_t size, size_t *out_size) {
  GString *h = g_string_new("{\"__metadata__\":{\"config\":\"");
  for (size_t i = 0; i < size; i++) {
    uint8_t c = data[i];
    if (c == '"' || c == '\\') g_string_append_c(h, '\\'), g_string_append_c(h, (char)c);
    else if (c < 0x20 || c >= 0x80) g_string_append_printf(h, "\\u%04x", c); // bytes as U+0000..U+00FF
    else g_string_append_c(h, (char)c);
  }
  g_string_append(h, "\"},\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}");
  *out_size = 8 + h->len + 4;
  uint8_t *file = calloc(1, *out_size);
  uint64_t n = h->len;
  memcpy(file, &n, 8);
  memcpy(file + 8, h->str, h->len);
  g_string_free(h, TRUE);
  return file;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // MODEL.json beside MODEL.safetensors (which need not exist: the file beside is read first).
  g_free(fuzz_write("beside.json", data, size));
  char *beside = fuzz_path("beside.safetensors");
  load(beside, NULL);
  g_free(beside);

  size_t n;
  uint8_t *file = with_metadata(data, size, &n);
  char *path = fuzz_write("meta.safetensors", file, n);
  free(file);
  dg_weights *w = NULL;
  dg_clear_error();
  dg_status s = dg_weights_open(path, &w);
  if (s != DG_OK) fuzz_fail("the metadata file does not open: %s", dg_last_error());
  load(path, w);
  dg_weights_close(w);
  g_free(path);
  return 0;
}
