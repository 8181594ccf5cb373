// A model's configuration JSON: the file PATH.json beside PATH.safetensors (how tools/train exports
// its models; also beside a PyTorch checkpoint PATH.ckpt, .pt, .pth or .bin), or else the weights file's `__metadata__["config"]` (the order of
// tools/train/dgtrain/exports.load_json_beside). Values are looked up by dotted paths ("image.groups"); a
// present value of the wrong type, or a number outside its range or not whole where it must be, is an
// error naming the source, the key and the value. An unparsable configuration is an error naming its file.
#pragma once
#include <stdbool.h>

#include "dg_json.h"
#include "dg_weights.h"

typedef struct dg_model_config {
  dg_json *doc;
  const dg_json_value *root; // an object
  char source[1024];         // the JSON file, or "WEIGHTS (metadata)"
} dg_model_config;

// Neither place holding a configuration is an error naming both.
dg_status dg_model_config_load(const char *weights_path, const dg_weights *w, dg_model_config *out);
// For models that may come without one (an SD 1.5 single file, a diffusers folder): the same, except
// that a missing configuration gives an empty one (root NULL: every value its default; source the
// weights path). The JSON beside is looked for only when weights_path is a regular file.
dg_status dg_model_config_load_optional(const char *weights_path, const dg_weights *w, dg_model_config *out);
void dg_model_config_free(dg_model_config *c);

// The value at `path` (NULL if absent).
const dg_json_value *dg_model_config_get(const dg_model_config *c, const char *path);
// A whole number in lo..hi, `def` when absent.
dg_status dg_model_config_int(const dg_model_config *c, const char *path, int def, int lo, int hi, int *out);
// An array of up to `max` whole numbers in lo..hi, `def` (n_def values) when absent; *n receives the count.
dg_status dg_model_config_ints(const dg_model_config *c, const char *path, const int *def, int n_def, int max, int lo,
                               int hi, int *out, int *n);
// A finite number in lo..hi, `def` when absent.
dg_status dg_model_config_number(const dg_model_config *c, const char *path, double def, double lo, double hi,
                                 double *out);
// A string, `def` when absent (points into the configuration).
dg_status dg_model_config_string(const dg_model_config *c, const char *path, const char *def, const char **out);
