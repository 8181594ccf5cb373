// DgDocument, the document as a GObject: property notifications for every change (edits, undo,
// redo), property writes as undo steps (typing merged), bindings that follow the document without
// loops, the layout-changed signal and the results as a GListModel.
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_document_object.h"

typedef struct counts {
  int steps, prompt, can_undo, current, generation, layout, items, control_scale;
  int x, y, w, h;
} counts;

static void on_notify(GObject *o, GParamSpec *pspec, gpointer user) {
  (void)o;
  counts *c = user;
  const char *n = g_param_spec_get_name(pspec);
  c->steps += !strcmp(n, "steps");
  c->control_scale += !strcmp(n, "control-scale");
  c->prompt += !strcmp(n, "prompt");
  c->can_undo += !strcmp(n, "can-undo");
  c->current += !strcmp(n, "current-result");
  c->generation += !strcmp(n, "generation");
}
static void on_layout(DgDocument *doc, int x, int y, int w, int h, gpointer user) {
  (void)doc;
  counts *c = user;
  c->layout++;
  c->x = x, c->y = y, c->w = w, c->h = h;
}
static void on_items(GListModel *m, guint pos, guint removed, guint added, gpointer user) {
  (void)m, (void)pos, (void)removed;
  ((counts *)user)->items += (int)added;
}

static int get_int(gpointer o, const char *name) {
  int v;
  g_object_get(o, name, &v, NULL);
  return v;
}
static double get_double(gpointer o, const char *name) {
  double v;
  g_object_get(o, name, &v, NULL);
  return v;
}

int main(void) {
  DgDocument *doc = dg_document_object_new(dg_document_new(32, 64));
  dg_document *m = dg_document_object_get_model(doc);
  counts c = {0};
  g_signal_connect(doc, "notify", G_CALLBACK(on_notify), &c);
  g_signal_connect(doc, "layout-changed", G_CALLBACK(on_layout), &c);
  g_signal_connect(dg_document_object_get_results(doc), "items-changed", G_CALLBACK(on_items), &c);
  dg_check(get_int(doc, "width") == 64 && get_int(doc, "height") == 32, "size properties");

  // Edits through the model notify the property; undo and redo too.
  dg_document_set_steps(m, 30);
  dg_check(c.steps == 1 && get_int(doc, "steps") == 30, "notify::steps on an edit (%d)", c.steps);
  dg_check(c.can_undo == 1 && c.generation >= 1, "can-undo and generation notified");
  dg_document_undo(m);
  dg_check(c.steps == 2 && get_int(doc, "steps") == 20 && c.can_undo == 2, "undo notifies steps and can-undo");
  dg_document_redo(m);
  dg_check(c.steps == 3 && get_int(doc, "steps") == 30 && c.can_undo == 3, "redo notifies");

  // Writing a property is an undo step.
  int depth = dg_document_undo_depth(m);
  g_object_set(doc, "guidance", 3.5, "seed", (guint64)18446744073709551615ull, "seed-random", TRUE, NULL);
  dg_check(dg_document_undo_depth(m) == depth + 3 && dg_document_guidance(m) == 3.5 &&
               dg_document_seed(m) == 18446744073709551615ull && dg_document_seed_random(m),
           "three property writes, three steps");
  dg_document_undo(m);
  dg_check(!dg_document_seed_random(m), "undo a property write");
  dg_document_redo(m);

  // The layout strength: "control-scale" notified on an edit and its undo, a write is one undo step, a bad
  // value changes nothing, and a binding follows it both ways.
  dg_check(get_double(doc, "control-scale") == 1, "control-scale 1 at first (%g)", get_double(doc, "control-scale"));
  depth = dg_document_undo_depth(m);
  dg_check_status(dg_document_set_control_scale(m, 1.5), "layout strength 1.5");
  dg_check(c.control_scale == 1 && get_double(doc, "control-scale") == 1.5, "notify::control-scale on an edit (%d)",
           c.control_scale);
  g_object_set(doc, "control-scale", 0.5, NULL);
  dg_check(dg_document_control_scale(m) == 0.5 && dg_document_undo_depth(m) == depth + 2 && c.control_scale == 2,
           "a property write is an undo step (%g, %d notifications)", dg_document_control_scale(m), c.control_scale);
  g_object_set(doc, "control-scale", 0.0, NULL); // in the property's range, refused by the document
  dg_check(dg_document_control_scale(m) == 0.5 && dg_document_undo_depth(m) == depth + 2 && c.control_scale == 2,
           "0 changes nothing (%g)", dg_document_control_scale(m));
  DgDocument *bound = dg_document_object_new(dg_document_new(8, 8));
  g_object_bind_property(doc, "control-scale", bound, "control-scale", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  dg_document_undo(m);
  dg_check(c.control_scale == 3 && get_double(bound, "control-scale") == 1.5, "undo notifies, the binding follows (%g)",
           get_double(bound, "control-scale"));
  g_object_set(bound, "control-scale", 3.0, NULL);
  dg_check(dg_document_control_scale(m) == 3 && dg_document_undo_depth(m) == depth + 2,
           "written through the binding: one undo step of the document (%g)", dg_document_control_scale(m));
  g_object_unref(bound);
  dg_document_undo(m);
  dg_document_undo(m);
  dg_check(dg_document_control_scale(m) == 1, "undone to 1 (%g)", dg_document_control_scale(m));

  // Text properties are typing: writes in quick succession are one step; after a pause, a new one.
  depth = dg_document_undo_depth(m);
  g_object_set(doc, "prompt", "a", NULL);
  g_object_set(doc, "prompt", "a r", NULL);
  g_object_set(doc, "prompt", "a red car", NULL);
  dg_check(dg_document_undo_depth(m) == depth + 1 && c.prompt == 3, "typing is one step, each keystroke notified");
  g_usleep(1100 * 1000);
  g_object_set(doc, "prompt", "a red car!", NULL);
  dg_check(dg_document_undo_depth(m) == depth + 2, "a pause of a second starts a new step");
  dg_document_undo(m);
  char *prompt = NULL;
  g_object_get(doc, "prompt", &prompt, NULL);
  dg_check(!strcmp(prompt, "a red car"), "undo after the pause -> '%s'", prompt);
  g_free(prompt);
  // The programmatic setter is always its own step.
  depth = dg_document_undo_depth(m);
  dg_check(dg_document_object_set_text(doc, DG_FIELD_MODEL, "/models/x") == DG_OK &&
               dg_document_object_set_text(doc, DG_FIELD_MODEL, "") == DG_ERR_ARG &&
               dg_document_undo_depth(m) == depth + 1,
           "set_text: one step; an empty model is refused");

  // A binding follows the document both ways, without loops: the steps of two documents.
  DgDocument *other = dg_document_object_new(dg_document_new(8, 8));
  g_object_bind_property(doc, "steps", other, "steps", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  dg_check(get_int(other, "steps") == 30, "sync-create");
  dg_document_set_steps(m, 7);
  dg_check(get_int(other, "steps") == 7, "the bound document follows an edit");
  dg_document_undo(dg_document_object_get_model(other));
  dg_check(get_int(other, "steps") == 30 && get_int(doc, "steps") == 30, "and back through the other's undo");
  g_object_unref(other);

  // Layout edits: the changed rectangle.
  dg_document_fill_rect(m, 3, 4, 10, 6, 9);
  dg_check(c.layout >= 1 && c.x == 3 && c.y == 4 && c.w == 8 && c.h == 3, "layout-changed (%d,%d %dx%d)", c.x, c.y, c.w,
           c.h);
  int layouts = c.layout;
  dg_document_undo(m);
  dg_check(c.layout == layouts + 1 && c.x == 3 && c.w == 8, "undo of a fill signals its rectangle");

  // Results: a GListModel of DgResult; adding one selects it.
  for (int k = 0; k < 2; k++) {
    dg_result r = {.width = 4, .height = 2, .seed = 5 + k, .steps = 3, .guidance = 2};
    r.rgba = calloc(32, 1);
    r.rgba[0] = (uint8_t)(10 + k);
    r.prompt = strdup("p"), r.negative = strdup("n"), r.model = strdup("m");
    dg_document_add_result(m, &r);
  }
  GListModel *results = dg_document_object_get_results(doc);
  DgResult *second = g_list_model_get_item(results, 1);
  dg_check(g_list_model_get_n_items(results) == 2 && c.items == 2, "two results in the list");
  dg_check(second && dg_result_object_get_index(second) == 1 && dg_result_object_get_info(second)->seed == 6 &&
               g_bytes_get_size(dg_result_object_get_pixels(second)) == 32 &&
               ((const uint8_t *)g_bytes_get_data(dg_result_object_get_pixels(second), NULL))[0] == 11,
           "the second result's settings and pixels");
  dg_check(get_int(doc, "current-result") == 1 && c.current == 2, "current-result follows (%d notifications)",
           c.current);
  g_object_set(doc, "current-result", 0, NULL);
  dg_check(dg_document_current_result(m) == 0 && c.current == 3, "writing current-result selects");
  g_object_unref(second);
  // A document opened with results lists them at once.
  dg_document *copy = dg_document_copy(m);
  DgDocument *opened = dg_document_object_new(copy);
  dg_check(g_list_model_get_n_items(dg_document_object_get_results(opened)) == 2 &&
               get_int(opened, "current-result") == 0,
           "results of an opened document");
  g_object_unref(opened);
  g_object_unref(doc);
  return dg_check_finish("test_document_object");
}
