// Parameters are GVariant text; integers where integers suffice so untyped literals parse.
#include "dg_actions.h"

#include <math.h>
#include <string.h>

#include "dg_files.h"
#include "dg_marks.h"
#include "dg_memory.h"
#include "dg_model_choice.h"
#include "dg_palette_panel.h"
#include "dg_style_edit.h"
#include "dg_timeline_edit.h"
#include "dg_world.h"

#define WIN(data) ((DgWindow *)(data))
#define MODEL(data) dg_window_get_model(WIN(data))
#define CANVAS(data) dg_window_get_canvas(WIN(data))

// Actions without a parameter: each a call on the window.
static void undo(DgWindow *w) { dg_document_undo(dg_window_get_model(w)); }
static void redo(DgWindow *w) { dg_document_redo(dg_window_get_model(w)); }
static void brush_bigger(DgWindow *w) {
  dg_canvas_set_brush_radius(CANVAS(w), ceil(dg_canvas_get_brush_radius(CANVAS(w)) * 1.25));
}
static void brush_smaller(DgWindow *w) {
  dg_canvas_set_brush_radius(CANVAS(w), floor(dg_canvas_get_brush_radius(CANVAS(w)) * 0.8));
}
static void zoom_in(DgWindow *w) { dg_canvas_zoom_by(CANVAS(w), 1.25); }
static void zoom_out(DgWindow *w) { dg_canvas_zoom_by(CANVAS(w), 0.8); }
static void zoom_fit(DgWindow *w) { dg_canvas_fit(CANVAS(w)); }
static void recover(DgWindow *w) { dg_files_recover(w); }
// quit: closes the window, asking first whether to save unsaved changes; quit-discard does not ask.
static void quit(DgWindow *w) { gtk_window_close(GTK_WINDOW(w)); }
static const struct {
  const char *action;
  void (*fn)(DgWindow *);
} simple_actions[] = {
    {"undo", undo},
    {"redo", redo},
    {"brush-bigger", brush_bigger},
    {"brush-smaller", brush_smaller},
    {"zoom-in", zoom_in},
    {"zoom-out", zoom_out},
    {"zoom-fit", zoom_fit},
    {"recover", recover},
    {"quit", quit},
    {"generate", dg_window_generate},
    {"generate-video", dg_window_generate_video},
    {"cancel-export", dg_window_cancel_export},
    {"cancel", dg_window_cancel},
    {"quit-discard", dg_window_close_discarding},
};
static void act_simple(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)p;
  for (size_t i = 0; i < G_N_ELEMENTS(simple_actions); i++)
    if (!strcmp(g_action_get_name(G_ACTION(a)), simple_actions[i].action)) simple_actions[i].fn(WIN(d));
}

// (class, radius, [(x, y), ...]) in layout pixels: one stroke = one undo step.
static void act_paint_stroke(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 cls, radius, x, y;
  GVariantIter *it;
  g_variant_get(p, "(iia(ii))", &cls, &radius, &it);
  GArray *xy = g_array_new(FALSE, FALSE, sizeof(int));
  while (g_variant_iter_next(it, "(ii)", &x, &y)) {
    g_array_append_val(xy, x);
    g_array_append_val(xy, y);
  }
  g_variant_iter_free(it);
  dg_document_paint_stroke(MODEL(d), (const int *)(void *)xy->data, (int)(xy->len / 2), radius, cls);
  g_array_free(xy, TRUE);
}

static void act_fill(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 x, y, cls;
  g_variant_get(p, "(iii)", &x, &y, &cls);
  dg_document_flood_fill(MODEL(d), x, y, cls);
}
static void act_fill_rect(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 x0, y0, x1, y1, cls;
  g_variant_get(p, "(iiiii)", &x0, &y0, &x1, &y1, &cls);
  dg_document_fill_rect(MODEL(d), x0, y0, x1, y1, cls);
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
  dg_document_fill_polygon(MODEL(d), (const double *)(void *)xy->data, (int)(xy->len / 2), cls);
  g_array_free(xy, TRUE);
}

static void report(gpointer d, dg_status st) {
  if (st != DG_OK) dg_window_set_status(WIN(d), "%s", dg_last_error());
}
static void act_set_prompt(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_text(MODEL(d), DG_FIELD_PROMPT, g_variant_get_string(p, NULL), false));
}
static void act_set_negative(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_text(MODEL(d), DG_FIELD_NEGATIVE, g_variant_get_string(p, NULL), false));
}
static void act_set_marks(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_text(MODEL(d), DG_FIELD_MARKS, g_variant_get_string(p, NULL), false));
}
// The marked objects' attention guidance by name: none, attend-excite or divide-bind (one undo step).
static void act_set_attn_guidance(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_text(MODEL(d), DG_FIELD_ATTN_GUIDANCE, g_variant_get_string(p, NULL), false));
}
// Clicking the prompt's word at a byte offset, as Ctrl+click does (dg_prompt_panel_mark_at).
static void act_mark_word_at(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_prompt_panel_mark_at(dg_window_get_prompt_panel(WIN(d)), g_variant_get_int32(p));
}
// Shows the heatmap of a marks item over the preview ("" for none), as hovering its chip does.
static void act_show_heatmap(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *item = g_variant_get_string(p, NULL);
  dg_job_runner_show_heatmap(dg_window_get_runner(WIN(d)), *item ? item : NULL);
}
// The suggestion (class words as objects, colour words bound to them) replaces the marks: one undo step.
static void act_suggest_marks(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  const dg_palette *pal = dg_window_get_palette(WIN(d));
  int n = pal ? dg_palette_count(pal) : 0;
  const char **names = g_new0(const char *, n + 1);
  for (int i = 0; i < n; i++)
    names[i] = dg_palette_class_at(pal, i)->name;
  char *text = dg_marks_suggest(dg_document_prompt(MODEL(d)), names, n);
  report(d, dg_document_set_text(MODEL(d), DG_FIELD_MARKS, text, false));
  g_free(text);
  g_free(names);
}

// Sets the document's model choice ("default" or a folder or file, made absolute) after checking that
// it can be loaded; otherwise an error dialog naming the file, and the document is unchanged.
static bool set_model(DgWindow *win, const char *choice) {
  dg_document *m = dg_window_get_model(win);
  if (dg_model_choice_is_default(choice))
    return dg_document_set_text(m, DG_FIELD_MODEL, DG_MODEL_DEFAULT, false) == DG_OK;
  // Projects remember the absolute path.
  char *path = g_canonicalize_filename(choice, NULL);
  char kind[512];
  bool ok = dg_model_choice_check(path, kind, sizeof kind) == DG_OK;
  if (!ok) {
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not load the model", dg_last_error());
  } else if (dg_document_set_text(m, DG_FIELD_MODEL, path, false) != DG_OK) {
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not use the model", dg_last_error());
    ok = false;
  } else {
    char *name = dg_model_choice_name(path);
    dg_window_set_status(win, "Model %s — %s", name, kind);
    g_free(name);
  }
  g_free(path);
  return ok;
}
// 'default' or the absolute path of a model folder or checkpoint file, checked before it is used.
static void act_set_model(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  set_model(WIN(d), g_variant_get_string(p, NULL));
}
// 'folder' or 'file': asks for one with a file chooser.
static void act_choose_model(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *what = g_variant_get_string(p, NULL);
  if (!strcmp(what, "folder"))
    dg_files_choose(WIN(d), "Choose a model folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL, NULL, set_model);
  else if (!strcmp(what, "file"))
    dg_files_choose(WIN(d), "Choose a checkpoint file", GTK_FILE_CHOOSER_ACTION_OPEN, 
                    "*.safetensors;*.ckpt;*.pt;*.pth;*.bin", "Checkpoints (.safetensors, .ckpt, .pt, .pth, .bin)",
                    set_model);
  else
    dg_window_set_status(WIN(d), "choose-model: '%s' is neither 'folder' nor 'file'", what);
}
// A decimal seed (fixes it) or "random".
static void act_set_seed(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_document *m = MODEL(d);
  const char *s = g_variant_get_string(p, NULL);
  guint64 v;
  if (!strcmp(s, "random")) {
    dg_document_set_seed_random(m, true);
  } else if (g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL)) {
    dg_document_set_seed_random(m, false);
    dg_document_set_seed(m, v);
  } else {
    dg_window_set_status(WIN(d), "set-seed: '%s' is neither a whole number nor 'random'", s);
  }
}
static void act_set_steps(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_steps(MODEL(d), g_variant_get_int32(p)));
}
static void act_set_guidance(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_guidance(MODEL(d), g_variant_get_double(p)));
}
// The layout strength (the layout ControlNet's scale): one undo step; a value outside above 0 .. 4 is refused.
static void act_set_control_scale(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_set_control_scale(MODEL(d), g_variant_get_double(p)));
}

static void act_set_palette(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_window_convert_palette(WIN(d), g_variant_get_string(p, NULL));
}
static void act_search_classes(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_palette_panel_search(dg_window_get_palette_panel(WIN(d)), g_variant_get_string(p, NULL));
}
static void act_select_class(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_canvas_set_class(CANVAS(d), g_variant_get_int32(p));
}
// The tool buttons show this action's state (its target); the canvas's tool is the state.
static void act_set_tool(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  int t = dg_tool_from_name(g_variant_get_string(p, NULL));
  if (t >= 0)
    dg_canvas_set_tool(CANVAS(d), t);
  else
    dg_window_set_status(WIN(d), "set-tool: unknown tool '%s'", g_variant_get_string(p, NULL));
}
static void tool_changed(DgCanvas *canvas, GParamSpec *pspec, GSimpleAction *action) {
  (void)pspec;
  g_simple_action_set_state(action, g_variant_new_string(dg_tool_name(dg_canvas_get_tool(canvas))));
}
static void act_brush_size(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_canvas_set_brush_radius(CANVAS(d), g_variant_get_int32(p));
}
static void act_set_opacity(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_canvas_set_overlay_opacity(CANVAS(d), g_variant_get_double(p));
}
static void act_select_result(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_document_set_current_result(MODEL(d), g_variant_get_int32(p));
}

// A video of the results strip (0-based): it becomes the one the timeline player shows.
static void act_select_video(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_document_set_current_video(MODEL(d), g_variant_get_int32(p));
}
static void act_delete_video(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_document_delete_video(MODEL(d), g_variant_get_int32(p)));
}

// (height, width): a blank canvas.
static void act_new(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 h, w;
  g_variant_get(p, "(ii)", &h, &w);
  dg_document *m = dg_document_new(h, w);
  if (!m) {
    dg_window_message(WIN(d), GTK_MESSAGE_ERROR, "Could not make a new canvas", dg_last_error());
    return;
  }
  DgDocument *doc = dg_document_object_new(m);
  dg_window_set_document(WIN(d), doc, NULL);
  g_object_unref(doc);
}

// 'random' (a fresh seed) or a decimal seed: the label map of that world scene at the canvas size,
// as one undo step. Only the layout comes from the world; prompts, settings and results stay.
static void act_new_random_layout(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  DgWindow *win = d;
  const char *s = g_variant_get_string(p, NULL);
  guint64 seed = g_random_int();
  if (strcmp(s, "random") && !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &seed, NULL)) {
    dg_window_set_status(win, "new-random-layout: '%s' is neither a whole number nor 'random'", s);
    return;
  }
  dg_document *m = dg_window_get_model(win);
  int w = dg_document_width(m), h = dg_document_height(m);
  uint8_t *ids = g_try_malloc((size_t)w * h);
  bool ok = ids ? dg_world_random_labels(seed, w, h, ids) == DG_OK : dg_memory_fail("the layout", (uint64_t)w * h) == DG_OK;
  if (!ok)
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not make a random layout", dg_last_error());
  else if (dg_document_set_layout(m, ids, h, w) == DG_OK)
    dg_window_set_status(win, "Random world layout, seed %llu (undo brings the old layout back)",
                         (unsigned long long)seed);
  g_free(ids);
}

static void new_response(GtkDialog *dialog, int response, gpointer data) {
  if (response == GTK_RESPONSE_ACCEPT) {
    int h = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(g_object_get_data(G_OBJECT(dialog), "height")));
    int w = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(g_object_get_data(G_OBJECT(dialog), "width")));
    g_action_group_activate_action(G_ACTION_GROUP(data), "new", g_variant_new("(ii)", h, w));
  }
  gtk_window_destroy(GTK_WINDOW(dialog));
}

// Asks for the size of a new blank canvas (default: the world's 128 x 256).
static void act_new_dialog(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  GtkWidget *dialog =
      gtk_dialog_new_with_buttons("New canvas", GTK_WINDOW(d), GTK_DIALOG_MODAL | GTK_DIALOG_USE_HEADER_BAR, "_Cancel",
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
    gtk_text_set_activates_default(GTK_TEXT(gtk_editable_get_delegate(GTK_EDITABLE(spin))), TRUE);
    gtk_grid_attach(GTK_GRID(grid), l, 0, i, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), spin, 1, i, 1, 1);
    g_object_set_data(G_OBJECT(dialog), names[i], spin);
  }
  gtk_box_append(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), grid);
  g_signal_connect(dialog, "response", G_CALLBACK(new_response), gtk_window_get_application(GTK_WINDOW(d)));
  gtk_window_present(GTK_WINDOW(dialog));
}

// Path actions: a path, or '' to ask with a file chooser. Save without a path saves where the
// document was saved or opened, if anywhere.
static const struct {
  const char *action;
  bool (*with_path)(DgWindow *, const char *);
  void (*ask)(DgWindow *);
} path_actions[] = {
    {"open", dg_files_open, dg_files_open_dialog},
    {"save", dg_files_save, dg_files_save_dialog},
    {"save-as", dg_files_save, dg_files_save_dialog},
    {"import-layout", dg_files_import_layout, dg_files_import_dialog},
    {"export", dg_files_export_png, dg_files_export_dialog},
};
static void act_path(GSimpleAction *a, GVariant *p, gpointer d) {
  const char *name = g_action_get_name(G_ACTION(a)), *path = g_variant_get_string(p, NULL);
  if (!*path && !strcmp(name, "save")) path = dg_window_get_path(WIN(d)) ? dg_window_get_path(WIN(d)) : "";
  for (size_t i = 0; i < G_N_ELEMENTS(path_actions); i++)
    if (!strcmp(name, path_actions[i].action)) {
      if (*path)
        path_actions[i].with_path(WIN(d), path);
      else
        path_actions[i].ask(WIN(d));
    }
}

// ---- the video timeline: every edit one undo step through the document's timeline command ----------

#define PANEL(data) dg_window_get_timeline_panel(WIN(data))
// (frame, prompt): a stage at that frame.
static void act_timeline_add_stage(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 frame;
  const char *prompt;
  g_variant_get(p, "(i&s)", &frame, &prompt);
  report(d, dg_timeline_edit_add_stage(MODEL(d), frame, prompt));
}
static void act_timeline_remove_stage(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_timeline_edit_remove_stage(MODEL(d), g_variant_get_int32(p)));
}
// (stage, frame): dragging its block there (clamped between its neighbours).
static void act_timeline_move_stage(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 i, frame;
  g_variant_get(p, "(ii)", &i, &frame);
  report(d, dg_timeline_edit_move_stage(MODEL(d), i, frame, false));
}
// (stage, last frame): dragging its block's right edge; the next stage starts after it.
static void act_timeline_resize_stage(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 i, last;
  g_variant_get(p, "(ii)", &i, &last);
  report(d, dg_timeline_edit_set_end(MODEL(d), i, last, false));
}
static void act_timeline_set_prompt(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 i;
  const char *prompt;
  g_variant_get(p, "(i&s)", &i, &prompt);
  report(d, dg_timeline_edit_set_prompt(MODEL(d), i, prompt, false));
}
static void act_timeline_select_stage(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_timeline_panel_set_selected(PANEL(d), g_variant_get_int32(p));
}
static void act_timeline_set_frames(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_timeline_edit_set_frames(MODEL(d), g_variant_get_int32(p)));
}
static void act_timeline_set_fps(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_timeline_edit_set_fps(MODEL(d), g_variant_get_double(p)));
}
// (sigma at the finest level, sigma at the next, until step)
static void act_timeline_set_tar(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  double fine, next;
  gint32 until;
  g_variant_get(p, "(ddi)", &fine, &next, &until);
  report(d, dg_timeline_edit_set_tar(MODEL(d), fine, next, until));
}
// (temporal layer, sampler step) of the attention picture
static void act_timeline_set_attention(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  gint32 layer, step;
  g_variant_get(p, "(ii)", &layer, &step);
  report(d, dg_timeline_edit_set_attention(MODEL(d), layer, step));
}
// 'linear', 'same' or 'off': video synopsis prompting.
static void act_timeline_set_vsp(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *name = g_variant_get_string(p, NULL);
  const char *names[] = {"off", "linear", "same"};
  for (int i = 0; i < 3; i++)
    if (!strcmp(name, names[i])) {
      report(d, dg_timeline_edit_set_vsp(MODEL(d), (dg_vsp_mode)i));
      return;
    }
  dg_window_set_status(WIN(d), "timeline-set-vsp: '%s' is not linear, same or off", name);
}
static void act_timeline_keep_layout(GSimpleAction *a, GVariant *v, gpointer d) {
  (void)a;
  report(d, dg_timeline_edit_set_keep_layout(MODEL(d), g_variant_get_boolean(v)));
}
static void act_playhead(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_timeline_panel_set_playhead(PANEL(d), g_variant_get_int32(p));
}
static void act_play(GSimpleAction *a, GVariant *v, gpointer d) {
  (void)a;
  dg_timeline_panel_set_playing(PANEL(d), g_variant_get_boolean(v));
  if (g_variant_get_boolean(v) && !dg_timeline_panel_get_playing(PANEL(d)))
    dg_window_set_status(WIN(d), "Nothing to play yet: generate a video of the timeline first");
}
static void act_loop(GSimpleAction *a, GVariant *v, gpointer d) {
  (void)a;
  dg_timeline_panel_set_loop(PANEL(d), g_variant_get_boolean(v));
}
static bool export_video_to(DgWindow *w, const char *path) { return dg_window_export_video(w, path); }
static void act_export_video(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  const char *path = g_variant_get_string(p, NULL);
  if (*path)
    dg_window_export_video(WIN(d), path);
  else
    dg_files_choose(WIN(d), "Export the video (.mp4, .webm, .gif, or a new folder for PNG frames)",
                    GTK_FILE_CHOOSER_ACTION_SAVE, "*.mp4;*.webm;*.gif", "Videos (.mp4, .webm, .gif)", export_video_to);
}

// ---- the style panel: every edit one undo step through app/dg_style_edit ----------------------------
#define STYLE(data) dg_window_get_style_panel(WIN(data))

// 'result N', 'world N', 'world random', a PNG's or JPEG's path, or '' to empty the slot.
static void act_style_set_slot(GSimpleAction *a, GVariant *p, gpointer d) {
  dg_style_slot slot =
      strcmp(g_action_get_name(G_ACTION(a)), "style-set-content") ? DG_STYLE_EXEMPLAR : DG_STYLE_CONTENT;
  dg_style_panel_fill(STYLE(d), slot, g_variant_get_string(p, NULL));
}
static bool choose_content(DgWindow *w, const char *path) {
  return dg_style_panel_fill(dg_window_get_style_panel(w), DG_STYLE_CONTENT, path);
}
static bool choose_exemplar(DgWindow *w, const char *path) {
  return dg_style_panel_fill(dg_window_get_style_panel(w), DG_STYLE_EXEMPLAR, path);
}
static void act_style_choose(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  bool content = !strcmp(g_variant_get_string(p, NULL), "content");
  dg_files_choose(WIN(d), content ? "The style's content (a PNG or JPEG)" : "The style exemplar (a PNG or JPEG)",
                  GTK_FILE_CHOOSER_ACTION_OPEN, "*.png;*.jpg;*.jpeg", "PNG and JPEG images",
                  content ? choose_content : choose_exemplar);
}
static void act_style_set_method(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_stylize_method m;
  const char *name = g_variant_get_string(p, NULL);
  if (!dg_stylize_method_parse(name, &m))
    dg_window_set_status(WIN(d), "style-set-method: '%s' is not fda or mne", name);
  else
    report(d, dg_style_edit_set_method(MODEL(d), m));
}
static void act_style_set_strength(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  report(d, dg_style_edit_set_strength(MODEL(d), g_variant_get_double(p), false));
}
static void act_style_apply(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)p;
  dg_style_panel_apply(STYLE(d), !strcmp(g_action_get_name(G_ACTION(a)), "style-apply-all"));
}
static void act_style_compare(GSimpleAction *a, GVariant *v, gpointer d) {
  g_simple_action_set_state(a, v);
  dg_style_panel_set_compare(STYLE(d), g_variant_get_boolean(v));
}

// The stateful timeline actions show the document's and the panel's state.
static void timeline_state(DgDocument *doc, GActionMap *map) {
  g_simple_action_set_state(
      G_SIMPLE_ACTION(g_action_map_lookup_action(map, "timeline-keep-layout")),
      g_variant_new_boolean(dg_document_timeline(dg_document_object_get_model(doc))->keep_layout));
}
static void playing_state(DgTimelinePanel *panel, GParamSpec *pspec, GActionMap *map) {
  (void)pspec;
  g_simple_action_set_state(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "play")),
                            g_variant_new_boolean(dg_timeline_panel_get_playing(panel)));
  g_simple_action_set_state(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "loop")),
                            g_variant_new_boolean(dg_timeline_panel_get_loop(panel)));
}

static void write_file(gpointer d, const char *what, const char *path, const char *data, gssize len) {
  GError *err = NULL;
  if (!g_file_set_contents(path, data, len, &err)) {
    dg_window_set_status(WIN(d), "%s: %s", what, err->message);
    g_error_free(err);
  }
}
// For tests and scripts: the raw layout (height*width class ids, row-major).
static void act_dump_layout(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  dg_document *m = MODEL(d);
  write_file(d, "dump-layout", g_variant_get_string(p, NULL), (const char *)dg_document_layout(m),
             (gssize)dg_document_width(m) * dg_document_height(m));
}
// For tests and scripts: the editor's state as JSON.
static void act_dump_state(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  char *text = dg_window_dump_state(WIN(d));
  write_file(d, "dump-state", g_variant_get_string(p, NULL), text, -1);
  g_free(text);
}

static void act_screenshot(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a;
  if (!dg_files_screenshot(WIN(d), g_variant_get_string(p, NULL)))
    dg_window_set_status(WIN(d), "screenshot: could not render the window");
}

static void act_shortcuts(GSimpleAction *a, GVariant *p, gpointer d) {
  (void)a, (void)p;
  GtkBuilder *b = gtk_builder_new_from_resource("/org/dirigent/Dirigent/shortcuts.ui");
  GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "shortcuts"));
  gtk_window_set_transient_for(w, GTK_WINDOW(d));
  gtk_window_present(w);
  g_object_unref(b);
}

// Live mode on or off: the document's field (saved with the project); the state follows the document.
static void act_live(GSimpleAction *a, GVariant *v, gpointer d) {
  (void)a;
  dg_document_set_live(MODEL(d), g_variant_get_boolean(v));
}
static gboolean live_to_state(GBinding *b, const GValue *from, GValue *to, gpointer user) {
  (void)b, (void)user;
  g_value_set_variant(to, g_variant_new_boolean(g_value_get_boolean(from)));
  return TRUE;
}
static GBinding *live_binding; // held, as the history bindings below

// Undo and redo are enabled while the document has a step to take; Generate and Cancel by the job.
static GBinding *history_bindings[2]; // held: the document they bind may go first
static void document_changed(DgWindow *win, GParamSpec *pspec, GActionMap *map) {
  (void)pspec;
  const char *names[2][2] = {{"can-undo", "undo"}, {"can-redo", "redo"}};
  for (int i = 0; i < 2; i++) {
    if (history_bindings[i]) {
      g_binding_unbind(history_bindings[i]);
      g_object_unref(history_bindings[i]);
    }
    history_bindings[i] = g_object_ref(g_object_bind_property(dg_window_get_document(win), names[i][0],
                                                              g_action_map_lookup_action(map, names[i][1]), "enabled",
                                                              G_BINDING_SYNC_CREATE));
  }
  if (live_binding) {
    g_binding_unbind(live_binding);
    g_object_unref(live_binding);
  }
  g_signal_connect_object(dg_window_get_document(win), "timeline-changed", G_CALLBACK(timeline_state), map, 0);
  timeline_state(dg_window_get_document(win), map);
  live_binding = g_object_ref(g_object_bind_property_full(dg_window_get_document(win), "live",
                                                          g_action_map_lookup_action(map, "live"), "state",
                                                          G_BINDING_SYNC_CREATE, live_to_state, NULL, NULL, NULL));
}

void dg_actions_install(GtkApplication *app, DgWindow *win) {
  const GActionEntry entries[] = {
      {"undo", act_simple, NULL, NULL, NULL, {0}},
      {"redo", act_simple, NULL, NULL, NULL, {0}},
      {"paint-stroke", act_paint_stroke, "(iia(ii))", NULL, NULL, {0}},
      {"fill", act_fill, "(iii)", NULL, NULL, {0}},
      {"fill-rect", act_fill_rect, "(iiiii)", NULL, NULL, {0}},
      {"fill-polygon", act_fill_polygon, "(ia(ii))", NULL, NULL, {0}},
      {"set-prompt", act_set_prompt, "s", NULL, NULL, {0}},
      {"set-negative", act_set_negative, "s", NULL, NULL, {0}},
      {"set-marks", act_set_marks, "s", NULL, NULL, {0}},
      {"suggest-marks", act_suggest_marks, NULL, NULL, NULL, {0}},
      {"mark-word-at", act_mark_word_at, "i", NULL, NULL, {0}},
      {"set-attn-guidance", act_set_attn_guidance, "s", NULL, NULL, {0}},
      {"show-heatmap", act_show_heatmap, "s", NULL, NULL, {0}},
      {"set-model", act_set_model, "s", NULL, NULL, {0}},
      {"choose-model", act_choose_model, "s", NULL, NULL, {0}},
      {"set-seed", act_set_seed, "s", NULL, NULL, {0}},
      {"set-steps", act_set_steps, "i", NULL, NULL, {0}},
      {"set-guidance", act_set_guidance, "d", NULL, NULL, {0}},
      {"set-control-scale", act_set_control_scale, "d", NULL, NULL, {0}},
      {"select-class", act_select_class, "i", NULL, NULL, {0}},
      {"set-palette", act_set_palette, "s", NULL, NULL, {0}},
      {"search-classes", act_search_classes, "s", NULL, NULL, {0}},
      {"set-tool", act_set_tool, "s", "'brush'", NULL, {0}},
      {"brush-size", act_brush_size, "i", NULL, NULL, {0}},
      {"brush-bigger", act_simple, NULL, NULL, NULL, {0}},
      {"brush-smaller", act_simple, NULL, NULL, NULL, {0}},
      {"set-opacity", act_set_opacity, "d", NULL, NULL, {0}},
      {"zoom-in", act_simple, NULL, NULL, NULL, {0}},
      {"zoom-out", act_simple, NULL, NULL, NULL, {0}},
      {"zoom-fit", act_simple, NULL, NULL, NULL, {0}},
      {"select-result", act_select_result, "i", NULL, NULL, {0}},
      {"select-video", act_select_video, "i", NULL, NULL, {0}},
      {"delete-video", act_delete_video, "i", NULL, NULL, {0}},
      {"new", act_new, "(ii)", NULL, NULL, {0}},
      {"new-dialog", act_new_dialog, NULL, NULL, NULL, {0}},
      {"new-random-layout", act_new_random_layout, "s", NULL, NULL, {0}},
      {"open", act_path, "s", NULL, NULL, {0}},
      {"save", act_path, "s", NULL, NULL, {0}},
      {"save-as", act_path, "s", NULL, NULL, {0}},
      {"import-layout", act_path, "s", NULL, NULL, {0}},
      {"export", act_path, "s", NULL, NULL, {0}},
      {"recover", act_simple, NULL, NULL, NULL, {0}},
      {"generate", act_simple, NULL, NULL, NULL, {0}},
      {"live", NULL, NULL, "false", act_live, {0}}, // live mode (ui/dg_live): the document's field
      {"cancel", act_simple, NULL, NULL, NULL, {0}},
      {"generate-video", act_simple, NULL, NULL, NULL, {0}},
      {"export-video", act_export_video, "s", NULL, NULL, {0}},
      {"cancel-export", act_simple, NULL, NULL, NULL, {0}},
      {"timeline-add-stage", act_timeline_add_stage, "(is)", NULL, NULL, {0}},
      {"timeline-remove-stage", act_timeline_remove_stage, "i", NULL, NULL, {0}},
      {"timeline-move-stage", act_timeline_move_stage, "(ii)", NULL, NULL, {0}},
      {"timeline-resize-stage", act_timeline_resize_stage, "(ii)", NULL, NULL, {0}},
      {"timeline-set-prompt", act_timeline_set_prompt, "(is)", NULL, NULL, {0}},
      {"timeline-select-stage", act_timeline_select_stage, "i", NULL, NULL, {0}},
      {"timeline-set-frames", act_timeline_set_frames, "i", NULL, NULL, {0}},
      {"timeline-set-fps", act_timeline_set_fps, "d", NULL, NULL, {0}},
      {"timeline-set-tar", act_timeline_set_tar, "(ddi)", NULL, NULL, {0}},
      {"timeline-set-attention", act_timeline_set_attention, "(ii)", NULL, NULL, {0}},
      {"timeline-set-vsp", act_timeline_set_vsp, "s", NULL, NULL, {0}},
      {"timeline-keep-layout", NULL, NULL, "true", act_timeline_keep_layout, {0}},
      {"playhead", act_playhead, "i", NULL, NULL, {0}},
      {"play", NULL, NULL, "false", act_play, {0}},
      {"loop", NULL, NULL, "false", act_loop, {0}},
      {"style-set-content", act_style_set_slot, "s", NULL, NULL, {0}},
      {"style-set-exemplar", act_style_set_slot, "s", NULL, NULL, {0}},
      {"style-choose", act_style_choose, "s", NULL, NULL, {0}},
      {"style-set-method", act_style_set_method, "s", NULL, NULL, {0}},
      {"style-set-strength", act_style_set_strength, "d", NULL, NULL, {0}},
      {"style-apply", act_style_apply, NULL, NULL, NULL, {0}},
      {"style-apply-all", act_style_apply, NULL, NULL, NULL, {0}},
      {"style-compare", NULL, NULL, "false", act_style_compare, {0}},
      {"dump-layout", act_dump_layout, "s", NULL, NULL, {0}},
      {"dump-state", act_dump_state, "s", NULL, NULL, {0}},
      {"screenshot", act_screenshot, "s", NULL, NULL, {0}},
      {"shortcuts", act_shortcuts, NULL, NULL, NULL, {0}},
      {"quit", act_simple, NULL, NULL, NULL, {0}},
      {"quit-discard", act_simple, NULL, NULL, NULL, {0}},
  };
  GActionMap *map = G_ACTION_MAP(app);
  g_action_map_add_action_entries(map, entries, G_N_ELEMENTS(entries), win);
  DgCanvas *canvas = dg_window_get_canvas(win);
  g_signal_connect_object(canvas, "notify::tool", G_CALLBACK(tool_changed), g_action_map_lookup_action(map, "set-tool"),
                          0);
  tool_changed(canvas, NULL, G_SIMPLE_ACTION(g_action_map_lookup_action(map, "set-tool")));
  g_signal_connect(win, "notify::document", G_CALLBACK(document_changed), map);
  document_changed(win, NULL, map);
  DgJobRunner *runner = dg_window_get_runner(win);
  g_object_bind_property(runner, "running", g_action_map_lookup_action(map, "generate"), "enabled",
                         G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  g_object_bind_property(runner, "running", g_action_map_lookup_action(map, "cancel"), "enabled",
                         G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "running", g_action_map_lookup_action(map, "generate-video"), "enabled",
                         G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  DgTimelinePanel *panel = dg_window_get_timeline_panel(win);
  g_signal_connect_object(panel, "notify::playing", G_CALLBACK(playing_state), map, 0);
  g_signal_connect_object(panel, "notify::loop", G_CALLBACK(playing_state), map, 0);

  struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
      {"app.undo", {"<Control>z", NULL}},
      {"app.redo", {"<Control><Shift>z", "<Control>y", NULL}},
      {"app.generate", {"<Control>Return", "<Control>KP_Enter", NULL}},
      {"app.generate-video", {"<Control><Shift>Return", NULL}},
      {"app.export-video('')", {"<Control><Shift>e", NULL}},
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
    gtk_application_set_accels_for_action(app, accels[i].action, accels[i].accels);

  // Keys that text fields need ([, ], Escape) are window shortcuts in the bubble phase, so that a
  // focused prompt gets them first.
  GtkEventController *sc = gtk_shortcut_controller_new();
  const char *keys[][2] = {
      {"bracketleft", "app.brush-smaller"},
      {"bracketright", "app.brush-bigger"},
      {"Escape", "app.cancel"},
      {"b", "app.set-tool('brush')"},
      {"e", "app.set-tool('eraser')"},
      {"f", "app.set-tool('fill')"},
      {"r", "app.set-tool('rect')"},
      {"p", "app.set-tool('polygon')"},
      {"i", "app.set-tool('eyedropper')"},
      {"space", "app.play"},
      {"Home", "app.playhead(0)"},
      {"End", "app.playhead(9999)"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    GVariant *target = NULL;
    char *name = NULL;
    g_action_parse_detailed_name(keys[i][1], &name, &target, NULL);
    GtkShortcut *s = gtk_shortcut_new(gtk_shortcut_trigger_parse_string(keys[i][0]), gtk_named_action_new(name));
    if (target) gtk_shortcut_set_arguments(s, target);
    gtk_shortcut_controller_add_shortcut(GTK_SHORTCUT_CONTROLLER(sc), s);
    g_free(name);
    if (target) g_variant_unref(target);
  }
  gtk_widget_add_controller(GTK_WIDGET(win), sc);
}
