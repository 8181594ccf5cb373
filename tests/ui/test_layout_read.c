// Layouts as painting programs write them (dg_layout_read): exact class colours, anti-aliased edges,
// compression noise, soft alpha, another shipped palette, and images that are no layout at all.
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_layout_read.h"
#include "dg_palette.h"
#include "dg_png.h"

#define W 64
#define H 32
#define S 4 // the supersampling of the anti-aliased layout

static dg_palette *load(const char *name) {
  dg_status s;
  dg_palette *p = dg_palette_load_named(name, &s);
  dg_check(p != NULL, "load %s", name);
  return p;
}

static int id_of(const dg_palette *p, const char *name) {
  int id = dg_palette_find_name(p, name);
  dg_check(id >= 0, "%s has %s", dg_palette_title(p), name);
  return id;
}

// The scene at (x, y) of a w x h canvas: sky over a road, a car, a pole (2 wide at W x H), a sign.
static const char *scene_class(int x, int y, int w, int h) {
  double u = (x + 0.5) / w * W, v = (y + 0.5) / h * H;
  if (u >= 40 && u < 42 && v >= 6 && v < 22) return "pole";
  if (u >= 43 && u < 49 && v >= 6 && v < 10) return "sign";
  if (u >= 12 && u < 30 && v >= 14 && v < 24) return "car";
  return v < 16 + 0.15 * (u - 32) ? "sky" : "road";
}

static void scene_ids(const dg_palette *p, uint8_t *ids) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      ids[y * W + x] = (uint8_t)id_of(p, scene_class(x, y, W, H));
}

// The scene painted with anti-aliasing: rendered S x S finer in `p`'s colours and box-filtered down.
static void scene_antialiased(const dg_palette *p, const char *const *names_in_p, uint8_t *rgba) {
  const char *world_names[] = {"sky", "road", "car", "pole", "sign"};
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int sum[3] = {0};
      for (int sy = 0; sy < S; sy++)
        for (int sx = 0; sx < S; sx++) {
          const char *c = scene_class(x * S + sx, y * S + sy, W * S, H * S);
          for (int k = 0; k < 5; k++)
            if (!strcmp(c, world_names[k])) c = names_in_p[k];
          uint8_t rgb[3];
          dg_palette_color(p, id_of(p, c), rgb);
          for (int ch = 0; ch < 3; ch++)
            sum[ch] += rgb[ch];
        }
      for (int ch = 0; ch < 3; ch++)
        rgba[4 * (y * W + x) + ch] = (uint8_t)((sum[ch] + S * S / 2) / (S * S));
      rgba[4 * (y * W + x) + 3] = 255;
    }
}

// Every pixel got its true class, or (where the truth changes within its 3x3) one of its neighbours'.
static void expect_near_truth(const char *what, const uint8_t *ids, const uint8_t *truth, int *interior_wrong,
                              int *edge_other) {
  *interior_wrong = *edge_other = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int i = y * W + x, edge = 0, seen = ids[i] == truth[i];
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= W || ny >= H) continue;
          edge |= truth[ny * W + nx] != truth[i];
          seen |= truth[ny * W + nx] == ids[i];
        }
      if (!edge) *interior_wrong += ids[i] != truth[i];
      else *edge_other += !seen;
    }
  dg_check(*interior_wrong == 0 && *edge_other == 0, "%s: %d interior pixels wrong, %d edge pixels of a class not there",
           what, *interior_wrong, *edge_other);
}

// The scene in exact world colours, opaque; *truth its ids.
static void scene_exact(const dg_palette *world, uint8_t *truth, uint8_t *rgba) {
  scene_ids(world, truth);
  for (int i = 0; i < W * H; i++) {
    dg_palette_color(world, truth[i], rgba + 4 * i);
    rgba[4 * i + 3] = 255;
  }
}

static void test_exact(const dg_palette *world) {
  uint8_t truth[W * H], rgba[4 * W * H], *ids;
  scene_exact(world, truth, rgba);
  dg_layout_read_report r;
  dg_check(dg_layout_from_rgba("exact", world, rgba, W, H, &ids, &r) == DG_OK, "exact layout read");
  dg_check(!memcmp(ids, truth, sizeof truth), "exact layout: every id");
  dg_check(r.snapped == 0 && r.filled == 0 && !strcmp(r.painted_in, "world"), "exact: nothing snapped (%zu, %zu) %s",
           r.snapped, r.filled, r.painted_in);
  char line[1600];
  dg_layout_read_summary(&r, world, line, sizeof line);
  dg_check(line[0] == 0, "exact: no summary ('%s')", line);
  free(ids);
}

// The scene painted anti-aliased in `painted`'s colours (its names for sky, road, car, pole, sign) and read
// for the world palette: every pixel its class or, on an edge, a neighbour's. *truth: the world ids.
static uint8_t *read_antialiased(const dg_palette *world, const dg_palette *painted, const char *const *names,
                                 const char *file, uint8_t *truth, uint8_t *rgba, dg_layout_read_report *r) {
  uint8_t *ids = NULL;
  scene_ids(world, truth);
  scene_antialiased(painted, names, rgba);
  dg_check(dg_layout_from_rgba(file, world, rgba, W, H, &ids, r) == DG_OK, "%s read: %s", file, dg_last_error());
  int wrong, other;
  if (ids) expect_near_truth(file, ids, truth, &wrong, &other);
  return ids;
}

static void test_antialiased(const dg_palette *world) {
  const char *same[] = {"sky", "road", "car", "pole", "sign"};
  uint8_t truth[W * H], rgba[4 * W * H];
  dg_layout_read_report r;
  uint8_t *ids = read_antialiased(world, world, same, "aa.png", truth, rgba, &r);
  if (!ids) return;
  int wrong, other;
  dg_check(r.filled > 20, "anti-aliased: blends along the edges filled from neighbours (%zu)", r.filled);
  int pole = 0;
  for (int i = 0; i < W * H; i++)
    pole += ids[i] == id_of(world, "pole");
  dg_check(pole >= 24, "anti-aliased: the 2-pixel pole kept (%d pixels)", pole);
  char line[1600];
  dg_layout_read_summary(&r, world, line, sizeof line);
  dg_check(strstr(line, "not exactly a class colour") && strstr(line, "from their neighbours"), "summary: %s", line);

  // The same with compression-like noise (up to +-6 per channel) on top, for a few noise seeds: the same classes.
  free(ids);
  uint8_t noisy[4 * W * H];
  for (int seed = 1; seed <= 12; seed++) {
    GRand *rand = g_rand_new_with_seed((guint32)seed);
    for (int i = 0; i < 4 * W * H; i++) {
      int v = rgba[i] + ((i & 3) == 3 ? 0 : g_rand_int_range(rand, -6, 7));
      noisy[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    g_rand_free(rand);
    dg_check(dg_layout_from_rgba("noisy.png", world, noisy, W, H, &ids, &r) == DG_OK, "noisy layout read: %s",
             dg_last_error());
    expect_near_truth("anti-aliased + noise", ids, truth, &wrong, &other);
    dg_check(r.snapped > W * H / 2, "noise: most pixels snapped (%zu)", r.snapped);
    free(ids);
  }

  // Written as an RGB PNG and read from the file as the CLI does: the same as from the pixels.
  char *dir = g_dir_make_tmp("dg-layout-XXXXXX", NULL), *path = g_build_filename(dir, "aa.png", NULL);
  scene_antialiased(world, same, rgba);
  dg_check(dg_png_write_atomic(path, W, H, rgba, 4, NULL) == DG_OK, "write %s", path);
  int w = 0, h = 0;
  dg_check(dg_layout_read_file(path, world, NULL, &w, &h, &ids, &r) == DG_OK && w == W && h == H, "read %s: %s", path,
           dg_last_error());
  expect_near_truth("anti-aliased PNG", ids, truth, &wrong, &other);
  free(ids);
  // An indexed PNG as Dirigent and the world write them: its ids, exactly.
  dg_png_palette pal;
  dg_palette_to_png(world, &pal);
  dg_check(dg_png_write_label(path, W, H, truth, &pal, NULL) == DG_OK, "write the indexed PNG");
  w = h = 0;
  dg_check(dg_layout_read_file(path, world, NULL, &w, &h, &ids, &r) == DG_OK && !memcmp(ids, truth, sizeof truth) &&
               r.snapped == 0 && r.filled == 0,
           "indexed PNG: its ids, nothing snapped");
  free(ids);
  g_unlink(path), g_rmdir(dir), g_free(path), g_free(dir);
}

static void test_alpha(const dg_palette *world) {
  uint8_t truth[W * H], rgba[4 * W * H], *ids;
  scene_exact(world, truth, rgba);
  rgba[4 * 5 + 3] = 200; // a soft brush's edge: its colour counts
  rgba[4 * 6 + 3] = 60;  // mostly transparent: unlabelled
  rgba[4 * 7 + 3] = 0;
  dg_layout_read_report r;
  dg_check(dg_layout_from_rgba("alpha.png", world, rgba, W, H, &ids, &r) == DG_OK, "soft alpha read");
  dg_check(ids[5] == truth[5] && ids[6] == DG_UNLABELLED && ids[7] == DG_UNLABELLED && ids[8] == truth[8],
           "alpha 200 keeps its class, 60 and 0 are unlabelled (%u %u %u)", ids[5], ids[6], ids[7]);
  dg_check(r.snapped == 2 && r.filled == 0, "the two partly transparent pixels are counted (%zu)", r.snapped);
  free(ids);
}

static void test_other_palette(const dg_palette *world) {
  dg_palette *ade = load("ade20k");
  const char *ade_names[] = {"sky", "road", "car", "pole", "signboard"};
  uint8_t truth[W * H], rgba[4 * W * H];
  dg_layout_read_report r;
  uint8_t *ids = read_antialiased(world, ade, ade_names, "ade.png", truth, rgba, &r);
  dg_check(!strcmp(r.painted_in, "ade20k"), "read as ade20k (%s)", r.painted_in);
  char line[1600];
  dg_layout_read_summary(&r, world, line, sizeof line);
  dg_check(strstr(line, "painted in ade20k colours, converted to world") != NULL, "summary: %s", line);
  free(ids);
  dg_palette_free(ade);
}

static void test_not_a_layout(const dg_palette *world) {
  // A smooth photo-like image: gradients and texture, few pixels near any palette's colours.
  uint8_t rgba[4 * W * H], *ids = (uint8_t *)"untouched";
  GRand *rand = g_rand_new_with_seed(9);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t *p = rgba + 4 * (y * W + x);
      p[0] = (uint8_t)(90 + x + g_rand_int_range(rand, 0, 20));
      p[1] = (uint8_t)(60 + 3 * y + g_rand_int_range(rand, 0, 20));
      p[2] = (uint8_t)(30 + x + y + g_rand_int_range(rand, 0, 20));
      p[3] = 255;
    }
  g_rand_free(rand);
  dg_layout_read_report r;
  dg_status s = dg_layout_from_rgba("photo.png", world, rgba, W, H, &ids, &r);
  dg_check(s == DG_ERR_FORMAT && ids == NULL, "a photo is refused");
  const char *e = dg_last_error();
  dg_check(strstr(e, "photo.png is not a colour-coded layout: pixel (0, 0) has colour") && strstr(e, "at least 75%"),
           "message names the file, a pixel and the rule: %s", e);
}

// Resampling: halving keeps every 2x2 block's majority (the 2-pixel pole included); doubling repeats pixels.
static void test_resize(const dg_palette *world) {
  uint8_t ids[W * H], half[W * H / 4], twice[4 * W * H];
  scene_ids(world, ids);
  dg_layout_resize(ids, W, H, half, W / 2, H / 2);
  int pole = id_of(world, "pole"), wrong = 0, poles = 0;
  for (int y = 0; y < H / 2; y++)
    for (int x = 0; x < W / 2; x++) {
      int c = half[y * (W / 2) + x], n = 0;
      for (int k = 0; k < 4; k++)
        n += ids[(2 * y + k / 2) * W + 2 * x + k % 2] == c;
      wrong += n < 2; // the majority (2 of 4 on a tie with the centre's class)
      poles += c == pole;
    }
  dg_check(wrong == 0 && poles >= 7, "halved: each pixel its block's majority (%d not), the pole kept (%d)", wrong, poles);
  dg_layout_resize(ids, W, H, twice, 2 * W, 2 * H);
  wrong = 0;
  for (int y = 0; y < 2 * H; y++)
    for (int x = 0; x < 2 * W; x++)
      wrong += twice[y * 2 * W + x] != ids[(y / 2) * W + x / 2];
  dg_check(wrong == 0, "doubled: every pixel its source pixel (%d not)", wrong);
}

int main(void) {
  dg_palette *world = load("world");
  test_exact(world);
  test_antialiased(world);
  test_alpha(world);
  test_other_palette(world);
  test_not_a_layout(world);
  test_resize(world);
  dg_palette_free(world);
  return dg_check_finish("layout_read");
}
