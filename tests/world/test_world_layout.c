// dg_world_random_labels, the editor's random layouts: the very label map dg_world_render gives the
// seed's scene (shading skipped), deterministic, different across seeds, any size the world renders,
// and a clear error for sizes it does not.
#include <stdlib.h>
#include <string.h>

#include "dg_world.h"
#include "world_test.h"

// Label map of the full (shaded) rendering of seed's scene, as the dataset writer makes it.
static bool full_render_labels(uint64_t seed, int w, int h, uint8_t *label) {
  static dg_world_scene s;
  uint8_t *rgb = malloc((size_t)w * h * 3);
  dg_status st = dg_world_generate(seed, w, h, dg_world_style_random(seed), &s);
  if (st == DG_OK) st = dg_world_render(&s, rgb, label, NULL);
  free(rgb);
  return st == DG_OK;
}

static void test_sizes(void) {
  const int sizes[][2] = {{256, 128}, {96, 48}, {16, 16}, {200, 333}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    int w = sizes[k][0], h = sizes[k][1];
    size_t n = (size_t)w * h;
    uint8_t *a = malloc(n), *b = malloc(n), *full = malloc(n);
    memset(a, 0xee, n);
    for (uint64_t seed = 1; seed <= 3; seed++) {
      dg_check_status(dg_world_random_labels(seed, w, h, a), "random labels");
      dg_check_status(dg_world_random_labels(seed, w, h, b), "random labels again");
      dg_check(!memcmp(a, b, n), "%dx%d seed %llu: the same map twice", w, h, (unsigned long long)seed);
      dg_check(full_render_labels(seed, w, h, full) && !memcmp(a, full, n),
               "%dx%d seed %llu: equals the label map of the shaded rendering", w, h, (unsigned long long)seed);
      int64_t counts[256] = {0};
      for (size_t i = 0; i < n; i++)
        counts[a[i]]++;
      int classes = 0;
      bool valid = true;
      for (int c = 0; c < 256; c++) {
        if (counts[c] && c >= DG_WORLD_NUM_CLASSES && c != DG_WORLD_UNLABELLED) valid = false;
        classes += counts[c] > 0;
      }
      dg_check(valid, "%dx%d seed %llu: only world classes", w, h, (unsigned long long)seed);
      // At 16x16 buildings may hide the sky.
      dg_check((counts[DG_WORLD_SKY] > 0 || h < 48) && classes >= 3, "%dx%d seed %llu: a scene (sky: %lld px, %d classes)",
               w, h, (unsigned long long)seed, (long long)counts[DG_WORLD_SKY], classes);
    }
    dg_check_status(dg_world_random_labels(4, w, h, b), "random labels seed 4");
    dg_check(memcmp(a, b, n) != 0, "%dx%d: seeds 3 and 4 differ", w, h);
    free(a), free(b), free(full);
  }
}

static void test_errors(void) {
  uint8_t small[15 * 64];
  dg_check_error(dg_world_random_labels(1, 64, 15, small), DG_ERR_ARG, "16..8192", "15 rows: too small");
  dg_check_error(dg_world_random_labels(1, 0, 0, small), DG_ERR_ARG, "16..8192", "0x0");
  dg_check_error(dg_world_random_labels(1, 64, 64, NULL), DG_ERR_ARG, "null", "no output");
}

int main(void) {
  test_sizes();
  test_errors();
  return dg_check_finish("test_world_layout");
}
