// The document model: drawing tools, undo/redo of strokes and parameters, history as rectangles, edits
// as command objects (a new command type plugs into the same undo stack).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_command.h"
#include "dg_document.h"
#include "dg_palette.h"
#include "dg_timeline_edit.h"

static uint8_t *snapshot(const dg_document *d) {
  size_t n = (size_t)dg_document_width(d) * dg_document_height(d);
  uint8_t *s = malloc(n);
  memcpy(s, dg_document_layout(d), n);
  return s;
}
static bool same(const dg_document *d, const uint8_t *s) {
  return !memcmp(dg_document_layout(d), s, (size_t)dg_document_width(d) * dg_document_height(d));
}

static void test_tools(void) {
  dg_document *d = dg_document_new(DG_DOC_DEFAULT_HEIGHT, DG_DOC_DEFAULT_WIDTH);
  dg_check(dg_document_width(d) == 256 && dg_document_height(d) == 128, "default size");
  dg_check(dg_document_pixel(d, 5, 5) == DG_UNLABELLED, "blank is unlabelled");
  int64_t areas[256];

  dg_document_fill_rect(d, 20, 10, 10, 19, 4); // corners in any order, inclusive
  dg_document_class_areas(d, areas);
  dg_check(areas[4] == 11 * 10, "rect area %lld", (long long)areas[4]);
  dg_check(dg_document_pixel(d, 10, 10) == 4 && dg_document_pixel(d, 20, 19) == 4 && dg_document_pixel(d, 21, 19) != 4,
           "rect bounds");

  // A dab of radius 3 at a pixel centre covers the pixels whose centres lie within 3: 29 of them.
  dg_document_paint_dab(d, 100.5, 50.5, 3, 9);
  dg_document_class_areas(d, areas);
  dg_check(areas[9] == 29, "dab area %lld", (long long)areas[9]);

  // A horizontal stroke of radius 2 from x=50.5 to 70.5 on row centre 100.5: a capsule.
  dg_document_paint_line(d, 50.5, 100.5, 70.5, 100.5, 2, 5);
  dg_check(dg_document_pixel(d, 50, 100) == 5 && dg_document_pixel(d, 70, 102) == 5 &&
               dg_document_pixel(d, 60, 103) != 5,
           "stroke coverage");

  // Flood fill replaces exactly the connected region: the rect (110 px) with class 7, not the dab.
  dg_document_flood_fill(d, 15, 15, 7);
  dg_document_class_areas(d, areas);
  dg_check(areas[7] == 110 && areas[4] == 0 && areas[9] == 29, "flood fill %lld %lld", (long long)areas[7],
           (long long)areas[4]);
  // Flood fill of the unlabelled background does not leak into the painted regions.
  dg_document_flood_fill(d, 0, 0, 0);
  dg_document_class_areas(d, areas);
  dg_check(areas[DG_UNLABELLED] == 0 && areas[0] == 256 * 128 - 110 - 29 - areas[5], "background fill");

  // Polygon: the triangle (0,0) (10,0) (0,10) covers pixel centres with x+y < 10 -> 45 pixels (+0 on the edge).
  dg_document *t = dg_document_new(16, 16);
  double tri[] = {0, 0, 10, 0, 0, 10};
  dg_document_fill_polygon(t, tri, 3, 2);
  dg_document_class_areas(t, areas);
  dg_check(areas[2] == 45, "triangle area %lld", (long long)areas[2]);
  // A square polygon equals fill_rect.
  double sq[] = {2, 2, 8, 2, 8, 6, 2, 6};
  dg_document_fill_polygon(t, sq, 4, 3);
  dg_document_class_areas(t, areas);
  dg_check(areas[3] == 24, "square polygon %lld", (long long)areas[3]);
  // Eraser = paint with unlabelled.
  dg_document_paint_dab(t, 1.5, 1.5, 0.5, DG_UNLABELLED);
  dg_check(dg_document_pixel(t, 1, 1) == DG_UNLABELLED, "erase");
  // Bad inputs do nothing and do not crash.
  dg_document_paint_line(t, 1e300, -1e300, 0.0 / 0.0, 5, 1e9, 3);
  dg_document_flood_fill(t, -1, 99, 3);
  dg_document_fill_rect(t, 100, 100, 200, 200, 3);
  dg_document_fill_polygon(t, sq, 2, 3);
  dg_document_paint_dab(t, 5, 5, 1, 300);
  dg_check(dg_document_new(0, 5) == NULL && dg_document_new(5, 5000) == NULL, "bad sizes rejected");
  dg_document_free(t);
  dg_document_free(d);
}

static void test_undo(void) {
  dg_document *d = dg_document_new(128, 256);
  uint8_t *s0 = snapshot(d);
  dg_document_fill_rect(d, 0, 0, 255, 63, 0);
  uint8_t *s1 = snapshot(d);
  // One stroke of many segments is one undo step.
  dg_document_edit_begin(d);
  for (int i = 0; i < 50; i++)
    dg_document_paint_line(d, 10 + i, 30, 11 + i, 40, 3, 8);
  dg_document_edit_end(d);
  uint8_t *s2 = snapshot(d);
  dg_check(dg_document_undo_depth(d) == 2, "depth %d", dg_document_undo_depth(d));
  // The stroke's history is its changed rectangle (before and after), far less than a layout copy.
  size_t bytes = dg_document_history_bytes(d);
  dg_check(bytes < 256 * 64 * 2 + 2 * 60 * 20, "history bytes %zu", bytes);
  // A stroke that changes nothing adds no step.
  dg_document_paint_dab(d, 30.5, 35.5, 1, 8);
  dg_check(dg_document_undo_depth(d) == 2, "no-op stroke added a step");

  dg_check(dg_document_undo(d) && same(d, s1), "undo stroke");
  dg_check(dg_document_undo(d) && same(d, s0), "undo rect");
  dg_check(!dg_document_undo(d), "nothing more to undo");
  dg_check(dg_document_redo(d) && same(d, s1), "redo rect");
  dg_check(dg_document_redo(d) && same(d, s2), "redo stroke");
  dg_check(!dg_document_redo(d), "nothing more to redo");

  // Parameters.
  dg_check(dg_document_set_text(d, DG_FIELD_PROMPT, "a red car", false) == DG_OK, "prompt");
  dg_check(dg_document_set_text(d, DG_FIELD_NEGATIVE, "blurry", false) == DG_OK, "negative");
  dg_check(dg_document_set_seed(d, 18446744073709551615ull) == DG_OK, "seed");
  dg_check(dg_document_set_steps(d, 30) == DG_OK && dg_document_set_steps(d, 0) == DG_ERR_ARG, "steps");
  dg_check(dg_document_set_guidance(d, 3.25) == DG_OK && dg_document_set_guidance(d, -1) == DG_ERR_ARG, "guidance");
  dg_check(dg_document_set_seed_random(d, true) == DG_OK, "seed random");
  dg_check(dg_document_undo_depth(d) == 8, "depth %d", dg_document_undo_depth(d));
  dg_check(!dg_document_live(d), "live mode starts off");
  dg_document_set_live(d, true);
  dg_check(dg_document_live(d) && dg_document_undo_depth(d) == 8, "live mode on: no undo step");
  dg_document_undo(d);
  dg_check(!dg_document_seed_random(d), "undo seed_random");
  dg_document_undo(d);
  dg_check(dg_document_guidance(d) == 7.5, "undo guidance %g", dg_document_guidance(d));
  dg_document_undo(d);
  dg_check(dg_document_steps(d) == 20, "undo steps");
  dg_document_undo(d);
  dg_check(dg_document_seed(d) == 1, "undo seed");
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_negative(d), ""), "undo negative");
  dg_document_redo(d);
  dg_check(!strcmp(dg_document_negative(d), "blurry"), "redo negative");
  // A new edit after undo drops the redo branch.
  dg_document_set_steps(d, 5);
  dg_check(!dg_document_can_redo(d), "redo branch dropped");

  // Typing coalesces into one step; a non-coalescing edit starts a new one.
  int depth = dg_document_undo_depth(d);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car o", true);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car on", true);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car on a road", true);
  dg_check(dg_document_undo_depth(d) == depth + 1, "typing is one step");
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_prompt(d), "a red car"), "undo typing -> '%s'", dg_document_prompt(d));
  // The first keystroke after a pause starts a new step that later keystrokes merge into.
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car!", true);
  dg_document_seal_history(d);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car! x", true);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a red car! xy", true);
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_prompt(d), "a red car!"), "sealed typing -> '%s'", dg_document_prompt(d));

  // Many steps deep: 300 strokes, all undone, give the original layout back.
  dg_document *m = dg_document_new(64, 64);
  uint8_t *m0 = snapshot(m);
  for (int i = 0; i < 300; i++)
    dg_document_paint_dab(m, (i * 7) % 64, (i * 13) % 64, 1 + i % 5, i % 14);
  uint8_t *m1 = snapshot(m);
  int undone = 0;
  while (dg_document_undo(m))
    undone++;
  dg_check(undone >= 290 && same(m, m0), "undid %d strokes back to blank", undone);
  while (dg_document_redo(m)) {
  }
  dg_check(same(m, m1), "redo all");
  // The history is bounded.
  for (int i = 0; i < DG_DOC_HISTORY_LIMIT + 50; i++)
    dg_document_set_steps(m, 1 + i % 2);
  dg_check(dg_document_undo_depth(m) == DG_DOC_HISTORY_LIMIT, "history limit");
  dg_document_free(m);
  free(m0), free(m1);

  free(s0), free(s1), free(s2);
  dg_document_free(d);
}

static void test_palette(void) {
  dg_status st;
  dg_palette *p = dg_palette_load_default(&st);
  dg_check(p != NULL, "palette: %s", dg_last_error());
  if (!p) return;
  dg_check(dg_palette_count(p) == 14, "14 classes");
  dg_check(!strcmp(dg_palette_name(p, 9), "car") && !strcmp(dg_palette_name(p, 255), "unlabelled"), "names");
  uint8_t rgb[3] = {0, 0, 142};
  dg_check(dg_palette_lookup_rgb(p, rgb) == 9, "eyedropper colour -> car");
  uint8_t black[3] = {0, 0, 0}, odd[3] = {1, 2, 3};
  dg_check(dg_palette_lookup_rgb(p, black) == DG_UNLABELLED && dg_palette_lookup_rgb(p, odd) == -1, "unknown colour");
  dg_palette_free(p);
  const char *bad[] = {"", "[]", "{\"classes\": []}",
                       "{\"classes\": [{\"id\": 1, \"name\": \"x\", \"color\": [1,2,3]}]}",
                       "{\"classes\": [{\"id\": 0, \"name\": \"x\", \"color\": [1,2,300]}]}",
                       // Found by tests/fuzz/fuzz_palette: json-glib's typed getter raised a GLib critical.
                       "{\"name\": [1], \"classes\": [{\"id\": 0, \"name\": \"x\", \"color\": [1,2,3]}]}",
                       "{\"classes\": [{\"id\": 0.5, \"name\": \"x\", \"color\": [1,2,3]}]}",
                       "{\"classes\": [{\"id\": 0, \"name\": \"x\", \"color\": [1,2,-3]}]}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    dg_palette *q = dg_palette_parse(bad[i], (long)strlen(bad[i]), &st);
    dg_check(q == NULL && st == DG_ERR_FORMAT && *dg_last_error(), "bad palette %zu accepted", i);
  }
  // Nesting deeper than the stack holds is refused by the depth limit, not a crash.
  size_t deep = 1000000;
  char *nested = malloc(deep + 16);
  memcpy(nested, "{\"classes\":", 11);
  memset(nested + 11, '[', deep);
  dg_palette *q = dg_palette_parse(nested, (long)(deep + 11), &st);
  dg_check(q == NULL && st == DG_ERR_FORMAT && strstr(dg_last_error(), "deep"), "deep palette: %s", dg_last_error());
  free(nested);
}

// A command type of the test's own, as a timeline or exemplar edit would be: it changes the prompt
// through the document's store and counts how often it was applied.
typedef struct tag_command {
  dg_command base;
  char *before, *after;
  int *applied;
} tag_command;
static void tag_apply(dg_command *cmd, dg_document *doc, bool redo) {
  tag_command *c = (tag_command *)cmd;
  dg_document_store_text(doc, DG_FIELD_PROMPT, redo ? c->after : c->before);
  (*c->applied)++;
}
static bool tag_merge(dg_command *cmd, const dg_command *next) {
  tag_command *c = (tag_command *)cmd;
  free(c->after);
  c->after = strdup(((const tag_command *)next)->after);
  return true;
}
static size_t tag_size(const dg_command *cmd) {
  (void)cmd;
  return 1000;
}
static int tags_freed;
static void tag_free(dg_command *cmd) {
  tag_command *c = (tag_command *)cmd;
  free(c->before), free(c->after), free(c);
  tags_freed++;
}
static const dg_command_type tag_type = {"tag", tag_apply, tag_merge, tag_size, tag_free};
static dg_command *tag_new(const dg_document *d, const char *after, bool coalescing, int *applied) {
  tag_command *c = calloc(1, sizeof *c);
  *c = (tag_command){{&tag_type, coalescing}, strdup(dg_document_prompt(d)), strdup(after), applied};
  return &c->base;
}

static int changes, changed_what;
static void count_changes(dg_document *doc, int what, int x, int y, int w, int h, void *user) {
  (void)doc, (void)x, (void)y, (void)w, (void)h, (void)user;
  changes++;
  changed_what |= what;
}

static void test_commands(void) {
  dg_document *d = dg_document_new(16, 16);
  dg_document_set_listener(d, count_changes, NULL);
  int applied = 0;
  // Executing does the edit and makes it one undo step; undo and redo call the command.
  dg_document_execute(d, tag_new(d, "first", false, &applied));
  dg_check(applied == 1 && !strcmp(dg_document_prompt(d), "first"), "execute applies the command");
  dg_check(dg_document_undo_depth(d) == 1 && !strcmp(dg_document_undo_name(d), "tag"), "one step named tag");
  dg_check((changed_what & DG_CHANGED_FIELD(DG_FIELD_PROMPT)) && (changed_what & DG_CHANGED_HISTORY) &&
               !(changed_what & DG_CHANGED_LAYOUT),
           "listener told of the prompt and the history (what = %d)", changed_what);
  changed_what = 0;
  dg_document_set_live(d, true);
  dg_check(changed_what == DG_CHANGED_FIELD(DG_FIELD_LIVE) && dg_document_undo_depth(d) == 1,
           "live mode: the listener told of it alone, no undo step (what = %d)", changed_what);
  dg_document_set_live(d, false);
  dg_check(dg_document_undo(d) && applied == 2 && !strcmp(dg_document_prompt(d), ""), "undo the custom command");
  dg_check(!strcmp(dg_document_redo_name(d), "tag") && !dg_document_undo_name(d), "redo names it, undo nothing");
  dg_check(dg_document_redo(d) && applied == 3 && !strcmp(dg_document_prompt(d), "first"), "redo it");
  // Coalescing commands merge into the top one while it is coalescing; sealing ends that.
  dg_document_execute(d, tag_new(d, "a", true, &applied));
  dg_document_execute(d, tag_new(d, "ab", true, &applied));
  dg_document_execute(d, tag_new(d, "abc", true, &applied));
  dg_check(dg_document_undo_depth(d) == 2 && tags_freed == 2, "three coalescing commands are one step (%d)",
           dg_document_undo_depth(d));
  dg_document_seal_history(d);
  dg_document_execute(d, tag_new(d, "abcd", true, &applied));
  dg_check(dg_document_undo_depth(d) == 3, "a sealed step is not merged into");
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_prompt(d), "abc"), "undo the sealed step -> '%s'", dg_document_prompt(d));
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_prompt(d), "first"), "undo the merged step -> '%s'", dg_document_prompt(d));
  // A command of another type does not merge; a new edit drops the redo branch (freeing it).
  int freed = tags_freed;
  dg_document_fill_rect(d, 0, 0, 3, 3, 2);
  dg_check(tags_freed == freed + 2 && !dg_document_can_redo(d), "a new edit frees the undone commands");
  dg_check(!strcmp(dg_document_undo_name(d), "pixels"), "a fill is a pixels command");
  dg_document_set_steps(d, 3);
  dg_check(!strcmp(dg_document_undo_name(d), "value"), "steps is a value command");
  dg_document_set_text(d, DG_FIELD_NEGATIVE, "x", false);
  dg_check(!strcmp(dg_document_undo_name(d), "text"), "the negative prompt is a text command");
  dg_check(dg_document_history_bytes(d) >= 1000 + 2 * 16, "history bytes count every command's size (%zu)",
           dg_document_history_bytes(d));
  // Mixed undo/redo across command types restores each state.
  while (dg_document_undo(d)) {
  }
  dg_check(!strcmp(dg_document_prompt(d), "") && dg_document_steps(d) == 20 && dg_document_pixel(d, 1, 1) == 255 &&
               !strcmp(dg_document_negative(d), ""),
           "everything undone");
  while (dg_document_redo(d)) {
  }
  dg_check(!strcmp(dg_document_prompt(d), "first") && dg_document_steps(d) == 3 && dg_document_pixel(d, 1, 1) == 2 &&
               !strcmp(dg_document_negative(d), "x"),
           "everything redone");
  // A copy holds the content, not the history.
  dg_document *c = dg_document_copy(d);
  dg_check(!dg_document_can_undo(c) && !strcmp(dg_document_prompt(c), "first") && dg_document_pixel(c, 1, 1) == 2,
           "copy: same content, no history");
  dg_document_free(c);
  freed = tags_freed;
  dg_document_free(d);
  dg_check(tags_freed == freed + 1, "freeing the document frees its commands");
}

// The marked objects' attention guidance: a text field holding a guidance name, one undo step a change.
static void test_attn_guidance(void) {
  dg_document *d = dg_document_new(4, 4);
  dg_check(!strcmp(dg_document_attn_guidance(d), "none"), "a new document has no attention guidance");
  dg_check(dg_document_set_text(d, DG_FIELD_ATTN_GUIDANCE, "divide-bind", false) == DG_OK, "set divide-bind");
  dg_check_error(dg_document_set_text(d, DG_FIELD_ATTN_GUIDANCE, "sideways", false), DG_ERR_ARG, "'sideways'",
                 "an unknown guidance is refused, naming it");
  dg_check(!strcmp(dg_document_attn_guidance(d), "divide-bind") && dg_document_undo_depth(d) == 1,
           "  ... and changes nothing");
  dg_check(dg_document_set_text(d, DG_FIELD_ATTN_GUIDANCE, "attend-excite", false) == DG_OK, "set attend-excite");
  dg_document_undo(d);
  dg_check(!strcmp(dg_document_attn_guidance(d), "divide-bind"), "undo: %s", dg_document_attn_guidance(d));
  dg_document_redo(d);
  dg_check(!strcmp(dg_document_attn_guidance(d), "attend-excite"), "redo: %s", dg_document_attn_guidance(d));
  dg_document *c = dg_document_copy(d);
  dg_check(c && !strcmp(dg_document_attn_guidance(c), "attend-excite"), "a copy keeps it");
  dg_document_free(c);
  dg_check(dg_document_set_text(d, DG_FIELD_ATTN_GUIDANCE, "", false) == DG_OK &&
               !strcmp(dg_document_attn_guidance(d), "none"),
           "\"\" is none: %s", dg_document_attn_guidance(d));
  dg_document_free(d);
}

// The layout strength (the layout ControlNet's scale): 1 in a new document, above 0 to 4, one undo step a change
// with its own change bit, bad values refused naming them with nothing changed, kept by a copy; results keep theirs.
static void test_control_scale(void) {
  dg_document *d = dg_document_new(4, 4);
  changes = changed_what = 0;
  dg_document_set_listener(d, count_changes, NULL);
  dg_check(dg_document_control_scale(d) == 1.0, "a new document follows the layout as trained (%g)",
           dg_document_control_scale(d));
  dg_check_status(dg_document_set_control_scale(d, 2.5), "set 2.5");
  dg_check(dg_document_control_scale(d) == 2.5 && dg_document_undo_depth(d) == 1 &&
               !strcmp(dg_document_undo_name(d), "value"),
           "2.5, one value step (%g, depth %d)", dg_document_control_scale(d), dg_document_undo_depth(d));
  dg_check((changed_what & DG_CHANGED_FIELD(DG_FIELD_CONTROL_SCALE)) &&
               !(changed_what & DG_CHANGED_FIELD(DG_FIELD_GUIDANCE)) && !(changed_what & DG_CHANGED_LAYOUT),
           "the listener is told of the layout strength alone (what = %d)", changed_what);
  const int others = DG_CHANGED_TIMELINE | DG_CHANGED_VIDEO | DG_CHANGED_STYLE | DG_CHANGED_LAYOUT |
                     DG_CHANGED_RESULTS | DG_CHANGED_HISTORY;
  dg_check(!(DG_CHANGED_FIELD(DG_FIELD_CONTROL_SCALE) & others) &&
               (DG_CHANGED_FIELD(DG_FIELD_CONTROL_SCALE) & DG_CHANGED_PARAMS),
           "its bit is a parameter's, no other change's");
  const struct {
    double v;
    const char *named;
  } bad[] = {{0, "layout strength 0:"}, {-1, "layout strength -1:"}, {4.01, "layout strength 4.01:"},
             {NAN, "layout strength nan:"}, {INFINITY, "layout strength inf:"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    changes = 0;
    dg_check_error(dg_document_set_control_scale(d, bad[i].v), DG_ERR_ARG, bad[i].named, bad[i].named);
    dg_check(dg_document_control_scale(d) == 2.5 && dg_document_undo_depth(d) == 1 && changes == 0,
             "%s refused without a change (%g, depth %d, %d changes)", bad[i].named, dg_document_control_scale(d),
             dg_document_undo_depth(d), changes);
  }
  dg_check_status(dg_document_set_control_scale(d, 2.5), "the same value again");
  dg_check(dg_document_undo_depth(d) == 1, "  ... is no undo step");
  dg_check_status(dg_document_set_control_scale(d, 4), "4, the largest");
  dg_check_status(dg_document_set_control_scale(d, 0.05), "0.05, above 0");
  changed_what = 0;
  dg_check(dg_document_undo(d) && dg_document_control_scale(d) == 4, "undo: 4 (%g)", dg_document_control_scale(d));
  dg_check(changed_what & DG_CHANGED_FIELD(DG_FIELD_CONTROL_SCALE), "  ... the listener told (what = %d)",
           changed_what);
  dg_check(dg_document_undo(d) && dg_document_control_scale(d) == 2.5, "undo: 2.5 (%g)", dg_document_control_scale(d));
  dg_check(dg_document_undo(d) && dg_document_control_scale(d) == 1, "undo: 1 (%g)", dg_document_control_scale(d));
  dg_check(dg_document_redo(d) && dg_document_redo(d) && dg_document_control_scale(d) == 4, "redo: 4 (%g)",
           dg_document_control_scale(d));
  dg_check(dg_document_guidance(d) == 7.5, "the guidance is another field (%g)", dg_document_guidance(d));
  dg_document *c = dg_document_copy(d);
  dg_check(c && dg_document_control_scale(c) == 4, "a copy keeps it (%g)", c ? dg_document_control_scale(c) : -1);
  dg_document_free(c);

  // A result records the scale it was made with; one given none (0) was made as trained.
  dg_result r = {.width = 1, .height = 1, .rgba = calloc(4, 1), .control_scale = 1.5};
  dg_document_add_result(d, &r);
  dg_result unset = {.width = 1, .height = 1, .rgba = calloc(4, 1)};
  dg_document_add_result(d, &unset);
  dg_result copied;
  dg_check_status(dg_result_copy(&copied, dg_document_result(d, 0)), "copy a result");
  dg_check(dg_document_result(d, 0)->control_scale == 1.5 && dg_document_result(d, 1)->control_scale == 1 &&
               copied.control_scale == 1.5,
           "results' scales: %g, %g (0 stored as 1), the copy's %g", dg_document_result(d, 0)->control_scale,
           dg_document_result(d, 1)->control_scale, copied.control_scale);
  dg_result_clear(&copied);
  dg_document_free(d);
}

// The video timeline: validation, ordered stages, one undo step per change, typing coalesced, listeners told.
static void test_timeline(void) {
  dg_document *d = dg_document_new(32, 64);
  changes = changed_what = 0;
  dg_document_set_listener(d, count_changes, NULL);
  const dg_timeline *cur = dg_document_timeline(d);
  dg_check(cur->frames == 16 && cur->fps == 8 && cur->n_stages == 0 && cur->vsp == DG_VSP_LINEAR &&
               cur->sigma_fine == 1 && cur->until == 13,
           "default timeline: %d frames, %g fps, %d stages", cur->frames, cur->fps, cur->n_stages);
  dg_timeline t;
  dg_timeline_init(&t);
  t.frames = 32;
  dg_check_status(dg_timeline_add_stage(&t, 31, "a street at night"), "stage at 31");
  dg_check_status(dg_timeline_add_stage(&t, 0, "a street at day"), "stage at 0");
  dg_check_status(dg_timeline_add_stage(&t, 12, "a street at sunset"), "stage at 12");
  dg_check(t.n_stages == 3 && t.stages[0].frame == 0 && t.stages[1].frame == 12 && t.stages[2].frame == 31,
           "stages kept in frame order");
  dg_check(dg_timeline_add_stage(&t, 12, "again") == DG_ERR_ARG && strstr(dg_last_error(), "frame 12"),
           "a second stage at frame 12 refused: %s", dg_last_error());
  dg_check(dg_timeline_add_stage(&t, 32, "late") == DG_ERR_ARG && strstr(dg_last_error(), "32"),
           "a stage past the last frame refused: %s", dg_last_error());
  int before = dg_document_undo_depth(d);
  dg_check_status(dg_document_set_timeline(d, &t, false), "set timeline");
  dg_check(dg_document_timeline(d)->n_stages == 3 && dg_document_timeline(d)->frames == 32 &&
               !strcmp(dg_document_timeline(d)->stages[1].prompt, "a street at sunset"),
           "the document keeps a copy");
  dg_check(dg_document_undo_depth(d) == before + 1 && !strcmp(dg_document_undo_name(d), "timeline"),
           "one undo step named timeline");
  dg_check(changes > 0 && (changed_what & DG_CHANGED_TIMELINE), "the listener heard the change (%d, what %#x)",
           changes, changed_what);

  // Bad timelines change nothing.
  dg_timeline bad;
  dg_timeline_init(&bad);
  dg_check_status(dg_timeline_copy(&bad, &t), "copy");
  bad.frames = 20; // stage 3 at frame 31 is now past the end
  dg_check(dg_document_set_timeline(d, &bad, false) == DG_ERR_ARG && strstr(dg_last_error(), "frame 31"),
           "a stage outside the frames refused: %s", dg_last_error());
  bad.frames = 1;
  dg_check(dg_document_set_timeline(d, &bad, false) == DG_ERR_ARG && strstr(dg_last_error(), "1 frames"),
           "1 frame refused: %s", dg_last_error());
  bad.frames = 32;
  bad.sigma_fine = -1;
  dg_check(dg_document_set_timeline(d, &bad, false) == DG_ERR_ARG, "negative sigma refused");
  bad.sigma_fine = 1;
  bad.fps = 0;
  dg_check(dg_document_set_timeline(d, &bad, false) == DG_ERR_ARG, "0 fps refused");
  dg_check(dg_document_undo_depth(d) == before + 1 && dg_timeline_equal(dg_document_timeline(d), &t),
           "refused timelines left the document as it was");

  // Typing into a stage's prompt: coalesced into one step, until sealed.
  bad.fps = 8;
  const char *typed[] = {"a street at n", "a street at ni", "a street at nig"};
  for (int i = 0; i < 3; i++) {
    free(bad.stages[2].prompt);
    bad.stages[2].prompt = strdup(typed[i]);
    dg_check_status(dg_document_set_timeline(d, &bad, true), "typing");
  }
  dg_check(dg_document_undo_depth(d) == before + 2, "typing is one step (depth %d)", dg_document_undo_depth(d));
  dg_document_undo(d);
  dg_check(dg_timeline_equal(dg_document_timeline(d), &t), "undo restores the timeline before typing");
  dg_document_redo(d);
  dg_check(!strcmp(dg_document_timeline(d)->stages[2].prompt, "a street at nig"), "redo restores the typed prompt");
  dg_document_undo(d);
  dg_document_undo(d);
  dg_check(dg_document_timeline(d)->n_stages == 0, "undo back to the empty timeline");

  // The document's copy (a save on another thread) carries the timeline.
  dg_document_redo(d);
  dg_document *c = dg_document_copy(d);
  dg_check(c && dg_timeline_equal(dg_document_timeline(c), &t), "dg_document_copy keeps the timeline");
  dg_document_free(c);

  // Edits the timeline panel makes: a drag clamped between the neighbours, a new frame count that keeps
  // the stages at the same place in time, a prompt replaced.
  dg_timeline e;
  dg_timeline_init(&e);
  dg_check_status(dg_timeline_copy(&e, &t), "copy");
  dg_check(dg_timeline_move_stage(&e, 1, 40) == 30 && dg_timeline_move_stage(&e, 1, -3) == 1 &&
               dg_timeline_move_stage(&e, 2, 99) == 31 && dg_timeline_move_stage(&e, 0, 5) == 0 &&
               dg_timeline_move_stage(&e, 3, 5) == -1,
           "stages move between their neighbours");
  dg_timeline_move_stage(&e, 1, 12);
  dg_check_status(dg_timeline_set_frames(&e, 64), "64 frames");
  dg_check(e.frames == 64 && e.stages[0].frame == 0 && e.stages[1].frame == 24 && e.stages[2].frame == 63,
           "stages scaled to 64 frames (%d %d %d)", e.stages[0].frame, e.stages[1].frame, e.stages[2].frame);
  dg_check_status(dg_timeline_set_frames(&e, 3), "3 frames");
  dg_check(e.stages[0].frame == 0 && e.stages[1].frame == 1 && e.stages[2].frame == 2 && dg_timeline_check(&e) == DG_OK,
           "squeezed to 3 frames, one apart (%d %d %d)", e.stages[0].frame, e.stages[1].frame, e.stages[2].frame);
  dg_check(dg_timeline_set_frames(&e, 2) == DG_ERR_ARG && strstr(dg_last_error(), "3 stages"),
           "fewer frames than stages refused: %s", dg_last_error());
  dg_check(dg_timeline_set_frames(&e, 200) == DG_ERR_ARG && e.frames == 3, "200 frames refused, nothing changed");
  dg_check_status(dg_timeline_set_prompt(&e, 2, "a street in fog"), "set a prompt");
  dg_check(!strcmp(e.stages[2].prompt, "a street in fog") && dg_timeline_set_prompt(&e, 3, "x") == DG_ERR_ARG,
           "a prompt replaced; a missing stage refused");
  dg_timeline_clear(&e);

  dg_check_status(dg_timeline_remove_stage(&t, 1), "remove stage 2");
  dg_check(t.n_stages == 2 && t.stages[1].frame == 31, "stage removed, order kept");
  dg_check(dg_timeline_remove_stage(&t, 5) == DG_ERR_ARG, "removing a missing stage refused");
  dg_tar tar;
  t.sigma_next = 8;
  const int64_t levels[2] = {16, 8}; // the default video UNet at 256 pixels: no attention at width 32
  dg_check_status(dg_timeline_tar(&t, levels, 2, &tar), "tar settings");
  dg_check(tar.n_res == 2 && tar.res_width[0] == 16 && tar.sigma[0] == 1 && tar.res_width[1] == 8 &&
               tar.sigma[1] == 8 && tar.until == 13,
           "TAR at the finest level with attention and the next");
  dg_check_status(dg_timeline_tar(&t, levels, 1, &tar), "tar on one level");
  dg_check(tar.n_res == 1 && tar.res_width[0] == 16, "a model with one attention level: sigma_next unused");
  t.sigma_fine = t.sigma_next = 0;
  dg_check_status(dg_timeline_tar(&t, levels, 2, &tar), "tar off");
  dg_check(tar.n_res == 0, "both sigmas 0: TAR off");
  dg_timeline_clear(&t);
  dg_timeline_clear(&bad);
  dg_document_free(d);
}

// The panel's edits (app/dg_timeline_edit): each one undo step, a drag coalesced into one, refusals
// leaving the document as it was, and the video result outside the history.
static void test_timeline_edits(void) {
  dg_document *d = dg_document_new(32, 64);
  const dg_timeline *t = dg_document_timeline(d);
  dg_check_status(dg_timeline_edit_set_frames(d, 8), "8 frames");
  dg_check_status(dg_timeline_edit_add_stage(d, 0, "day"), "stage at 0");
  dg_check_status(dg_timeline_edit_add_stage(d, 5, "night"), "stage at 5");
  int depth = dg_document_undo_depth(d);
  dg_check(depth == 3 && t->frames == 8 && t->n_stages == 2, "three edits, three steps (%d)", depth);
  // TAR's preset follows the frame count (more than 32 frames: sigma 8 at the next level too), unless chosen.
  dg_check_status(dg_timeline_edit_set_frames(d, 64), "64 frames");
  dg_check(t->sigma_fine == 1 && t->sigma_next == 8 && t->stages[1].frame == 45,
           "64 frames: sigmas 1 and 8, stage at %d", t->stages[1].frame);
  dg_check_status(dg_timeline_edit_set_frames(d, 8), "back to 8");
  dg_check(t->sigma_next == 0 && t->stages[1].frame == 5, "8 frames again: sigma 1 only, the stage back at 5 (%d)",
           t->stages[1].frame);
  dg_check_status(dg_timeline_edit_set_tar(d, 2, 0, 13), "sigma 2");
  dg_check_status(dg_timeline_edit_set_frames(d, 64), "64 frames");
  dg_check(t->sigma_fine == 2 && t->sigma_next == 0, "chosen sigmas stay");
  for (int i = 0; i < 4; i++)
    dg_document_undo(d);
  dg_check(t->frames == 8 && t->sigma_fine == 1 && dg_document_undo_depth(d) == depth, "undone");
  for (int f = 4; f >= 2; f--)
    dg_check_status(dg_timeline_edit_move_stage(d, 1, f, true), "drag");
  dg_document_seal_history(d);
  dg_check(t->stages[1].frame == 2 && dg_document_undo_depth(d) == depth + 1, "a drag is one step");
  dg_check_status(dg_timeline_edit_set_end(d, 0, 5, false), "resize stage 1 to end at 5");
  dg_check(t->stages[1].frame == 6, "the next stage starts after the resized one (%d)", t->stages[1].frame);
  dg_check(dg_timeline_edit_set_end(d, 1, 6, false) == DG_ERR_ARG && strstr(dg_last_error(), "last one"),
           "the last stage runs to the end: %s", dg_last_error());
  dg_check_status(dg_timeline_edit_set_prompt(d, 1, "dusk", false), "prompt");
  dg_check_status(dg_timeline_edit_set_fps(d, 12), "fps");
  dg_check_status(dg_timeline_edit_set_tar(d, 2, 8, 5), "tar");
  dg_check_status(dg_timeline_edit_set_keep_layout(d, false), "keep layout");
  dg_check(!strcmp(t->stages[1].prompt, "dusk") && t->fps == 12 && t->sigma_fine == 2 && t->sigma_next == 8 &&
               t->until == 5 && !t->keep_layout && dg_document_undo_depth(d) == depth + 6,
           "prompt, fps, TAR and keep-layout set, one step each");
  int before = dg_document_undo_depth(d);
  dg_check(dg_timeline_edit_set_fps(d, 0) == DG_ERR_ARG && dg_timeline_edit_add_stage(d, 6, "x") == DG_ERR_ARG &&
               dg_timeline_edit_remove_stage(d, 7) == DG_ERR_ARG &&
               dg_timeline_edit_set_tar(d, -1, 0, 3) == DG_ERR_ARG &&
               dg_timeline_edit_move_stage(d, 4, 1, false) == DG_ERR_ARG,
           "refused edits");
  dg_check(dg_document_undo_depth(d) == before && t->fps == 12, "refused edits change nothing");
  for (int i = 0; i < 6; i++)
    dg_document_undo(d);
  dg_check(t->stages[1].frame == 5 && !strcmp(t->stages[1].prompt, "night") && t->fps == 8 && t->keep_layout,
           "undone step by step");
  // The videos: each kept (adding is no undo step), the newest current; copied with the document; one
  // deleted as an undo step, which brings it back at its place.
  for (int i = 0; i < 3; i++) {
    dg_video_result v;
    dg_video_result_init(&v);
    dg_media_alloc(&v.frames, 8, 4, 2, 4);
    v.frames.data[5] = (uint8_t)(9 + i);
    dg_document_add_video(d, &v);
    dg_check(!v.frames.data, "the document takes video %d's frames", i + 1);
  }
  dg_check(dg_document_video_count(d) == 3 && dg_document_current_video(d) == 2 &&
               dg_document_video(d)->frames.data[5] == 11 && dg_document_undo_depth(d) == before - 6,
           "three videos kept, the newest current, no undo step");
  dg_document_set_current_video(d, 0);
  dg_check(dg_document_video(d)->frames.data[5] == 9, "the first video chosen");
  dg_document *c = dg_document_copy(d);
  dg_check(c && dg_document_video_count(c) == 3 && dg_document_current_video(c) == 0 &&
               dg_document_video(c)->frames.data != dg_document_video(d)->frames.data &&
               dg_document_video_at(c, 2)->frames.data[5] == 11,
           "a copy of the document has its own copies of the videos");
  dg_document_free(c);
  dg_check_status(dg_document_delete_video(d, 1), "delete video 2");
  dg_check(dg_document_video_count(d) == 2 && dg_document_current_video(d) == 0 &&
               dg_document_video_at(d, 1)->frames.data[5] == 11 && dg_document_undo_depth(d) == before - 5,
           "  ... gone, one undo step, the first still current");
  dg_check_status(dg_document_delete_video(d, 0), "delete the current video");
  dg_check(dg_document_video_count(d) == 1 && dg_document_video(d)->frames.data[5] == 11,
           "  ... its neighbour becomes current");
  dg_check(dg_document_delete_video(d, 5) == DG_ERR_ARG && strstr(dg_last_error(), "no video 6 to delete"),
           "  ... no such video: %s", dg_last_error());
  dg_document_undo(d);
  dg_document_undo(d);
  dg_check(dg_document_video_count(d) == 3 && dg_document_current_video(d) == 0 &&
               dg_document_video_at(d, 1)->frames.data[5] == 10 && dg_document_video(d)->frames.data[5] == 9,
           "  ... undone: both back at their places, the first current again");
  dg_document_redo(d);
  dg_check(dg_document_video_count(d) == 2 && dg_document_video_at(d, 1)->frames.data[5] == 11 &&
               dg_document_video(d)->frames.data[5] == 9,
           "  ... and redone: video 2 gone again");
  dg_document_undo(d);
  // The attention picture's layer and step: one undo step, bounded.
  before = dg_document_undo_depth(d);
  dg_check_status(dg_timeline_edit_set_attention(d, 2, 3), "attention: layer 2 at step 3");
  dg_check(t->attention_layer == 2 && t->attention_step == 3 && dg_document_undo_depth(d) == before + 1,
           "  ... set, one undo step");
  dg_check(dg_timeline_edit_set_attention(d, -1, 0) == DG_ERR_ARG &&
               strstr(dg_last_error(), "attention picture of layer -1 at step 0 (layers 0..63, steps 0..999)") &&
               dg_timeline_edit_set_attention(d, 0, 1000) == DG_ERR_ARG && t->attention_layer == 2,
           "  ... a layer or step out of range refused: %s", dg_last_error());
  dg_document_undo(d);
  dg_check(t->attention_layer == 0 && t->attention_step == 0, "  ... undone: layer 0 at step 0");
  dg_document_free(d);
}

int main(void) {
  test_attn_guidance();
  test_control_scale();
  test_timeline();
  test_timeline_edits();
  test_tools();
  test_undo();
  test_commands();
  test_palette();
  return dg_check_finish("test_document");
}
