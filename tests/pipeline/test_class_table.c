// The ALDM class table computed by the engine (dg_model_options.class_names, for a ControlNet that
// stores none) equals the one tools/train computed with PyTorch and stored in the shipped ControlNet:
// the pooled text-encoder output of "a photo of {class}" per world class, the empty prompt's last.
// usage: test_class_table MODEL_DIR STRIPPED_CONTROL.safetensors TOKENIZER_DIR (the stripped file: the
// model's ControlNet without its table)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_model_set.h"
#include "dg_palette.h"
#include "dg_palette_choice.h"
#include "dg_test.h"

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  dg_test_init("test_class_table");
  dg_status s;
  dg_palette *world = dg_palette_load_named("world", &s);
  if (!dg_test_ok(s, "world palette")) return dg_test_finish();
  const char **names = dg_palette_class_names(world);
  dg_model_set *stored = NULL, *computed = NULL, *none = NULL;
  dg_model_options a = {.dtype = DG_F32, .tokenizer_dir = argv[3]};
  dg_model_options b = {.dtype = DG_F32, .tokenizer_dir = argv[3], .control = argv[2], .class_names = names,
                        .n_class_names = 14};
  dg_model_options c = {.dtype = DG_F32, .tokenizer_dir = argv[3], .control = argv[2]};
  if (dg_test_ok(dg_model_set_open(T.device, argv[1], &a, &stored), "open with the stored table") &&
      dg_test_ok(dg_model_set_open(T.device, argv[1], &b, &computed), "open with class names")) {
    int n1, d1, n2, d2;
    const float *t1 = dg_model_set_class_table(stored, &n1, &d1), *t2 = dg_model_set_class_table(computed, &n2, &d2);
    dg_check(t1 && t2 && n1 == 14 && n2 == 14 && d1 == d2, "both tables [15, dim]");
    if (t1 && t2 && n1 == n2 && d1 == d2) {
      // The stored table is f16: compare within its rounding, and check the rows are not all alike.
      dg_test_close("computed class table vs PyTorch's", t2, t1, (int64_t)(n1 + 1) * d1, 2e-3);
      double diff = 0;
      for (int i = 0; i < d1; i++) diff += fabs(t2[i] - t2[(size_t)n1 * d1 + i]);
      dg_check(diff > 1e-2, "the sky row differs from the null row (%g)", diff);
    }
  }
  // Without names nothing is computed; a layout then fails naming the cause (dg_generate).
  if (dg_test_ok(dg_model_set_open(T.device, argv[1], &c, &none), "open without names")) {
    int n, d;
    dg_check(!dg_model_set_class_table(none, &n, &d), "no table without names");
  }
  dg_model_set_close(stored);
  dg_model_set_close(computed);
  dg_model_set_close(none);
  free(names);
  dg_palette_free(world);
  return dg_test_finish();
}
