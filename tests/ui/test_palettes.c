// The shipped class palettes (assets/palettes: world, ADE20K-150, Cityscapes-19) against their
// sources, the palette that follows the model (dg_palette_choice), and layout conversion between
// palettes by class name (dg_palette_convert) with its unmatched classes; the CLI's `layout convert`
// is tested in tests/cli/test_layout.sh.
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_document.h"
#include "dg_project.h"
#include "dg_palette.h"
#include "dg_palette_choice.h"
#include "dg_palette_convert.h"

static dg_palette *load(const char *name) {
  dg_status s;
  dg_palette *p = dg_palette_load_named(name, &s);
  dg_check(s == DG_OK, "load %s: %s", name, s == DG_OK ? "ok" : dg_last_error());
  return p;
}

static void expect_class(const dg_palette *p, int id, const char *name, int r, int g, int b) {
  const dg_palette_class *c = dg_palette_class_at(p, id);
  dg_check(c && !strcmp(c->name, name) && c->rgb[0] == r && c->rgb[1] == g && c->rgb[2] == b,
           "%s %d: '%s' (%d, %d, %d), want '%s' (%d, %d, %d)", dg_palette_title(p), id, c ? c->name : "?",
           c ? c->rgb[0] : -1, c ? c->rgb[1] : -1, c ? c->rgb[2] : -1, name, r, g, b);
}

// Pairs of classes sharing a colour; `allowed` lists the one pair the source table has (or none).
static void expect_unique_colors(const dg_palette *p, int allowed_a, int allowed_b) {
  int dups = 0;
  for (int i = 0; i < dg_palette_count(p); i++)
    for (int j = i + 1; j < dg_palette_count(p); j++)
      if (!memcmp(dg_palette_class_at(p, i)->rgb, dg_palette_class_at(p, j)->rgb, 3)) {
        dg_check(i == allowed_a && j == allowed_b, "%s: classes %d and %d share a colour", dg_palette_title(p), i, j);
        dups++;
      }
  dg_check(dups == (allowed_a >= 0), "%s: %d shared colours", dg_palette_title(p), dups);
  uint8_t unl[3];
  dg_palette_color(p, DG_UNLABELLED, unl);
  dg_check(dg_palette_lookup_rgb(p, unl) == DG_UNLABELLED, "%s: the unlabelled colour is no class's",
           dg_palette_title(p));
}

static void test_files(void) {
  dg_palette *ade = load("ade20k"), *cs = load("cityscapes"), *world = load("world");
  if (!ade || !cs || !world) return;
  dg_check(dg_palette_count(ade) == 150 && dg_palette_count(cs) == 19 && dg_palette_count(world) == 14,
           "counts %d %d %d", dg_palette_count(ade), dg_palette_count(cs), dg_palette_count(world));
  // mmseg's ADE20KDataset table (docs/palettes.md); road and skyscraper share [140, 140, 140] there.
  expect_class(ade, 0, "wall", 120, 120, 120);
  expect_class(ade, 1, "building", 180, 120, 120);
  expect_class(ade, 2, "sky", 6, 230, 230);
  expect_class(ade, 4, "tree", 4, 200, 3);
  expect_class(ade, 6, "road", 140, 140, 140);
  expect_class(ade, 7, "bed", 204, 5, 255);
  expect_class(ade, 12, "person", 150, 5, 61);
  expect_class(ade, 20, "car", 0, 102, 200);
  expect_class(ade, 48, "skyscraper", 140, 140, 140);
  expect_class(ade, 93, "pole", 51, 0, 255);
  expect_class(ade, 136, "traffic light", 41, 0, 255);
  expect_class(ade, 149, "flag", 92, 0, 255);
  expect_unique_colors(ade, 6, 48);
  dg_check(dg_palette_lookup_rgb(ade, (const uint8_t[3]){140, 140, 140}) == 6, "the shared colour reads as road");
  // cityscapesScripts labels.py, train ids 0..18.
  expect_class(cs, 0, "road", 128, 64, 128);
  expect_class(cs, 2, "building", 70, 70, 70);
  expect_class(cs, 7, "traffic sign", 220, 220, 0);
  expect_class(cs, 8, "vegetation", 107, 142, 35);
  expect_class(cs, 10, "sky", 70, 130, 180);
  expect_class(cs, 13, "car", 0, 0, 142);
  expect_class(cs, 17, "motorcycle", 0, 0, 230);
  expect_class(cs, 18, "bicycle", 119, 11, 32);
  expect_unique_colors(cs, -1, -1);
  expect_unique_colors(world, -1, -1);
  dg_check(!strcmp(dg_palette_title(ade), "ade20k") && !strcmp(dg_palette_title(cs), "cityscapes"), "titles");
  dg_check(dg_palette_find_name(cs, " Traffic Sign ") == 7 && dg_palette_find_name(cs, "traffic") == -1,
           "names found case-insensitively, whole");
  dg_status s;
  dg_check(!dg_palette_load_named("ade", &s) && s == DG_ERR_ARG && strstr(dg_last_error(), "ade20k"),
           "an unknown name is refused, naming the choices");
  dg_palette_free(ade), dg_palette_free(cs), dg_palette_free(world);
}

static dg_palette *choose(bool present, bool id_hint, int table, char **names, int n, dg_status *s) {
  dg_model_control_info ci = {present, id_hint, table, names, n};
  char why[256] = "";
  dg_palette *p = dg_palette_for_control(&ci, why, sizeof why, s);
  dg_check(*s != DG_OK || *why, "a reason is given");
  return p;
}

static void expect_choice(const char *want, bool present, bool id_hint, int table, char **names, int n) {
  dg_status s;
  dg_palette *p = choose(present, id_hint, table, names, n, &s);
  dg_check(p && !strcmp(dg_palette_title(p), want), "chose %s, want %s", p ? dg_palette_title(p) : dg_last_error(),
           want);
  dg_palette_free(p);
}

static void test_choice(void) {
  expect_choice("world", false, false, -1, NULL, 0);
  expect_choice("ade20k", true, false, -1, NULL, 0);     // a stock colour segmentation ControlNet
  expect_choice("cityscapes", true, true, 19, NULL, 0);  // ALDM Cityscapes table
  expect_choice("ade20k", true, true, 150, NULL, 0);     // ALDM ADE20K table
  expect_choice("world", true, true, 14, NULL, 0);       // the shipped ControlNets' table
  char *world_names[] = {"sky", "cloud", "mountain", "water", "grass", "road", "sidewalk",
                         "building", "tree", "car", "person", "pole", "fence", "sign"};
  expect_choice("world", true, true, 14, world_names, 14); // names win; the shipped ControlNets store these
  char *cs_names[] = {"road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                      "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
                      "motorcycle", "bicycle"};
  expect_choice("cityscapes", true, false, -1, cs_names, 19); // names over the colour-hint default
  // Names of no shipped palette: a palette of them, colours taken by name where free, else generated.
  char *own[] = {"sky", "Car", "lava", "dragon"};
  dg_status s;
  dg_palette *p = choose(true, true, 4, own, 4, &s);
  if (dg_check(p != NULL, "a palette of the ControlNet's names")) {
    dg_check(dg_palette_count(p) == 4 && dg_palette_find_name(p, "dragon") == 3, "its classes");
    uint8_t sky[3], lava[3], dragon[3];
    dg_palette_color(p, 0, sky), dg_palette_color(p, 2, lava), dg_palette_color(p, 3, dragon);
    dg_check(sky[0] == 70 && sky[1] == 130 && sky[2] == 180, "sky's colour from the world palette");
    dg_check(memcmp(lava, dragon, 3) && memcmp(lava, sky, 3), "generated colours are distinct");
    dg_palette_free(p);
  }
  // An ALDM checkpoint without table or names (the real .ckpt files) cannot be told.
  dg_check(!choose(true, true, -1, NULL, 0, &s) && s == DG_ERR_ARG && strstr(dg_last_error(), "choose a palette"),
           "no table, no names: a palette must be chosen (%s)", dg_last_error());
  dg_check(!choose(true, true, 7, NULL, 0, &s) && strstr(dg_last_error(), "7 classes"), "an odd table size");
}

static void test_convert(void) {
  dg_palette *ade = load("ade20k"), *cs = load("cityscapes"), *world = load("world");
  if (!ade || !cs || !world) return;
  // world -> cityscapes: names, synonyms (tree -> vegetation, grass -> terrain, sign -> traffic sign,
  // cloud -> sky), and the unmatched (mountain, water).
  uint8_t ids[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, DG_UNLABELLED, 3, 200};
  dg_palette_conversion r;
  dg_palette_convert_ids(world, cs, ids, sizeof ids, &r);
  uint8_t want[] = {10, 10, DG_UNLABELLED, DG_UNLABELLED, 9, 0, 2, 8, 13, 11, 5, 7, DG_UNLABELLED, DG_UNLABELLED,
                    DG_UNLABELLED};
  dg_check(!memcmp(ids, want, sizeof ids), "world -> cityscapes ids");
  dg_check(r.unmatched_count == 3 && r.unmatched_pixels == 4 && !strcmp(r.unmatched, "mountain, water, id 200"),
           "unmatched: %d classes, %d pixels: '%s'", r.unmatched_count, r.unmatched_pixels, r.unmatched);
  // world -> ade20k: sign -> signboard, every other world class by name except cloud (-> sky).
  dg_palette_map m;
  dg_palette_map_make(world, ade, &m);
  dg_check(m.matched == 14, "all 14 world classes have an ADE20K class (%d)", m.matched);
  dg_check(m.to[13] == 43 && m.to[1] == 2 && m.to[3] == 21 && m.to[8] == 4, "sign -> signboard, cloud -> sky, "
           "water, tree");
  // ade20k -> cityscapes and back: rules of the target's labelling.
  dg_palette_map_make(ade, cs, &m);
  dg_check(m.to[4] == 8 && m.to[9] == 9 && m.to[43] == 7 && m.to[116] == 17 && m.to[87] == 5 && m.to[102] == 13,
           "tree -> vegetation, grass -> terrain, signboard -> traffic sign, minibike -> motorcycle, streetlight -> "
           "pole, van -> car");
  dg_check(m.to[7] == DG_UNLABELLED, "bed has no Cityscapes class");
  dg_palette_map_make(cs, ade, &m);
  dg_check(m.to[8] == 4 && m.to[9] == 9 && m.to[12] == 12 && m.to[7] == 43 && m.to[17] == 116 &&
               m.to[16] == DG_UNLABELLED,
           "vegetation -> tree, terrain -> grass, rider -> person, traffic sign -> signboard, motorcycle -> minibike, "
           "train unmatched");
  // A report whose names overflow is cut with "...", never past its buffer.
  uint8_t all[150];
  for (int i = 0; i < 150; i++) all[i] = (uint8_t)i;
  dg_palette_convert_ids(ade, world, all, sizeof all, &r);
  dg_check(r.unmatched_count > 100 && strlen(r.unmatched) < sizeof r.unmatched &&
               g_str_has_suffix(r.unmatched, "..."),
           "a long list is cut (%d classes)", r.unmatched_count);
  dg_palette_free(ade), dg_palette_free(cs), dg_palette_free(world);
}

// The editor's palette switch: one undo step restoring ids and palette name; the project keeps the
// palette; projects from before palettes (version 1 here) open as "world".
static void test_document(void) {
  dg_palette *cs = load("cityscapes"), *world = load("world");
  dg_document *doc = dg_document_new(4, 8);
  if (!cs || !world || !doc) return;
  dg_check(!strcmp(dg_document_palette(doc), "world"), "a new document paints in world");
  dg_document_fill_rect(doc, 0, 0, 3, 3, 8);  // tree
  dg_document_fill_rect(doc, 4, 0, 7, 3, 2);  // mountain
  dg_document_fill_rect(doc, 0, 0, 0, 0, 13); // sign
  int depth = dg_document_undo_depth(doc);
  dg_palette_conversion r;
  dg_check_status(dg_palette_convert_document(doc, world, cs, NULL, &r), "convert to cityscapes");
  dg_check(!strcmp(dg_document_palette(doc), "cityscapes") && dg_document_pixel(doc, 1, 1) == 8 &&
               dg_document_pixel(doc, 0, 0) == 7 && dg_document_pixel(doc, 5, 2) == DG_UNLABELLED,
           "converted: vegetation, traffic sign, mountain unlabelled");
  dg_check(r.unmatched_count == 1 && r.unmatched_pixels == 16 && !strcmp(r.unmatched, "mountain"),
           "unmatched reported: '%s' (%d pixels)", r.unmatched, r.unmatched_pixels);
  dg_check(dg_document_undo_depth(doc) == depth + 1, "one undo step");
  char *dir = g_dir_make_tmp("dg-palettes-XXXXXX", NULL), *path = g_build_filename(dir, "p.dirigent", NULL);
  dg_check_status(dg_project_save(doc, path), "save");
  dg_status s;
  dg_document *back = dg_project_load(path, &s);
  dg_check(back && !strcmp(dg_document_palette(back), "cityscapes") && dg_document_pixel(back, 1, 1) == 8,
           "the project keeps the palette");
  dg_document_free(back);
  dg_check(dg_document_undo(doc), "undo");
  dg_check(!strcmp(dg_document_palette(doc), "world") && dg_document_pixel(doc, 5, 2) == 2 &&
               dg_document_pixel(doc, 0, 0) == 13,
           "undo restores the world ids and the palette name (nothing lost)");
  dg_check(dg_document_redo(doc) && !strcmp(dg_document_palette(doc), "cityscapes"), "redo");
  dg_document *old = dg_project_load(DG_SOURCE_DIR "/tests/ui/data/project-v1.dirigent", &s);
  dg_check(old && !strcmp(dg_document_palette(old), "world"), "an old project opens in world");
  dg_document_free(old);
  g_remove(path);
  g_rmdir(dir);
  g_free(path), g_free(dir);
  dg_document_free(doc);
  dg_palette_free(cs), dg_palette_free(world);
}

int main(void) {
  g_setenv("DIRIGENT_ASSETS", DG_SOURCE_DIR "/assets", TRUE);
  test_files();
  test_choice();
  test_convert();
  test_document();
  return dg_check_finish("test_palettes");
}
