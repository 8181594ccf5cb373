// Palette files (assets/palettes/*.json, dg_palette_parse): a palette that parses has dense ids, a
// name and a colour for every class, and finds each class by id and (the first of equal colours) by
// colour.
#include <string.h>

#include "dg_palette.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_status s;
  dg_clear_error();
  dg_palette *p = dg_palette_parse((const char *)data, (long)size, &s);
  if (!p) {
    fuzz_expect_error(s, "dg_palette_parse");
    return 0;
  }
  int n = dg_palette_count(p);
  if (n < 1 || n > 255) fuzz_fail("%d classes", n);
  for (int i = 0; i < n; i++) {
    const dg_palette_class *c = dg_palette_class_at(p, i);
    if (!c || c->id != i || !c->name || dg_palette_find(p, i) != c || dg_palette_name(p, i) != c->name)
      fuzz_fail("class %d", i);
    uint8_t rgb[3];
    dg_palette_color(p, i, rgb);
    int found = dg_palette_lookup_rgb(p, rgb);
    if (found < 0 || found > i || memcmp(dg_palette_class_at(p, found)->rgb, rgb, 3)) fuzz_fail("colour of class %d", i);
  }
  uint8_t rgb[3];
  dg_palette_color(p, 255, rgb);
  dg_palette_name(p, 255);
  dg_palette_free(p);
  return 0;
}
