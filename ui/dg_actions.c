// Every user action as an application GAction, so the editor can be scripted:
//   gapplication action org.dirigent.Dirigent paint-stroke '(4, 6, [(10, 20), (60, 40)])'
// Parameters are GVariant text; integers where integers suffice so untyped literals parse.
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "dg_editor.h"
#include "dg_memory.h"
#include "dg_model_choice.h"
#include "dg_project.h"
#include "dg_world.h"

#define ED(data) ((dg_editor *)(data))

static void act_undo(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_document_undo(ED(d)->doc);
}
static void act_redo(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_document_redo(ED(d)->doc);
}

// (class, radius, [(x, y), ...]) in layout pixels: one stroke = one undo step.
static void act_paint_stroke(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor *ed = d;
  gint32 cls, radius;
  GVariantIter *it;
  g_variant_get(p, "(iia(ii))", &cls, &radius, &it);
  gint32 x, y;
  double px = NAN, py = NAN;
  dg_document_edit_begin(ed->doc);
  while (g_variant_iter_next(it, "(ii)", &x, &y)) {
    // Pixel coordinates address pixel centres.
    double cx = x + 0.5, cy = y + 0.5;
    dg_document_paint_line(ed->doc, isnan(px) ? cx : px, isnan(py) ? cy : py, cx, cy, radius, cls);
    px = cx, py = cy;
  }
  dg_document_edit_end(ed->doc);
  g_variant_iter_free(it);
}

static void act_fill(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 x, y, cls;
  g_variant_get(p, "(iii)", &x, &y, &cls);
  dg_document_flood_fill(ED(d)->doc, x, y, cls);
}
static void act_fill_rect(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 x0, y0, x1, y1, cls;
  g_variant_get(p, "(iiiii)", &x0, &y0, &x1, &y1, &cls);
  dg_document_fill_rect(ED(d)->doc, x0, y0, x1, y1, cls);
}
static void act_fill_polygon(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 cls, x, y;
  GVariantIter *it;
  g_variant_get(p, "(ia(ii))", &cls, &it);
  GArray *xy = g_array_new(FALSE, FALSE, sizeof(double));
  while (g_variant_iter_next(it, "(ii)", &x, &y)) {
    double fx = x, fy = y;
    g_array_append_val(xy, fx);
    g_array_append_val(xy, fy);
  }
  g_variant_iter_free(it);
  dg_document_fill_polygon(ED(d)->doc, (const double *)(void *)xy->data, (int)(xy->len / 2), cls);
  g_array_free(xy, TRUE);
}

static void report(dg_editor *ed, dg_status st) {
  if (st != DG_OK) dg_editor_set_status(ed, "%s", dg_last_error());
}
static void act_set_prompt(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(ED(d), dg_document_set_text(ED(d)->doc, DG_FIELD_PROMPT, g_variant_get_string(p, NULL), false));
}
static void act_set_negative(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(ED(d), dg_document_set_text(ED(d)->doc, DG_FIELD_NEGATIVE, g_variant_get_string(p, NULL), false));
}
// 'default' or the absolute path of a model folder or checkpoint file, checked before it is used.
static void act_set_model(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor_set_model(ED(d), g_variant_get_string(p, NULL));
}
// 'folder' or 'file': asks for one with a file chooser.
static void act_choose_model(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *what = g_variant_get_string(p, NULL);
  if (!strcmp(what, "folder") || !strcmp(what, "file"))
    dg_editor_choose_model_dialog(ED(d), !strcmp(what, "folder"));
  else
    dg_editor_set_status(ED(d), "choose-model: '%s' is neither 'folder' nor 'file'", what);
}
// A decimal seed (fixes it) or "random".
static void act_set_seed(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor *ed = d;
  const char *s = g_variant_get_string(p, NULL);
  guint64 v;
  if (!strcmp(s, "random")) {
    dg_document_set_seed_random(ed->doc, true);
  } else if (g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL)) {
    dg_document_set_seed_random(ed->doc, false);
    dg_document_set_seed(ed->doc, v);
  } else {
    dg_editor_set_status(ed, "set-seed: '%s' is neither a whole number nor 'random'", s);
  }
}
static void act_set_steps(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(ED(d), dg_document_set_steps(ED(d)->doc, g_variant_get_int32(p)));
}
static void act_set_guidance(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(ED(d), dg_document_set_guidance(ED(d)->doc, g_variant_get_double(p)));
}

static void act_select_class(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor_select_class(ED(d), g_variant_get_int32(p));
}
static void act_set_tool(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  int t = dg_tool_from_name(g_variant_get_string(p, NULL));
  if (t >= 0)
    dg_editor_set_tool(ED(d), t);
  else
    dg_editor_set_status(ED(d), "set-tool: unknown tool '%s'", g_variant_get_string(p, NULL));
}
static void act_brush_size(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor_set_brush_radius(ED(d), g_variant_get_int32(p));
}
static void act_brush_bigger(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor_set_brush_radius(ED(d), ceil(ED(d)->brush_radius * 1.25));
}
static void act_brush_smaller(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor_set_brush_radius(ED(d), floor(ED(d)->brush_radius * 0.8));
}
static void act_set_opacity(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor_set_opacity(ED(d), g_variant_get_double(p));
}
static void act_zoom_in(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_canvas_zoom(ED(d), 1.25, -1, -1);
}
static void act_zoom_out(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_canvas_zoom(ED(d), 0.8, -1, -1);
}
static void act_zoom_fit(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_canvas_fit(ED(d));
}
static void act_select_result(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_document_set_current_result(ED(d)->doc, g_variant_get_int32(p));
}

// (height, width): a blank canvas.
static void act_new(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 h, w;
  g_variant_get(p, "(ii)", &h, &w);
  dg_document *doc = dg_document_new(h, w);
  if (!doc) {
    dg_editor_message(ED(d), GTK_MESSAGE_ERROR, "Could not make a new canvas", dg_last_error());
    return;
  }
  dg_editor_set_document(ED(d), doc, NULL);
}

bool dg_editor_random_layout(dg_editor *ed, uint64_t seed) {
  int w = dg_document_width(ed->doc), h = dg_document_height(ed->doc);
  uint8_t *ids = g_try_malloc((size_t)w * h);
  bool ok = ids ? dg_world_random_labels(seed, w, h, ids) == DG_OK : dg_memory_fail("the layout", (uint64_t)w * h) == DG_OK;
  if (!ok)
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Could not make a random layout", dg_last_error());
  else if (dg_document_set_layout(ed->doc, ids, h, w) == DG_OK)
    dg_editor_set_status(ed, "Random world layout, seed %llu (undo brings the old layout back)",
                         (unsigned long long)seed);
  g_free(ids);
  return ok;
}

// 'random' (a fresh seed) or a decimal seed: the layout of that world scene at the canvas size, as
// one undo step. Only the layout comes from the world; prompts, settings and results stay.
static void act_new_random_layout(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *s = g_variant_get_string(p, NULL);
  guint64 seed = g_random_int();
  if (strcmp(s, "random") && !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &seed, NULL)) {
    dg_editor_set_status(ED(d), "new-random-layout: '%s' is neither a whole number nor 'random'", s);
    return;
  }
  dg_editor_random_layout(ED(d), seed);
}

static void new_response(GtkDialog *dialog, int response, gpointer data) {
  dg_editor *ed = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    int h = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(g_object_get_data(G_OBJECT(dialog), "height")));
    int w = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(g_object_get_data(G_OBJECT(dialog), "width")));
    g_action_group_activate_action(G_ACTION_GROUP(ed->app), "new", g_variant_new("(ii)", h, w));
  }
  gtk_window_destroy(GTK_WINDOW(dialog));
}

// Asks for the size of a new blank canvas (default: the world's 128 x 256).
static void act_new_dialog(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor *ed = d;
  GtkWidget *dialog =
      gtk_dialog_new_with_buttons("New canvas", ed->window, GTK_DIALOG_MODAL | GTK_DIALOG_USE_HEADER_BAR, "_Cancel",
                                  GTK_RESPONSE_CANCEL, "_Create", GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
  gtk_widget_set_margin_start(grid, 16);
  gtk_widget_set_margin_end(grid, 16);
  gtk_widget_set_margin_top(grid, 16);
  gtk_widget_set_margin_bottom(grid, 16);
  const char *names[2] = {"height", "width"};
  const char *labels[2] = {"Height (pixels)", "Width (pixels)"};
  int values[2] = {DG_DOC_DEFAULT_HEIGHT, DG_DOC_DEFAULT_WIDTH};
  for (int i = 0; i < 2; i++) {
    GtkWidget *l = gtk_label_new(labels[i]);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    GtkWidget *spin = gtk_spin_button_new_with_range(8, DG_DOC_MAX_SIDE, 8);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), values[i]);
    gtk_entry_set_activates_default(GTK_ENTRY(gtk_editable_get_delegate(GTK_EDITABLE(spin))), TRUE);
    gtk_grid_attach(GTK_GRID(grid), l, 0, i, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), spin, 1, i, 1, 1);
    g_object_set_data(G_OBJECT(dialog), names[i], spin);
  }
  gtk_box_append(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), grid);
  g_signal_connect(dialog, "response", G_CALLBACK(new_response), ed);
  gtk_window_present(GTK_WINDOW(dialog));
}

// Path actions: an empty path asks with a file chooser.
static void act_open(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_editor_open_path(ED(d), path);
  else
    dg_editor_open_dialog(ED(d));
}
static void act_save(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor *ed = d;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_editor_save_path(ed, path);
  else if (ed->path)
    dg_editor_save_path(ed, ed->path);
  else
    dg_editor_save_dialog(ed);
}
static void act_save_as(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_editor_save_path(ED(d), path);
  else
    dg_editor_save_dialog(ED(d));
}
static void act_import(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_editor_import_layout(ED(d), path);
  else
    dg_editor_import_dialog(ED(d));
}
static void act_export(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_editor_export_png(ED(d), path);
  else
    dg_editor_export_dialog(ED(d));
}
static void act_recover(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor_recover(ED(d));
}

static void act_generate(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor_generate(ED(d));
}
static void act_cancel(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor_cancel(ED(d));
}

// For tests and scripts: the raw layout (height*width class ids, row-major).
static void act_dump_layout(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor *ed = d;
  GError *err = NULL;
  if (!g_file_set_contents(g_variant_get_string(p, NULL), (const char *)dg_document_layout(ed->doc),
                           (gssize)dg_document_width(ed->doc) * dg_document_height(ed->doc), &err)) {
    dg_editor_set_status(ed, "dump-layout: %s", err->message);
    g_error_free(err);
  }
}

// For tests and scripts: the editor's state as JSON.
static void act_dump_state(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_editor *ed = d;
  GVariantBuilder dialogs;
  g_variant_builder_init(&dialogs, G_VARIANT_TYPE("as"));
  for (guint i = 0; i < ed->dialog_log->len; i++)
    g_variant_builder_add(&dialogs, "s", (const char *)g_ptr_array_index(ed->dialog_log, i));
  int64_t areas[256];
  dg_document_class_areas(ed->doc, areas);
  // view: where layout pixel (0, 0)'s corner is on the window's surface, and the zoom, so that tests
  // can aim real pointer events at layout pixels.
  graphene_point_t o = GRAPHENE_POINT_INIT((float)ed->origin_x, (float)ed->origin_y), q = o;
  double sx = 0, sy = 0;
  if (!gtk_widget_compute_point(ed->canvas, GTK_WIDGET(ed->window), &o, &q)) q = o;
  gtk_native_get_surface_transform(GTK_NATIVE(ed->window), &sx, &sy);
  GVariant *dict = g_variant_ref_sink(g_variant_new_parsed(
      "{'path': <%s>, 'modified': <%b>, 'undo_depth': <%i>, 'can_redo': <%b>, 'width': <%i>, 'height': <%i>,"
      " 'tool': <%s>, 'class': <%i>, 'brush_radius': <%d>, 'prompt': <%s>, 'negative': <%s>, 'seed': <%t>,"
      " 'seed_random': <%b>, 'steps': <%i>, 'guidance': <%d>, 'results': <%i>, 'generating': <%b>,"
      " 'progress': <%s>, 'status': <%s>, 'unlabelled_pixels': <%x>, 'dialogs': <%v>, 'model': <%s>,"
      " 'view': <(%d, %d, %d)>, 'model_name': <%s>, 'model_kind': <%s>}",
      ed->path ? ed->path : "", dg_document_generation(ed->doc) != ed->saved_generation,
      dg_document_undo_depth(ed->doc), dg_document_can_redo(ed->doc), dg_document_width(ed->doc),
      dg_document_height(ed->doc), dg_tool_name(ed->tool), ed->cls, ed->brush_radius, dg_document_prompt(ed->doc),
      dg_document_negative(ed->doc), (guint64)dg_document_seed(ed->doc), dg_document_seed_random(ed->doc),
      dg_document_steps(ed->doc), dg_document_guidance(ed->doc), dg_document_result_count(ed->doc), ed->job != NULL,
      gtk_progress_bar_get_text(GTK_PROGRESS_BAR(ed->progress)), gtk_label_get_text(GTK_LABEL(ed->status)),
      (gint64)areas[DG_UNLABELLED], g_variant_builder_end(&dialogs), dg_document_model(ed->doc), q.x + sx, q.y + sy,
      ed->zoom, gtk_menu_button_get_label(GTK_MENU_BUTTON(ed->model_button)),
      gtk_label_get_text(GTK_LABEL(ed->model_kind))));
  JsonNode *node = json_gvariant_serialize(dict);
  char *text = json_to_string(node, TRUE);
  json_node_unref(node);
  GError *err = NULL;
  if (!g_file_set_contents(g_variant_get_string(p, NULL), text, -1, &err)) {
    dg_editor_set_status(ed, "dump-state: %s", err->message);
    g_error_free(err);
  }
  g_free(text);
  g_variant_unref(dict);
}

static void act_screenshot(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  if (!dg_editor_screenshot(ED(d), g_variant_get_string(p, NULL)))
    dg_editor_set_status(ED(d), "screenshot: could not render the window");
}

static void act_shortcuts(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor *ed = d;
  GtkBuilder *b = gtk_builder_new_from_resource("/org/dirigent/Dirigent/shortcuts.ui");
  GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "shortcuts"));
  gtk_window_set_transient_for(w, ed->window);
  gtk_window_present(w);
  g_object_unref(b);
}

// Closes the window; with unsaved changes it first asks whether to save them.
static void act_quit(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor *ed = d;
  gtk_window_close(ed->window);
}
// Closes without asking; unsaved changes are lost.
static void act_quit_discard(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  dg_editor *ed = d;
  ed->close_confirmed = true;
  gtk_window_close(ed->window);
}

void dg_actions_install(dg_editor *ed) {
  const GActionEntry entries[] = {
      {"undo", act_undo, NULL, NULL, NULL, {0}},
      {"redo", act_redo, NULL, NULL, NULL, {0}},
      {"paint-stroke", act_paint_stroke, "(iia(ii))", NULL, NULL, {0}},
      {"fill", act_fill, "(iii)", NULL, NULL, {0}},
      {"fill-rect", act_fill_rect, "(iiiii)", NULL, NULL, {0}},
      {"fill-polygon", act_fill_polygon, "(ia(ii))", NULL, NULL, {0}},
      {"set-prompt", act_set_prompt, "s", NULL, NULL, {0}},
      {"set-negative", act_set_negative, "s", NULL, NULL, {0}},
      {"set-model", act_set_model, "s", NULL, NULL, {0}},
      {"choose-model", act_choose_model, "s", NULL, NULL, {0}},
      {"set-seed", act_set_seed, "s", NULL, NULL, {0}},
      {"set-steps", act_set_steps, "i", NULL, NULL, {0}},
      {"set-guidance", act_set_guidance, "d", NULL, NULL, {0}},
      {"select-class", act_select_class, "i", NULL, NULL, {0}},
      {"set-tool", act_set_tool, "s", NULL, NULL, {0}},
      {"brush-size", act_brush_size, "i", NULL, NULL, {0}},
      {"brush-bigger", act_brush_bigger, NULL, NULL, NULL, {0}},
      {"brush-smaller", act_brush_smaller, NULL, NULL, NULL, {0}},
      {"set-opacity", act_set_opacity, "d", NULL, NULL, {0}},
      {"zoom-in", act_zoom_in, NULL, NULL, NULL, {0}},
      {"zoom-out", act_zoom_out, NULL, NULL, NULL, {0}},
      {"zoom-fit", act_zoom_fit, NULL, NULL, NULL, {0}},
      {"select-result", act_select_result, "i", NULL, NULL, {0}},
      {"new", act_new, "(ii)", NULL, NULL, {0}},
      {"new-dialog", act_new_dialog, NULL, NULL, NULL, {0}},
      {"new-random-layout", act_new_random_layout, "s", NULL, NULL, {0}},
      {"open", act_open, "s", NULL, NULL, {0}},
      {"save", act_save, "s", NULL, NULL, {0}},
      {"save-as", act_save_as, "s", NULL, NULL, {0}},
      {"import-layout", act_import, "s", NULL, NULL, {0}},
      {"export", act_export, "s", NULL, NULL, {0}},
      {"recover", act_recover, NULL, NULL, NULL, {0}},
      {"generate", act_generate, NULL, NULL, NULL, {0}},
      {"cancel", act_cancel, NULL, NULL, NULL, {0}},
      {"dump-layout", act_dump_layout, "s", NULL, NULL, {0}},
      {"dump-state", act_dump_state, "s", NULL, NULL, {0}},
      {"screenshot", act_screenshot, "s", NULL, NULL, {0}},
      {"shortcuts", act_shortcuts, NULL, NULL, NULL, {0}},
      {"quit", act_quit, NULL, NULL, NULL, {0}},
      {"quit-discard", act_quit_discard, NULL, NULL, NULL, {0}},
  };
  g_action_map_add_action_entries(G_ACTION_MAP(ed->app), entries, G_N_ELEMENTS(entries), ed);

  struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
      {"app.undo", {"<Control>z", NULL}},
      {"app.redo", {"<Control><Shift>z", "<Control>y", NULL}},
      {"app.generate", {"<Control>Return", "<Control>KP_Enter", NULL}},
      {"app.save('')", {"<Control>s", NULL}},
      {"app.save-as('')", {"<Control><Shift>s", NULL}},
      {"app.open('')", {"<Control>o", NULL}},
      {"app.new-dialog", {"<Control>n", NULL}},
      {"app.export('')", {"<Control>e", NULL}},
      {"app.shortcuts", {"<Control>question", "F1", NULL}},
      {"app.zoom-in", {"<Control>plus", "<Control>equal", NULL}},
      {"app.zoom-out", {"<Control>minus", NULL}},
      {"app.zoom-fit", {"<Control>0", NULL}},
      {"app.quit", {"<Control>q", NULL}},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(ed->app, accels[i].action, accels[i].accels);

  // Keys that text fields need ([, ], Escape) are window shortcuts in the bubble phase, so that a
  // focused prompt gets them first.
  GtkEventController *sc = gtk_shortcut_controller_new();
  const char *keys[][2] = {
      {"bracketleft", "app.brush-smaller"}, {"bracketright", "app.brush-bigger"}, {"Escape", "app.cancel"},
      {"b", "app.set-tool('brush')"},       {"e", "app.set-tool('eraser')"},      {"f", "app.set-tool('fill')"},
      {"r", "app.set-tool('rect')"},        {"p", "app.set-tool('polygon')"},     {"i", "app.set-tool('eyedropper')"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    GtkShortcutAction *action;
    GVariant *target = NULL;
    char *name = NULL;
    g_action_parse_detailed_name(keys[i][1], &name, &target, NULL);
    action = gtk_named_action_new(name);
    GtkShortcut *s = gtk_shortcut_new(gtk_shortcut_trigger_parse_string(keys[i][0]), action);
    if (target) gtk_shortcut_set_arguments(s, target);
    gtk_shortcut_controller_add_shortcut(GTK_SHORTCUT_CONTROLLER(sc), s);
    g_free(name);
    if (target) g_variant_unref(target);
  }
  gtk_widget_add_controller(GTK_WIDGET(ed->window), sc);
}
