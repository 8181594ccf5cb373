// The style panel's document state (app/dg_style, dg_style_edit, dg_style_command): slots filled from a
// result, a world sample and a file, each edit one undo step, the strength slider coalescing into one step,
// refused values leaving the document as it was, a stylized result added and every result replaced as one undo
// step each (undo and redo restoring the exact pixels), the images shared between steps, not copied, and the
// GObject's results list following replacements and removals, and a restyling of every result that ends after
// results were added, removed and replaced meanwhile (by id: only the results it started with, still there).
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_command.h"
#include "dg_document_object.h"
#include "dg_png.h"
#include "dg_style_edit.h"

static void add_result(dg_document *d, uint8_t fill) {
  dg_result r = {.width = 8, .height = 4, .seed = 7, .steps = 3, .guidance = 2};
  r.rgba = malloc(8 * 4 * 4);
  memset(r.rgba, fill, 8 * 4 * 4);
  r.prompt = strdup("p"), r.negative = strdup(""), r.model = strdup("m");
  dg_document_add_result(d, &r);
}

// A stylized copy of result i: its pixels inverted (what a method's output would be, for the bookkeeping).
static void styled_from(dg_document *d, int i, dg_result *out) {
  const dg_result *src = dg_document_result(d, i);
  uint8_t rgb[8 * 4 * 3];
  for (int p = 0; p < 8 * 4; p++)
    for (int c = 0; c < 3; c++)
      rgb[3 * p + c] = (uint8_t)(255 - src->rgba[4 * p + c]);
  dg_media m = {.frames = 1, .width = 8, .height = 4, .channels = 3, .data = rgb};
  dg_check_status(dg_style_result(src, &m, dg_document_style(d), out), "a stylized result");
}

static void test_slots(const char *dir) {
  dg_document *d = dg_document_new(4, 8);
  add_result(d, 10);
  dg_document_clear_history(d);
  dg_style_image *from_result = dg_style_image_from_result(d, 0);
  dg_check(from_result && !strcmp(dg_style_image_source(from_result), "result 1"), "a result as a slot image");
  dg_check(!dg_style_image_from_result(d, 3) && strstr(dg_last_error(), "no result 4"), "a missing result refused");
  dg_style_image *world = dg_style_image_from_world(12345, 64, 32), *world2 = dg_style_image_from_world(12345, 64, 32);
  dg_check(world && world2 && !strcmp(dg_style_image_source(world), "world 12345") &&
               !memcmp(dg_style_image_rgba(world), dg_style_image_rgba(world2), 64 * 32 * 4),
           "a world sample as a slot image, the same for the same seed");
  uint8_t rgb[5 * 3 * 3];
  for (size_t i = 0; i < sizeof rgb; i++)
    rgb[i] = (uint8_t)(i * 17);
  const char *png = dg_check_path(dir, "ex.png"), *notpng = dg_check_path(dir, "not.png");
  dg_png_write_rgb8(png, 5, 3, rgb, NULL);
  g_file_set_contents(notpng, "no png", -1, NULL);
  dg_style_image *file = dg_style_image_from_file(png);
  dg_check(file && dg_style_image_width(file) == 5 && dg_style_image_rgba(file)[4] == rgb[3] &&
               g_str_has_suffix(dg_style_image_source(file), "ex.png"),
           "a PNG file as a slot image");
  dg_check(!dg_style_image_from_file(notpng) && strstr(dg_last_error(), "not.png"), "a file that is no PNG: %s",
           dg_last_error());
  dg_check(!dg_style_image_from_file(dir) && strstr(dg_last_error(), dir), "a folder refused, named");

  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_CONTENT, from_result), "content from a result");
  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_EXEMPLAR, world), "exemplar from the world");
  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_EXEMPLAR, file), "exemplar from a file");
  dg_check(dg_document_undo_depth(d) == 3, "three slot edits, three undo steps (%d)", dg_document_undo_depth(d));
  dg_check(dg_document_style(d)->slot[1] == file, "the slot shares the image (no copy)");
  size_t before = dg_document_history_bytes(d);
  dg_check(before < 4096, "slot steps hold references, not pixels (%zu bytes)", before);
  dg_document_undo(d);
  dg_check(dg_document_style(d)->slot[1] == world, "undo restores the world exemplar");
  dg_document_redo(d);
  dg_check(dg_document_style(d)->slot[1] == file, "redo the file exemplar");

  // The slider: a drag of coalescing steps is one undo step; a sealed history starts the next.
  int depth = dg_document_undo_depth(d);
  for (int i = 1; i <= 10; i++)
    dg_check_status(dg_style_edit_set_strength(d, i / 10.0, true), "drag the strength");
  dg_document_seal_history(d);
  dg_check(dg_document_undo_depth(d) == depth + 1 && dg_document_style(d)->strength == 1.0,
           "a drag of the strength is one undo step (%d)", dg_document_undo_depth(d) - depth);
  dg_document_undo(d);
  dg_check(dg_document_style(d)->strength == DG_STYLIZE_DEFAULT_STRENGTH, "undo goes back to before the drag");
  dg_document_redo(d);
  dg_check_error(dg_style_edit_set_strength(d, 1.5, false), DG_ERR_ARG, "strength 1.5", "strength 1.5 refused");
  dg_check_error(dg_style_edit_set_method(d, (dg_stylize_method)7), DG_ERR_ARG, "method 7", "method 7 refused");
  dg_check(dg_document_undo_depth(d) == depth + 1 && dg_document_style(d)->strength == 1.0,
           "refused values change nothing");
  dg_check_status(dg_style_edit_set_method(d, DG_STYLIZE_MNE), "the encoder");
  dg_check_status(dg_style_edit_set_slot(d, DG_STYLE_CONTENT, NULL), "empty the content slot");
  dg_check(!dg_document_style(d)->slot[0], "the content slot is empty");
  dg_document_undo(d);
  dg_check(dg_document_style(d)->slot[0] == from_result, "undo fills it again");
  dg_document_free(d); // the images outlive the document by their own references
  dg_check(dg_style_image_width(from_result) == 8, "an image outlives a freed document's history");
  dg_style_image_unref(from_result), dg_style_image_unref(world), dg_style_image_unref(world2);
  dg_style_image_unref(file);
}

static int results_seen;
static void items_changed(GListModel *m, guint pos, guint removed, guint added, gpointer data) {
  (void)m, (void)pos, (void)removed, (void)added, (void)data;
  results_seen++;
}

static void test_results(void) {
  DgDocument *obj = dg_document_object_new(dg_document_new(4, 8));
  dg_document *d = dg_document_object_get_model(obj);
  GListModel *list = dg_document_object_get_results(obj);
  g_signal_connect(list, "items-changed", G_CALLBACK(items_changed), NULL);
  add_result(d, 10), add_result(d, 20), add_result(d, 30);
  dg_document_set_current_result(d, 1);
  dg_document_clear_history(d);
  dg_result one;
  styled_from(d, 1, &one);
  dg_check(one.style && g_str_has_prefix(one.style, "fda 0.80 of nothing") && one.seed == 7 && !strcmp(one.prompt, "p"),
           "the stylized result: its source's settings and the style (%s)", one.style ? one.style : "none");
  dg_check_status(dg_style_edit_add_result(d, &one), "apply to the current result");
  dg_check(dg_document_result_count(d) == 4 && dg_document_current_result(d) == 3 &&
               dg_document_result(d, 3)->rgba[0] == 235 && dg_document_undo_depth(d) == 1,
           "one more result, current, one undo step");
  dg_check(g_list_model_get_n_items(list) == 4, "the results list has it");
  dg_document_undo(d);
  dg_check(dg_document_result_count(d) == 3 && g_list_model_get_n_items(list) == 3 &&
               dg_document_current_result(d) == 2,
           "undo removes it (list %u)", g_list_model_get_n_items(list));
  dg_document_redo(d);
  dg_check(dg_document_result_count(d) == 4 && dg_document_result(d, 3)->rgba[0] == 235, "redo adds it again");

  // Every result restyled: one step; undo gives every original pixel back.
  int n = dg_document_result_count(d), index[4];
  dg_result styled[4];
  for (int i = 0; i < n; i++) {
    index[i] = i;
    styled_from(d, i, &styled[i]);
  }
  int seen = results_seen;
  dg_check_status(dg_style_edit_replace_results(d, n, index, styled), "apply to every result");
  dg_check(dg_document_undo_depth(d) == 2, "every result restyled is one undo step (%d)", dg_document_undo_depth(d));
  dg_check(dg_document_result(d, 0)->rgba[0] == 245 && dg_document_result(d, 3)->rgba[0] == 20 &&
               dg_document_result(d, 0)->style,
           "every result restyled");
  DgResult *first = g_list_model_get_item(list, 0);
  dg_check(results_seen > seen && g_list_model_get_n_items(list) == 4 && dg_result_object_get_info(first)->style,
           "the list shows the restyled results");
  g_object_unref(first);
  dg_document_undo(d);
  dg_check(dg_document_result(d, 0)->rgba[0] == 10 && dg_document_result(d, 2)->rgba[0] == 30 &&
               dg_document_result(d, 3)->rgba[0] == 235 && !dg_document_result(d, 0)->style,
           "undo restores every result");
  dg_document_redo(d);
  dg_check(dg_document_result(d, 1)->rgba[0] == 235, "redo restyles them again");
  int bad_index = 9;
  dg_result extra;
  styled_from(d, 0, &extra);
  dg_check_error(dg_style_edit_replace_results(d, 1, &bad_index, &extra), DG_ERR_ARG, "no result 10",
                 "a missing result refused");
  dg_check(dg_document_undo_depth(d) == 2, "the refused batch changed nothing");
  g_object_unref(obj);
}

// Apply to every result runs for seconds while the results may change: it restyles the results there were when
// it started, found by id wherever they are now; one removed or replaced meanwhile is skipped, one added
// meanwhile untouched, and what it did is one undo step.
static void test_results_changing(void) {
  dg_document *d = dg_document_new(4, 8);
  add_result(d, 10), add_result(d, 20);
  dg_result s0;
  styled_from(d, 0, &s0);
  dg_check_status(dg_style_edit_add_result(d, &s0), "a stylized result added (an undo step)");
  add_result(d, 40); // a generation finishing after it: results 10, 20, 245 (stylized), 40
  uint64_t ids[4];
  dg_result styled[4];
  for (int i = 0; i < 4; i++) {
    ids[i] = dg_document_result(d, i)->id;
    styled_from(d, i, &styled[i]); // what the worker makes of each, as the run started
  }
  dg_check(ids[0] && ids[1] != ids[0] && dg_document_result_find(d, ids[3]) == 3, "each result has its own id");
  // While the run goes on: undo removes the stylized result (the generated one moves from index 3 to 2), another
  // generation adds one, and result 2 is replaced by another restyling.
  dg_document_undo(d);
  add_result(d, 50);
  dg_result other;
  styled_from(d, 1, &other);
  int one = 1;
  dg_check_status(dg_style_edit_replace_results(d, 1, &one, &other), "result 2 replaced meanwhile");
  dg_check(dg_document_result_find(d, ids[1]) == -1 && dg_document_result_find(d, ids[2]) == -1 &&
               dg_document_result_find(d, ids[3]) == 2,
           "a replaced and a removed result are no longer found; the moved one is, at its new place");
  int depth = dg_document_undo_depth(d), replaced = -1;
  dg_check_status(dg_style_edit_replace_by_id(d, 4, ids, styled, &replaced), "the run ends");
  dg_check(replaced == 2 && dg_document_result_count(d) == 4 && dg_document_undo_depth(d) == depth + 1,
           "two results restyled as one undo step (%d; %d results)", replaced, dg_document_result_count(d));
  dg_check(dg_document_result(d, 0)->rgba[0] == 245 && dg_document_result(d, 2)->rgba[0] == 215 &&
               dg_document_result(d, 0)->style && dg_document_result(d, 2)->style,
           "the first result and the generated one that moved are restyled (%d, %d)", dg_document_result(d, 0)->rgba[0],
           dg_document_result(d, 2)->rgba[0]);
  dg_check(dg_document_result(d, 1)->rgba[0] == 235 && dg_document_result(d, 3)->rgba[0] == 50 &&
               !dg_document_result(d, 3)->style,
           "the result replaced meanwhile keeps its new pixels; the one added meanwhile is untouched");
  dg_document_undo(d);
  dg_check(dg_document_result(d, 0)->rgba[0] == 10 && dg_document_result(d, 2)->rgba[0] == 40 &&
               dg_document_result(d, 1)->rgba[0] == 235,
           "undo gives both back, the others as they were");
  // Every result gone or changed: nothing to do, no undo step.
  uint64_t gone[2] = {ids[1], ids[2]};
  dg_result none[2];
  styled_from(d, 0, &none[0]), styled_from(d, 1, &none[1]);
  depth = dg_document_undo_depth(d);
  dg_check_status(dg_style_edit_replace_by_id(d, 2, gone, none, &replaced), "a run whose results are all gone");
  dg_check(replaced == 0 && dg_document_undo_depth(d) == depth, "changes nothing, no undo step");
  dg_document_free(d);
}

int main(void) {
  char *dir = g_dir_make_tmp("dg-style-XXXXXX", NULL);
  test_slots(dir);
  test_results();
  test_results_changing();
  g_unlink(dg_check_path(dir, "ex.png")), g_unlink(dg_check_path(dir, "not.png"));
  g_rmdir(dir);
  g_free(dir);
  return dg_check_finish("test_style");
}
