// The generation parameters of a PNG (dg_generation_png_read, the editor's "open a generated image"
// and the CLI): the `dirigent` JSON chunk, else the A1111 `parameters` chunk, from a file. Chunk CRCs
// are recomputed first so that mutations get past libpng's checksum test.
#include <stdlib.h>

#include <glib.h>

#include "dg_generation_png.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *png = fuzz_png_fix_crcs(data, size);
  char *path = fuzz_write("generated.png", png, size);
  free(png);
  dg_generation_info info;
  dg_clear_error();
  dg_status s = dg_generation_png_read(path, &info);
  if (s == DG_OK) {
    if (!info.prompt || !info.negative || !info.sampler || !info.model || !info.layout || !info.marks)
      fuzz_fail("a read without all of its strings");
    if (info.steps < 1 || info.steps > 1000 || !(info.cfg >= 0 && info.cfg <= 100))
      fuzz_fail("steps %d, guidance %g accepted", info.steps, info.cfg);
    if ((unsigned)info.guidance > DG_GUIDANCE_DIVIDE_BIND)
      fuzz_fail("attention guidance %d accepted", (int)info.guidance);
    dg_generation_info_clear(&info);
  } else
    fuzz_expect_error(s, "dg_generation_png_read");
  g_free(path);
  return 0;
}
