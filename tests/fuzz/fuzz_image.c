// Images from outside as stylize, the style panel and the layout import read them (app/image/dg_image: a PNG
// or a JPEG by its first bytes), as RGB and as RGBA, and a decoded image through the layout reader by colour
// (app/dg_layout_read, the world palette).
#include <stdlib.h>
#include <string.h>

#include "dg_image.h"
#include "dg_layout_read.h"
#include "fuzz_util.h"

static dg_palette *world;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  dg_status s;
  if (!(world = dg_palette_load_named("world", &s))) fuzz_fail("the world palette: %s", dg_last_error());
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_png_limits lim = {.max_side = 1024}; // as a style exemplar is read, smaller: fast iterations
  for (int channels = 3; channels <= 4; channels++) {
    int w = 0, h = 0;
    uint8_t *px = NULL;
    dg_clear_error();
    dg_status s = dg_image_read_mem(data, size, "fuzz.img", channels, &lim, &w, &h, &px);
    if (s != DG_OK) {
      fuzz_expect_error(s, "dg_image_read_mem");
      if (px) fuzz_fail("pixels returned with an error");
      continue;
    }
    if (w < 1 || h < 1 || w > lim.max_side || h > lim.max_side) fuzz_fail("size %dx%d", w, h);
    volatile uint8_t last = px[(size_t)w * h * channels - 1]; // the buffer holds the whole image
    (void)last;
    if (channels == 4) {
      uint8_t *ids = NULL;
      dg_layout_read_report rep;
      dg_clear_error();
      s = dg_layout_from_rgba("fuzz.img", world, px, w, h, &ids, &rep);
      if (s != DG_OK) fuzz_expect_error(s, "dg_layout_from_rgba");
      for (size_t i = 0; s == DG_OK && i < (size_t)w * h; i++)
        if (ids[i] >= dg_palette_count(world) && ids[i] != DG_UNLABELLED) fuzz_fail("pixel %zu: id %d", i, ids[i]);
      free(ids);
    }
    free(px);
  }
  return 0;
}
