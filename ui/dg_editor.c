// The editor window: palette on the left, canvas in the centre, prompt and parameters on the right,
// the results strip below. Widgets write into the document; the document's listener updates widgets.
#include "dg_editor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dg_settings.h"

static const char *tool_names[DG_TOOL_COUNT] = {"brush", "eraser", "fill", "rect", "polygon", "eyedropper"};
static const char *tool_labels[DG_TOOL_COUNT] = {"Brush", "Eraser", "Fill", "Rectangle", "Polygon", "Pick"};
static const char *tool_icons[DG_TOOL_COUNT] = {"document-edit-symbolic",   "edit-clear-symbolic",
                                                "color-select-symbolic",    "view-continuous-symbolic",
                                                "function-linear-symbolic", "find-location-symbolic"};

const char *dg_tool_name(dg_tool tool) { return tool >= 0 && tool < DG_TOOL_COUNT ? tool_names[tool] : "?"; }
int dg_tool_from_name(const char *name) {
  for (int i = 0; i < DG_TOOL_COUNT; i++)
    if (!strcmp(name, tool_names[i])) return i;
  return -1;
}

void dg_editor_set_status(dg_editor *ed, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  gtk_label_set_text(GTK_LABEL(ed->status), s);
  g_free(s);
}

static void dialog_response(GtkDialog *d, int response, gpointer data) {
  (void)response, (void)data;
  gtk_window_destroy(GTK_WINDOW(d));
}

void dg_editor_message(dg_editor *ed, GtkMessageType type, const char *title, const char *detail) {
  g_ptr_array_add(ed->dialog_log, g_strdup_printf("%s: %s", title, detail ? detail : ""));
  GtkWidget *d = gtk_message_dialog_new(ed->window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, type,
                                        GTK_BUTTONS_CLOSE, "%s", title);
  if (detail) gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", detail);
  g_signal_connect(d, "response", G_CALLBACK(dialog_response), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

// ---- palette -------------------------------------------------------------------------------------

static void swatch_draw(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data) {
  (void)a;
  dg_editor *ed = g_object_get_data(G_OBJECT(a), "editor");
  uint8_t rgb[3];
  dg_palette_color(ed->palette, GPOINTER_TO_INT(data), rgb);
  cairo_rectangle(cr, 0.5, 0.5, w - 1, h - 1);
  cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
  cairo_fill_preserve(cr);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.5);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

static GtkWidget *swatch_new(dg_editor *ed, int id, int size) {
  GtkWidget *a = gtk_drawing_area_new();
  g_object_set_data(G_OBJECT(a), "editor", ed);
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(a), size);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(a), size);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(a), swatch_draw, GINT_TO_POINTER(id), NULL);
  gtk_widget_set_valign(a, GTK_ALIGN_CENTER);
  return a;
}

static GtkWidget *class_row(dg_editor *ed, int id, const char *extra) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_start(box, 6);
  gtk_widget_set_margin_end(box, 6);
  gtk_widget_set_margin_top(box, 3);
  gtk_widget_set_margin_bottom(box, 3);
  gtk_box_append(GTK_BOX(box), swatch_new(ed, id, 18));
  GtkWidget *name = gtk_label_new(dg_palette_name(ed->palette, id));
  gtk_label_set_xalign(GTK_LABEL(name), 0);
  gtk_widget_set_hexpand(name, TRUE);
  gtk_box_append(GTK_BOX(box), name);
  char idtext[16];
  snprintf(idtext, sizeof idtext, "%d", id);
  GtkWidget *right = gtk_label_new(extra ? extra : idtext);
  gtk_widget_add_css_class(right, "dim-label");
  gtk_widget_add_css_class(right, "numeric");
  gtk_box_append(GTK_BOX(box), right);
  GtkWidget *row = gtk_list_box_row_new();
  gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
  g_object_set_data(G_OBJECT(row), "class-id", GINT_TO_POINTER(id + 1));
  return row;
}

static gboolean palette_filter(GtkListBoxRow *row, gpointer data) {
  dg_editor *ed = data;
  const char *q = gtk_editable_get_text(GTK_EDITABLE(ed->search));
  if (!q || !*q) return TRUE;
  int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "class-id")) - 1;
  char *name = g_utf8_casefold(dg_palette_name(ed->palette, id), -1), *needle = g_utf8_casefold(q, -1);
  char idtext[16];
  snprintf(idtext, sizeof idtext, "%d", id);
  gboolean match = strstr(name, needle) != NULL || !strcmp(idtext, q);
  g_free(name), g_free(needle);
  return match;
}

static void search_changed(GtkSearchEntry *e, gpointer data) {
  (void)e;
  dg_editor *ed = data;
  gtk_list_box_invalidate_filter(GTK_LIST_BOX(ed->palette_list));
}

static void palette_row_selected(GtkListBox *box, GtkListBoxRow *row, gpointer data) {
  (void)box;
  dg_editor *ed = data;
  if (!row || ed->syncing) return;
  int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "class-id")) - 1;
  dg_editor_select_class(ed, id);
}

static void areas_row_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data) {
  (void)box;
  dg_editor *ed = data;
  int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "class-id")) - 1;
  if (id != DG_UNLABELLED) dg_editor_select_class(ed, id);
}

void dg_editor_select_class(dg_editor *ed, int cls) {
  if (!dg_palette_find(ed->palette, cls)) return;
  ed->cls = cls;
  if (ed->tool == DG_TOOL_ERASER || ed->tool == DG_TOOL_EYEDROPPER) dg_editor_set_tool(ed, DG_TOOL_BRUSH);
  ed->syncing = true;
  for (int i = 0;; i++) {
    GtkListBoxRow *row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(ed->palette_list), i);
    if (!row) break;
    if (GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "class-id")) - 1 == cls)
      gtk_list_box_select_row(GTK_LIST_BOX(ed->palette_list), row);
  }
  ed->syncing = false;
  dg_editor_set_status(ed, "Painting with %s", dg_palette_name(ed->palette, cls));
}

static gboolean rebuild_areas(gpointer data) {
  dg_editor *ed = data;
  ed->areas_idle = 0;
  GtkListBox *list = GTK_LIST_BOX(ed->areas_list);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))))
    gtk_list_box_remove(list, child);
  int64_t counts[256];
  dg_document_class_areas(ed->doc, counts);
  double total = (double)dg_document_width(ed->doc) * dg_document_height(ed->doc);
  int present = 0;
  // Largest first.
  int order[256], n = 0;
  for (int i = 0; i < 256; i++)
    if (counts[i]) order[n++] = i;
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && counts[order[b]] > counts[order[b - 1]]; b--) {
      int t = order[b];
      order[b] = order[b - 1], order[b - 1] = t;
    }
  for (int k = 0; k < n; k++) {
    int i = order[k];
    if (i != DG_UNLABELLED && !dg_palette_find(ed->palette, i)) continue;
    char extra[48];
    snprintf(extra, sizeof extra, "%.1f%%  %lld px", 100.0 * counts[i] / total, (long long)counts[i]);
    gtk_list_box_append(list, class_row(ed, i, extra));
    if (i != DG_UNLABELLED) present++;
  }
  char text[64];
  snprintf(text, sizeof text, "%d classes on canvas", present);
  gtk_label_set_text(GTK_LABEL(ed->areas_total), text);
  return G_SOURCE_REMOVE;
}

// ---- parameters ----------------------------------------------------------------------------------

static char *buffer_text(GtkWidget *view) {
  GtkTextBuffer *b = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
  GtkTextIter s, e;
  gtk_text_buffer_get_bounds(b, &s, &e);
  return gtk_text_buffer_get_text(b, &s, &e, FALSE);
}

static void set_buffer_text(GtkWidget *view, const char *text) {
  char *old = buffer_text(view);
  if (strcmp(old, text)) gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(view)), text, -1);
  g_free(old);
}

void dg_editor_sync_params(dg_editor *ed) {
  ed->syncing = true;
  set_buffer_text(ed->prompt_view, dg_document_prompt(ed->doc));
  set_buffer_text(ed->negative_view, dg_document_negative(ed->doc));
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)dg_document_seed(ed->doc));
  if (strcmp(gtk_editable_get_text(GTK_EDITABLE(ed->seed_entry)), seed))
    gtk_editable_set_text(GTK_EDITABLE(ed->seed_entry), seed);
  gtk_check_button_set_active(GTK_CHECK_BUTTON(ed->seed_random), dg_document_seed_random(ed->doc));
  gtk_widget_set_sensitive(ed->seed_entry, !dg_document_seed_random(ed->doc));
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(ed->steps_spin), dg_document_steps(ed->doc));
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(ed->guidance_spin), dg_document_guidance(ed->doc));
  dg_model_picker_sync(ed);
  ed->syncing = false;
}

static void text_changed(GtkTextBuffer *b, gpointer data) {
  dg_editor *ed = data;
  if (ed->syncing) return;
  GtkWidget *view = g_object_get_data(G_OBJECT(b), "view");
  dg_doc_field field = view == ed->prompt_view ? DG_FIELD_PROMPT : DG_FIELD_NEGATIVE;
  char *text = buffer_text(view);
  gint64 now = g_get_monotonic_time();
  // Typing with pauses under a second is one undo step.
  if (now - ed->last_text_edit_us >= G_USEC_PER_SEC) dg_document_seal_history(ed->doc);
  ed->last_text_edit_us = now;
  ed->syncing = true; // the listener must not rewrite the buffer being typed into
  if (dg_document_set_text(ed->doc, field, text, true) != DG_OK) dg_editor_set_status(ed, "%s", dg_last_error());
  ed->syncing = false;
  g_free(text);
}

static void seed_commit(dg_editor *ed) {
  if (ed->syncing) return;
  const char *s = gtk_editable_get_text(GTK_EDITABLE(ed->seed_entry));
  uint64_t v;
  if (dg_settings_parse_seed("Seed", s, &v) == DG_OK)
    dg_document_set_seed(ed->doc, v);
  else
    dg_editor_set_status(ed, "%s", dg_last_error());
  dg_editor_sync_params(ed);
}
static void seed_activate(GtkEntry *e, gpointer data) {
  (void)e;
  seed_commit(data);
}
static void seed_focus_leave(GtkEventControllerFocus *f, gpointer data) {
  (void)f;
  seed_commit(data);
}
static void seed_random_toggled(GtkCheckButton *b, gpointer data) {
  dg_editor *ed = data;
  if (!ed->syncing) dg_document_set_seed_random(ed->doc, gtk_check_button_get_active(b));
}
static void seed_copy(GtkButton *b, gpointer data) {
  (void)b;
  dg_editor *ed = data;
  gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(ed->window)),
                         gtk_editable_get_text(GTK_EDITABLE(ed->seed_entry)));
  dg_editor_set_status(ed, "Seed copied");
}
static void seed_dice(GtkButton *b, gpointer data) {
  (void)b;
  dg_editor *ed = data;
  dg_document_set_seed(ed->doc, ((uint64_t)g_random_int() << 32 | g_random_int()) >> 11);
}
static void steps_changed(GtkSpinButton *s, gpointer data) {
  dg_editor *ed = data;
  if (!ed->syncing) dg_document_set_steps(ed->doc, gtk_spin_button_get_value_as_int(s));
}
static void guidance_changed(GtkSpinButton *s, gpointer data) {
  dg_editor *ed = data;
  if (!ed->syncing) dg_document_set_guidance(ed->doc, gtk_spin_button_get_value(s));
}
static void opacity_changed(GtkRange *r, gpointer data) {
  dg_editor *ed = data;
  ed->overlay_opacity = gtk_range_get_value(r);
  gtk_widget_queue_draw(ed->canvas);
}

void dg_editor_set_opacity(dg_editor *ed, double opacity) {
  gtk_range_set_value(GTK_RANGE(ed->opacity_scale), fmin(1, fmax(0, opacity)));
}

void dg_editor_set_tool(dg_editor *ed, dg_tool tool) {
  if (tool < 0 || tool >= DG_TOOL_COUNT) return;
  ed->tool = tool;
  if (tool != DG_TOOL_POLYGON) g_array_set_size(ed->polygon, 0);
  for (int i = 0; i < DG_TOOL_COUNT; i++)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(ed->tool_buttons[i]), i == (int)tool);
  gtk_widget_queue_draw(ed->canvas);
}

static void tool_toggled(GtkToggleButton *b, gpointer data) {
  dg_editor *ed = data;
  if (gtk_toggle_button_get_active(b)) {
    int t = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "tool"));
    if ((int)ed->tool != t) dg_editor_set_tool(ed, t);
  }
}

void dg_editor_set_brush_radius(dg_editor *ed, double radius) {
  ed->brush_radius = fmin(256, fmax(0.5, radius));
  char text[32];
  snprintf(text, sizeof text, "Size %.0f", ed->brush_radius * 2);
  gtk_label_set_text(GTK_LABEL(ed->brush_label), text);
  gtk_widget_queue_draw(ed->canvas);
}

void dg_editor_update_title(dg_editor *ed) {
  char *base = ed->path ? g_path_get_basename(ed->path) : g_strdup("Untitled");
  bool modified = dg_editor_modified(ed);
  char *title = g_strdup_printf("%s%s — Dirigent", modified ? "• " : "", base);
  gtk_window_set_title(ed->window, title);
  g_free(title), g_free(base);
}

// ---- history strip -------------------------------------------------------------------------------

static void result_clicked(GtkButton *b, gpointer data) {
  dg_editor *ed = data;
  dg_document_set_current_result(ed->doc, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "index")));
}

void dg_editor_rebuild_history(dg_editor *ed) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(ed->history_box)))
    gtk_box_remove(GTK_BOX(ed->history_box), child);
  int n = dg_document_result_count(ed->doc), current = dg_document_current_result(ed->doc);
  gtk_widget_set_visible(ed->history_empty, n == 0);
  for (int i = 0; i < n; i++) {
    const dg_result *r = dg_document_result(ed->doc, i);
    GBytes *bytes = g_bytes_new(r->rgba, (gsize)r->width * r->height * 4);
    GdkTexture *tex = gdk_memory_texture_new(r->width, r->height, GDK_MEMORY_R8G8B8A8, bytes, (gsize)r->width * 4);
    g_bytes_unref(bytes);
    GtkWidget *pic = gtk_picture_new_for_paintable(GDK_PAINTABLE(tex));
    g_object_unref(tex);
    gtk_widget_set_size_request(pic, 120, 60);
    GtkWidget *b = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(b), pic);
    char *tip = g_strdup_printf("Result %d · seed %llu · %d steps · guidance %g\n%s", i + 1,
                                (unsigned long long)r->seed, r->steps, r->guidance, r->prompt);
    gtk_widget_set_tooltip_text(b, tip);
    g_free(tip);
    if (i == current) gtk_widget_add_css_class(b, "suggested-action");
    g_object_set_data(G_OBJECT(b), "index", GINT_TO_POINTER(i));
    g_signal_connect(b, "clicked", G_CALLBACK(result_clicked), ed);
    gtk_box_append(GTK_BOX(ed->history_box), b);
  }
}

// ---- document listener ---------------------------------------------------------------------------

static void doc_changed(dg_document *doc, int what, int x, int y, int w, int h, void *user) {
  (void)doc;
  dg_editor *ed = user;
  if (what & DG_CHANGED_LAYOUT) {
    dg_canvas_layout_changed(ed, x, y, w, h);
    if (!ed->areas_idle) ed->areas_idle = g_timeout_add(150, rebuild_areas, ed);
  }
  if ((what & DG_CHANGED_PARAMS) && !ed->syncing) dg_editor_sync_params(ed);
  if (what & DG_CHANGED_RESULTS) {
    dg_canvas_result_changed(ed);
    dg_editor_rebuild_history(ed);
  }
  GActionMap *map = G_ACTION_MAP(ed->app);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "undo")), dg_document_can_undo(ed->doc));
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "redo")), dg_document_can_redo(ed->doc));
  dg_editor_update_title(ed);
  dg_editor_autosave_schedule(ed);
}

void dg_editor_set_document(dg_editor *ed, dg_document *doc, const char *path) {
  g_array_set_size(ed->polygon, 0);
  dg_editor_cancel(ed); // a running job belongs to the document being replaced
  ed->doc_serial++;
  if (ed->doc) dg_document_free(ed->doc);
  ed->doc = doc;
  dg_document_set_listener(doc, doc_changed, ed);
  g_free(ed->path);
  ed->path = path ? g_strdup(path) : NULL;
  ed->saved_generation = dg_document_generation(doc);
  ed->fit = true;
  doc_changed(doc, DG_CHANGED_ALL, 0, 0, dg_document_width(doc), dg_document_height(doc), ed);
}

// ---- construction --------------------------------------------------------------------------------

static GtkWidget *heading(const char *text) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "heading");
  return l;
}

static GtkWidget *text_area(dg_editor *ed, GtkWidget **view_out, int height, const char *tooltip) {
  GtkWidget *view = gtk_text_view_new();
  gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin(GTK_TEXT_VIEW(view), 6);
  gtk_text_view_set_right_margin(GTK_TEXT_VIEW(view), 6);
  gtk_text_view_set_top_margin(GTK_TEXT_VIEW(view), 4);
  gtk_text_view_set_bottom_margin(GTK_TEXT_VIEW(view), 4);
  GtkTextBuffer *b = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
  gtk_text_buffer_set_enable_undo(b, FALSE); // the document's history is the one undo
  g_object_set_data(G_OBJECT(b), "view", view);
  g_signal_connect(b, "changed", G_CALLBACK(text_changed), ed);
  gtk_widget_set_tooltip_text(view, tooltip);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), view);
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request(scroll, -1, height);
  gtk_widget_add_css_class(scroll, "frame");
  *view_out = view;
  return scroll;
}

static GtkWidget *labelled(const char *label, GtkWidget *w) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *l = gtk_label_new(label);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_set_size_request(l, 70, -1);
  gtk_box_append(GTK_BOX(box), l);
  gtk_widget_set_hexpand(w, TRUE);
  gtk_box_append(GTK_BOX(box), w);
  return box;
}

static GtkWidget *build_left(dg_editor *ed) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_size_request(box, 220, -1);
  gtk_widget_set_margin_start(box, 8);
  gtk_widget_set_margin_top(box, 8);
  gtk_widget_set_margin_bottom(box, 8);
  gtk_box_append(GTK_BOX(box), heading("Classes"));
  ed->search = gtk_search_entry_new();
  g_object_set(ed->search, "placeholder-text", "Search classes", NULL);
  g_signal_connect(ed->search, "search-changed", G_CALLBACK(search_changed), ed);
  gtk_box_append(GTK_BOX(box), ed->search);
  ed->palette_list = gtk_list_box_new();
  gtk_list_box_set_filter_func(GTK_LIST_BOX(ed->palette_list), palette_filter, ed, NULL);
  for (int i = 0; i < dg_palette_count(ed->palette); i++)
    gtk_list_box_append(GTK_LIST_BOX(ed->palette_list), class_row(ed, dg_palette_class_at(ed->palette, i)->id, NULL));
  g_signal_connect(ed->palette_list, "row-selected", G_CALLBACK(palette_row_selected), ed);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), ed->palette_list);
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand(scroll, TRUE);
  gtk_widget_add_css_class(scroll, "frame");
  gtk_box_append(GTK_BOX(box), scroll);

  ed->areas_total = heading("Classes on canvas");
  gtk_box_append(GTK_BOX(box), ed->areas_total);
  ed->areas_list = gtk_list_box_new();
  gtk_list_box_set_selection_mode(GTK_LIST_BOX(ed->areas_list), GTK_SELECTION_NONE);
  gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(ed->areas_list), TRUE);
  g_signal_connect(ed->areas_list, "row-activated", G_CALLBACK(areas_row_activated), ed);
  GtkWidget *ascroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(ascroll), ed->areas_list);
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(ascroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request(ascroll, -1, 150);
  gtk_widget_add_css_class(ascroll, "frame");
  gtk_box_append(GTK_BOX(box), ascroll);
  return box;
}

static GtkWidget *build_toolbar(dg_editor *ed) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *tools = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(tools, "linked");
  for (int i = 0; i < DG_TOOL_COUNT; i++) {
    GtkWidget *b = gtk_toggle_button_new();
    GtkWidget *content = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    gtk_box_append(GTK_BOX(content), gtk_image_new_from_icon_name(tool_icons[i]));
    gtk_box_append(GTK_BOX(content), gtk_label_new(tool_labels[i]));
    gtk_button_set_child(GTK_BUTTON(b), content);
    if (i > 0) gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(b), GTK_TOGGLE_BUTTON(ed->tool_buttons[0]));
    g_object_set_data(G_OBJECT(b), "tool", GINT_TO_POINTER(i));
    g_signal_connect(b, "toggled", G_CALLBACK(tool_toggled), ed);
    char *tip = g_strdup_printf("%s tool (app.set-tool '%s')", tool_labels[i], tool_names[i]);
    gtk_widget_set_tooltip_text(b, tip);
    g_free(tip);
    ed->tool_buttons[i] = b;
    gtk_box_append(GTK_BOX(tools), b);
  }
  gtk_box_append(GTK_BOX(bar), tools);
  GtkWidget *size = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(size, "linked");
  GtkWidget *smaller = gtk_button_new_with_label("[");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(smaller), "app.brush-smaller");
  GtkWidget *bigger = gtk_button_new_with_label("]");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(bigger), "app.brush-bigger");
  ed->brush_label = gtk_label_new("");
  gtk_widget_set_margin_start(ed->brush_label, 6);
  gtk_widget_set_margin_end(ed->brush_label, 6);
  gtk_box_append(GTK_BOX(size), smaller);
  gtk_box_append(GTK_BOX(size), ed->brush_label);
  gtk_box_append(GTK_BOX(size), bigger);
  gtk_box_append(GTK_BOX(bar), size);

  return bar;
}

// Below the canvas: the overlay opacity and the zoom buttons.
static GtkWidget *build_viewbar(dg_editor *ed) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *spacer = gtk_label_new("");
  gtk_widget_set_hexpand(spacer, TRUE);
  gtk_box_append(GTK_BOX(bar), spacer);
  gtk_box_append(GTK_BOX(bar), gtk_label_new("Layout over result"));
  ed->opacity_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05);
  gtk_widget_set_size_request(ed->opacity_scale, 100, -1);
  gtk_widget_set_tooltip_text(ed->opacity_scale, "Opacity of the layout over the result");
  g_signal_connect(ed->opacity_scale, "value-changed", G_CALLBACK(opacity_changed), ed);
  gtk_box_append(GTK_BOX(bar), ed->opacity_scale);
  GtkWidget *zoom = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(zoom, "linked");
  const char *zi[3] = {"zoom-out-symbolic", "zoom-fit-best-symbolic", "zoom-in-symbolic"};
  const char *za[3] = {"app.zoom-out", "app.zoom-fit", "app.zoom-in"};
  for (int i = 0; i < 3; i++) {
    GtkWidget *b = gtk_button_new_from_icon_name(zi[i]);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(b), za[i]);
    gtk_box_append(GTK_BOX(zoom), b);
  }
  gtk_box_append(GTK_BOX(bar), zoom);
  return bar;
}

static GtkWidget *build_right(dg_editor *ed) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_size_request(box, 300, -1);
  gtk_widget_set_margin_end(box, 8);
  gtk_widget_set_margin_top(box, 8);
  gtk_widget_set_margin_bottom(box, 8);
  gtk_box_append(GTK_BOX(box), heading("Prompt"));
  gtk_box_append(GTK_BOX(box), text_area(ed, &ed->prompt_view, 90, "What the image should show"));
  gtk_box_append(GTK_BOX(box), heading("Negative prompt"));
  gtk_box_append(GTK_BOX(box), text_area(ed, &ed->negative_view, 50, "What the image should avoid"));

  gtk_box_append(GTK_BOX(box), heading("Settings"));
  GtkWidget *seed_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  ed->seed_entry = gtk_entry_new();
  gtk_entry_set_input_purpose(GTK_ENTRY(ed->seed_entry), GTK_INPUT_PURPOSE_DIGITS);
  gtk_widget_set_hexpand(ed->seed_entry, TRUE);
  gtk_editable_set_width_chars(GTK_EDITABLE(ed->seed_entry), 8);
  g_signal_connect(ed->seed_entry, "activate", G_CALLBACK(seed_activate), ed);
  GtkEventController *focus = gtk_event_controller_focus_new();
  g_signal_connect(focus, "leave", G_CALLBACK(seed_focus_leave), ed);
  gtk_widget_add_controller(ed->seed_entry, focus);
  gtk_box_append(GTK_BOX(seed_row), ed->seed_entry);
  GtkWidget *dice = gtk_button_new_from_icon_name("view-refresh-symbolic");
  gtk_widget_set_tooltip_text(dice, "New seed");
  g_signal_connect(dice, "clicked", G_CALLBACK(seed_dice), ed);
  gtk_box_append(GTK_BOX(seed_row), dice);
  GtkWidget *copy = gtk_button_new_from_icon_name("edit-copy-symbolic");
  gtk_widget_set_tooltip_text(copy, "Copy the seed");
  g_signal_connect(copy, "clicked", G_CALLBACK(seed_copy), ed);
  gtk_box_append(GTK_BOX(seed_row), copy);
  gtk_box_append(GTK_BOX(box), labelled("Seed", seed_row));
  ed->seed_random = gtk_check_button_new_with_label("Random seed for each generation");
  g_signal_connect(ed->seed_random, "toggled", G_CALLBACK(seed_random_toggled), ed);
  gtk_box_append(GTK_BOX(box), ed->seed_random);
  ed->steps_spin = gtk_spin_button_new_with_range(1, DG_DOC_MAX_STEPS, 1);
  g_signal_connect(ed->steps_spin, "value-changed", G_CALLBACK(steps_changed), ed);
  gtk_box_append(GTK_BOX(box), labelled("Steps", ed->steps_spin));
  ed->guidance_spin = gtk_spin_button_new_with_range(0, 100, 0.5);
  gtk_spin_button_set_digits(GTK_SPIN_BUTTON(ed->guidance_spin), 2);
  g_signal_connect(ed->guidance_spin, "value-changed", G_CALLBACK(guidance_changed), ed);
  gtk_box_append(GTK_BOX(box), labelled("Guidance", ed->guidance_spin));
  gtk_box_append(GTK_BOX(box), dg_model_picker_new(ed));

  GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_top(buttons, 6);
  ed->generate_button = gtk_button_new_with_label("Generate");
  gtk_widget_add_css_class(ed->generate_button, "suggested-action");
  gtk_widget_set_hexpand(ed->generate_button, TRUE);
  gtk_actionable_set_action_name(GTK_ACTIONABLE(ed->generate_button), "app.generate");
  gtk_widget_set_tooltip_text(ed->generate_button, "Generate (Ctrl+Enter)");
  ed->cancel_button = gtk_button_new_with_label("Cancel");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(ed->cancel_button), "app.cancel");
  gtk_widget_set_tooltip_text(ed->cancel_button, "Cancel (Escape)");
  gtk_box_append(GTK_BOX(buttons), ed->generate_button);
  gtk_box_append(GTK_BOX(buttons), ed->cancel_button);
  gtk_box_append(GTK_BOX(box), buttons);
  ed->progress = gtk_progress_bar_new();
  gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(ed->progress), TRUE);
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Idle");
  gtk_box_append(GTK_BOX(box), ed->progress);
  gtk_box_append(GTK_BOX(box), heading("Preview"));
  ed->preview = gtk_picture_new();
  gtk_widget_set_size_request(ed->preview, -1, 130);
  gtk_widget_set_vexpand(ed->preview, TRUE);
  GtkWidget *frame = gtk_frame_new(NULL);
  gtk_frame_set_child(GTK_FRAME(frame), ed->preview);
  gtk_box_append(GTK_BOX(box), frame);
  return box;
}

static GtkWidget *build_header(dg_editor *ed) {
  GtkWidget *header = gtk_header_bar_new();
  GtkWidget *open = gtk_button_new_with_label("Open");
  gtk_actionable_set_detailed_action_name(GTK_ACTIONABLE(open), "app.open('')");
  gtk_header_bar_pack_start(GTK_HEADER_BAR(header), open);
  GtkWidget *save = gtk_button_new_with_label("Save");
  gtk_actionable_set_detailed_action_name(GTK_ACTIONABLE(save), "app.save('')");
  gtk_header_bar_pack_start(GTK_HEADER_BAR(header), save);
  GtkWidget *hist = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(hist, "linked");
  GtkWidget *undo = gtk_button_new_from_icon_name("edit-undo-symbolic");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(undo), "app.undo");
  gtk_widget_set_tooltip_text(undo, "Undo (Ctrl+Z)");
  GtkWidget *redo = gtk_button_new_from_icon_name("edit-redo-symbolic");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(redo), "app.redo");
  gtk_widget_set_tooltip_text(redo, "Redo (Ctrl+Shift+Z)");
  gtk_box_append(GTK_BOX(hist), undo);
  gtk_box_append(GTK_BOX(hist), redo);
  gtk_header_bar_pack_start(GTK_HEADER_BAR(header), hist);

  GMenu *menu = g_menu_new();
  g_menu_append(menu, "New canvas…", "app.new-dialog");
  g_menu_append(menu, "New from random world layout", "app.new-random-layout('random')");
  g_menu_append(menu, "Import label PNG…", "app.import-layout('')");
  g_menu_append(menu, "Save as…", "app.save-as('')");
  g_menu_append(menu, "Export result PNG…", "app.export('')");
  g_menu_append(menu, "Keyboard shortcuts", "app.shortcuts");
  g_menu_append(menu, "Quit", "app.quit");
  GtkWidget *mb = gtk_menu_button_new();
  gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(mb), "open-menu-symbolic");
  gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(mb), G_MENU_MODEL(menu));
  g_object_unref(menu);
  gtk_header_bar_pack_end(GTK_HEADER_BAR(header), mb);
  (void)ed;
  return header;
}

bool dg_editor_modified(const dg_editor *ed) { return dg_document_generation(ed->doc) != ed->saved_generation; }

static void close_response(GtkDialog *d, int response, gpointer data) {
  dg_editor *ed = data;
  gtk_window_destroy(GTK_WINDOW(d));
  if (response == GTK_RESPONSE_REJECT) {
    ed->close_confirmed = true;
    gtk_window_close(ed->window);
  } else if (response == GTK_RESPONSE_ACCEPT) {
    if (ed->path) {
      if (dg_editor_save_path(ed, ed->path)) {
        ed->close_confirmed = true;
        gtk_window_close(ed->window);
      }
    } else {
      ed->close_after_save = true;
      dg_editor_save_dialog(ed);
    }
  }
}

static gboolean close_request(GtkWindow *w, gpointer data) {
  (void)w;
  dg_editor *ed = data;
  if (!ed->close_confirmed && dg_editor_modified(ed)) {
    char *base = ed->path ? g_path_get_basename(ed->path) : g_strdup("Untitled");
    g_ptr_array_add(ed->dialog_log, g_strdup_printf("Save changes to %s before closing?", base));
    GtkWidget *d =
        gtk_message_dialog_new(ed->window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
                               GTK_BUTTONS_NONE, "Save changes to “%s” before closing?", base);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "Unsaved changes are lost otherwise.");
    gtk_dialog_add_buttons(GTK_DIALOG(d), "Close _without saving", GTK_RESPONSE_REJECT, "_Cancel", GTK_RESPONSE_CANCEL,
                           "_Save", GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
    g_signal_connect(d, "response", G_CALLBACK(close_response), ed);
    gtk_window_present(GTK_WINDOW(d));
    g_free(base);
    return TRUE;
  }
  dg_editor_cancel(ed);
  // A clean exit: the autosave is no longer a crash to recover from.
  dg_editor_autosave_remove();
  return FALSE;
}

dg_editor *dg_editor_new(GtkApplication *app) {
  dg_status st;
  dg_palette *palette = dg_palette_load_default(&st);
  if (!palette) return NULL;
  dg_editor *ed = g_new0(dg_editor, 1);
  ed->app = app;
  ed->palette = palette;
  ed->polygon = g_array_new(FALSE, FALSE, sizeof(double));
  ed->dialog_log = g_ptr_array_new_with_free_func(g_free);
  ed->cls = 0;
  ed->brush_radius = 6;
  ed->overlay_opacity = 0.5;
  ed->zoom = 1;
  ed->fit = true;

  GtkWidget *win = gtk_application_window_new(app);
  ed->window = GTK_WINDOW(win);
  gtk_window_set_default_size(ed->window, 1360, 800);
  gtk_window_set_icon_name(ed->window, "org.dirigent.Dirigent");
  gtk_window_set_titlebar(ed->window, build_header(ed));
  g_signal_connect(win, "close-request", G_CALLBACK(close_request), ed);

  GtkWidget *centre = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_top(centre, 8);
  gtk_widget_set_margin_start(centre, 4);
  gtk_widget_set_margin_end(centre, 4);
  gtk_widget_set_margin_bottom(centre, 8);
  gtk_box_append(GTK_BOX(centre), build_toolbar(ed));
  GtkWidget *frame = gtk_frame_new(NULL);
  gtk_frame_set_child(GTK_FRAME(frame), dg_canvas_new(ed));
  gtk_box_append(GTK_BOX(centre), frame);
  gtk_box_append(GTK_BOX(centre), build_viewbar(ed));

  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append(GTK_BOX(row), build_left(ed));
  gtk_box_append(GTK_BOX(row), gtk_separator_new(GTK_ORIENTATION_VERTICAL));
  gtk_box_append(GTK_BOX(row), centre);
  gtk_box_append(GTK_BOX(row), gtk_separator_new(GTK_ORIENTATION_VERTICAL));
  gtk_box_append(GTK_BOX(row), build_right(ed));
  gtk_widget_set_vexpand(row, TRUE);

  GtkWidget *strip = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_margin_start(strip, 8);
  gtk_widget_set_margin_end(strip, 8);
  gtk_widget_set_margin_bottom(strip, 4);
  GtkWidget *strip_head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_box_append(GTK_BOX(strip_head), heading("Results"));
  ed->history_empty = gtk_label_new("No results yet — paint a layout, write a prompt, press Generate (Ctrl+Enter)");
  gtk_widget_add_css_class(ed->history_empty, "dim-label");
  gtk_box_append(GTK_BOX(strip_head), ed->history_empty);
  gtk_box_append(GTK_BOX(strip), strip_head);
  ed->history_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *hscroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(hscroll), ed->history_box);
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(hscroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_widget_set_size_request(hscroll, -1, 76);
  gtk_box_append(GTK_BOX(strip), hscroll);

  ed->status = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(ed->status), 0);
  gtk_widget_add_css_class(ed->status, "dim-label");
  gtk_widget_set_margin_start(ed->status, 8);
  gtk_widget_set_margin_bottom(ed->status, 4);

  GtkWidget *main_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append(GTK_BOX(main_box), row);
  gtk_box_append(GTK_BOX(main_box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append(GTK_BOX(main_box), strip);
  gtk_box_append(GTK_BOX(main_box), ed->status);
  gtk_window_set_child(ed->window, main_box);

  dg_actions_install(ed);
  dg_editor_set_running(ed, false);
  dg_editor_set_document(ed, dg_document_new(DG_DOC_DEFAULT_HEIGHT, DG_DOC_DEFAULT_WIDTH), NULL);
  gtk_range_set_value(GTK_RANGE(ed->opacity_scale), ed->overlay_opacity);
  dg_editor_set_tool(ed, DG_TOOL_BRUSH);
  dg_editor_set_brush_radius(ed, ed->brush_radius);
  dg_editor_select_class(ed, 0);
  dg_editor_set_status(ed, "Ready — pick a class on the left and paint the layout");
  return ed;
}

void dg_editor_free(dg_editor *ed) {
  if (!ed) return;
  if (ed->job) dg_job_free(ed->job);
  if (ed->autosave_source) g_source_remove(ed->autosave_source);
  if (ed->areas_idle) g_source_remove(ed->areas_idle);
  if (ed->layout_surface) cairo_surface_destroy(ed->layout_surface);
  if (ed->result_surface) cairo_surface_destroy(ed->result_surface);
  dg_document_free(ed->doc);
  dg_palette_free(ed->palette);
  g_array_free(ed->polygon, TRUE);
  g_ptr_array_free(ed->dialog_log, TRUE);
  g_free(ed->path);
  g_free(ed->model_checked);
  g_free(ed);
}
