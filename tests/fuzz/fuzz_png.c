// PNG files as the editor and the CLI read them (app/image/dg_png): the strict label-map reader
// (with the world's palette), the RGB reader, a painted layout read by colour (app/dg_layout_read: the
// CLI's --layout, the editor's import) and the text chunks (tEXt, zTXt, iTXt) from a file. Chunk CRCs are recomputed first so that mutations get past libpng's checksum test.
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "dg_layout_read.h"
#include "dg_png.h"
#include "dg_world.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

static void check_image(dg_status s, const char *what, int w, int h, const uint8_t *pixels, int channels) {
  if (s != DG_OK) {
    fuzz_expect_error(s, what);
    return;
  }
  if (w < 1 || h < 1 || w > DG_PNG_MAX_SIDE || h > DG_PNG_MAX_SIDE) fuzz_fail("%s: size %dx%d", what, w, h);
  // Touch the last pixel: the buffer must hold the whole image.
  volatile uint8_t last = pixels[(size_t)w * h * channels - 1];
  (void)last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *png = fuzz_png_fix_crcs(data, size);
  int w = 0, h = 0;
  uint8_t *pixels = NULL;
  dg_clear_error();
  dg_status s = dg_png_read_label_mem(png, size, "fuzz.png", dg_world_palette(), &w, &h, &pixels);
  check_image(s, "dg_png_read_label_mem", w, h, pixels, 1);
  if (s == DG_OK)
    for (size_t i = 0; i < (size_t)w * h; i++)
      if (pixels[i] >= DG_WORLD_NUM_CLASSES && pixels[i] != DG_PNG_UNLABELLED)
        fuzz_fail("label map pixel %zu has class %d", i, pixels[i]);
  free(pixels);
  pixels = NULL;
  w = h = 0;
  dg_clear_error();
  s = dg_png_read_rgb8_mem(png, size, "fuzz.png", &w, &h, &pixels);
  check_image(s, "dg_png_read_rgb8_mem", w, h, pixels, 3);
  free(pixels);

  static dg_palette *world;
  if (!world && !(world = dg_palette_load_named("world", &s))) fuzz_fail("the world palette: %s", dg_last_error());
  char *path = fuzz_write("layout.png", png, size);
  uint8_t *ids = NULL;
  dg_layout_read_report rep;
  w = h = 0;
  dg_clear_error();
  s = dg_layout_read_file(path, world, NULL, &w, &h, &ids, &rep);
  check_image(s, "dg_layout_read_file", w, h, ids, 1);
  if (s == DG_OK) {
    for (size_t i = 0; i < (size_t)w * h; i++)
      if (ids[i] >= dg_palette_count(world) && ids[i] != DG_UNLABELLED) fuzz_fail("layout pixel %zu: id %d", i, ids[i]);
    if (rep.snapped + rep.filled > (size_t)w * h) fuzz_fail("%zu snapped + %zu filled pixels", rep.snapped, rep.filled);
  }
  free(ids);
  g_free(path);

  path = fuzz_write("texts.png", png, size);
  dg_png_text_list texts;
  dg_clear_error();
  s = dg_png_read_texts(path, &texts);
  if (s == DG_OK) {
    // Each chunk is either text (valid UTF-8, found by its key) or a named problem, never both or neither.
    for (int i = 0; i < texts.n; i++) {
      if (!texts.keys[i] || !texts.texts[i] == !texts.problems[i]) fuzz_fail("text chunk %d: text or problem", i);
      if (texts.texts[i] && (!g_utf8_validate(texts.texts[i], -1, NULL) || !dg_png_text_find(&texts, texts.keys[i])))
        fuzz_fail("text chunk %d: not UTF-8 or not found", i);
      if (texts.problems[i] && !dg_png_text_problem(&texts, texts.keys[i])) fuzz_fail("text chunk %d: problem lost", i);
    }
    dg_png_text_list_free(&texts);
  } else
    fuzz_expect_error(s, "dg_png_read_texts");
  g_free(path);
  free(png);
  return 0;
}
