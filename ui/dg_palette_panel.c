#include "dg_palette_panel.h"

#include <string.h>

struct _DgPalettePanel {
  DgDocumentView parent;
  const dg_palette *palette;
  int selected_class;
  guint areas_idle;
  int64_t counts[256];                    // pixels per class on the canvas (the list's order)
  int recent[DG_PALETTE_PANEL_RECENT], n_recent;
  GtkWidget *search, *palette_list, *areas_total, *areas_list, *palette_choice, *recent_box;
};

G_DEFINE_FINAL_TYPE(DgPalettePanel, dg_palette_panel, DG_TYPE_DOCUMENT_VIEW)

enum { SIGNAL_CLASS_PICKED, SIGNAL_PALETTE_CHOSEN, N_SIGNALS };
static guint signals[N_SIGNALS];

// ---- class rows ----------------------------------------------------------------------------------

static void swatch_draw(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data) {
  const dg_palette *palette = g_object_get_data(G_OBJECT(a), "palette");
  uint8_t rgb[3];
  dg_palette_color(palette, GPOINTER_TO_INT(data), rgb);
  cairo_rectangle(cr, 0.5, 0.5, w - 1, h - 1);
  cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
  cairo_fill_preserve(cr);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.5);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

// A row: colour swatch, name, and `extra` (the id when NULL).
static GtkWidget *class_row(const dg_palette *palette, int id, const char *extra) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_start(box, 6);
  gtk_widget_set_margin_end(box, 6);
  gtk_widget_set_margin_top(box, 3);
  gtk_widget_set_margin_bottom(box, 3);
  GtkWidget *swatch = gtk_drawing_area_new();
  g_object_set_data(G_OBJECT(swatch), "palette", (gpointer)palette);
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(swatch), 18);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(swatch), 18);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(swatch), swatch_draw, GINT_TO_POINTER(id), NULL);
  gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
  gtk_box_append(GTK_BOX(box), swatch);
  GtkWidget *name = gtk_label_new(dg_palette_name(palette, id));
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

static int row_class(GtkListBoxRow *row) { return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "class-id")) - 1; }

static gboolean palette_filter(GtkListBoxRow *row, gpointer data) {
  DgPalettePanel *self = data;
  const char *q = gtk_editable_get_text(GTK_EDITABLE(self->search));
  if (!q || !*q) return TRUE;
  int id = row_class(row);
  char *name = g_utf8_casefold(dg_palette_name(self->palette, id), -1), *needle = g_utf8_casefold(q, -1);
  char idtext[16];
  snprintf(idtext, sizeof idtext, "%d", id);
  gboolean match = strstr(name, needle) != NULL || !strcmp(idtext, q);
  g_free(name), g_free(needle);
  return match;
}

static void search_changed(GtkSearchEntry *e, DgPalettePanel *self) {
  (void)e;
  gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->palette_list));
}

// Classes on the canvas first (largest area first), then the rest by id.
static int palette_sort(GtkListBoxRow *a, GtkListBoxRow *b, gpointer data) {
  DgPalettePanel *self = data;
  int ia = row_class(a), ib = row_class(b);
  int64_t ca = self->counts[ia & 255], cb = self->counts[ib & 255];
  if ((ca > 0) != (cb > 0)) return ca > 0 ? -1 : 1;
  if (ca != cb) return ca > cb ? -1 : 1;
  return ia - ib;
}

int dg_palette_panel_row_class(DgPalettePanel *self, int n) {
  for (int i = 0;; i++) {
    GtkListBoxRow *row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(self->palette_list), i);
    if (!row) return -1;
    if (!palette_filter(row, self)) continue;
    if (n-- == 0) return row_class(row);
  }
}

void dg_palette_panel_search(DgPalettePanel *self, const char *text) {
  gtk_editable_set_text(GTK_EDITABLE(self->search), text);
  gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->palette_list));
}

// Enter in the search picks the first class that matches.
static void search_activate(GtkSearchEntry *e, DgPalettePanel *self) {
  (void)e;
  int cls = dg_palette_panel_row_class(self, 0);
  if (cls >= 0) g_signal_emit(self, signals[SIGNAL_CLASS_PICKED], 0, cls);
}

static void recent_clicked(GtkButton *b, DgPalettePanel *self) {
  int cls = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "class-id")) - 1;
  if (cls >= 0) g_signal_emit(self, signals[SIGNAL_CLASS_PICKED], 0, cls);
}

static void rebuild_recent(DgPalettePanel *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->recent_box)))
    gtk_box_remove(GTK_BOX(self->recent_box), child);
  for (int i = 0; i < self->n_recent; i++) {
    GtkWidget *swatch = gtk_drawing_area_new();
    g_object_set_data(G_OBJECT(swatch), "palette", (gpointer)self->palette);
    gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(swatch), 14);
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(swatch), 14);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(swatch), swatch_draw, GINT_TO_POINTER(self->recent[i]), NULL);
    GtkWidget *button = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(button), swatch);
    gtk_widget_add_css_class(button, "flat");
    gtk_widget_set_tooltip_text(button, dg_palette_name(self->palette, self->recent[i]));
    g_object_set_data(G_OBJECT(button), "class-id", GINT_TO_POINTER(self->recent[i] + 1));
    g_signal_connect(button, "clicked", G_CALLBACK(recent_clicked), self);
    gtk_box_append(GTK_BOX(self->recent_box), button);
  }
}

// The class painted with moves to the front of the recently used row.
static void remember(DgPalettePanel *self, int cls) {
  if (!self->palette || !dg_palette_find(self->palette, cls)) return;
  int k = 0;
  while (k < self->n_recent && self->recent[k] != cls) k++;
  if (k == 0 && self->n_recent) return;
  if (k == self->n_recent && self->n_recent < DG_PALETTE_PANEL_RECENT) self->n_recent++;
  if (k == DG_PALETTE_PANEL_RECENT) k--;
  memmove(self->recent + 1, self->recent, (size_t)k * sizeof *self->recent);
  self->recent[0] = cls;
  rebuild_recent(self);
}

int dg_palette_panel_get_recent(DgPalettePanel *self, int recent[DG_PALETTE_PANEL_RECENT]) {
  memcpy(recent, self->recent, (size_t)self->n_recent * sizeof *recent);
  return self->n_recent;
}

static void palette_selected(GtkDropDown *d, GParamSpec *pspec, DgPalettePanel *self) {
  (void)pspec;
  GtkStringObject *item = gtk_drop_down_get_selected_item(d);
  const char *name = item ? gtk_string_object_get_string(item) : NULL;
  if (name && self->palette && strcmp(name, dg_palette_title(self->palette)))
    g_signal_emit(self, signals[SIGNAL_PALETTE_CHOSEN], 0, name);
}

void dg_palette_panel_show_class(DgPalettePanel *self, int cls) {
  remember(self, cls);
  self->selected_class = cls; // the row-selected handler sees it is no pick
  for (int i = 0;; i++) {
    GtkListBoxRow *row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(self->palette_list), i);
    if (!row) break;
    if (row_class(row) == cls) gtk_list_box_select_row(GTK_LIST_BOX(self->palette_list), row);
  }
}

static void pick(DgPalettePanel *self, int cls) {
  if (self->selected_class != cls) g_signal_emit(self, signals[SIGNAL_CLASS_PICKED], 0, cls);
}

static void palette_row_selected(GtkListBox *box, GtkListBoxRow *row, DgPalettePanel *self) {
  (void)box;
  if (row) pick(self, row_class(row));
}

static void areas_row_activated(GtkListBox *box, GtkListBoxRow *row, DgPalettePanel *self) {
  (void)box;
  int id = row_class(row);
  if (id != DG_UNLABELLED) g_signal_emit(self, signals[SIGNAL_CLASS_PICKED], 0, id);
}

static gboolean rebuild_areas(gpointer data);

void dg_palette_panel_set_palette(DgPalettePanel *self, const dg_palette *palette) {
  GtkListBox *list = GTK_LIST_BOX(self->palette_list);
  self->palette = NULL; // no pick or palette choice while the rows change
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))))
    gtk_list_box_remove(list, child);
  self->n_recent = 0;
  rebuild_recent(self);
  // The selector shows the palette (a palette file: no entry selected).
  guint pos = GTK_INVALID_LIST_POSITION;
  for (int b = 0; b < DG_PALETTE_BUILTIN_COUNT; b++)
    if (!strcmp(dg_palette_builtin[b], dg_palette_title(palette))) pos = (guint)b;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->palette_choice), pos);
  self->palette = palette;
  gtk_list_box_set_filter_func(list, palette_filter, self, NULL);
  gtk_list_box_set_sort_func(list, palette_sort, self, NULL);
  for (int i = 0; i < dg_palette_count(palette); i++)
    gtk_list_box_append(list, class_row(palette, dg_palette_class_at(palette, i)->id, NULL));
  self->selected_class = -1;
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (doc && !self->areas_idle) self->areas_idle = g_timeout_add(1, rebuild_areas, self);
}

// ---- classes on canvas ---------------------------------------------------------------------------

static gboolean rebuild_areas(gpointer data) {
  DgPalettePanel *self = data;
  self->areas_idle = 0;
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (!doc || !self->palette) return G_SOURCE_REMOVE;
  dg_document *m = dg_document_object_get_model(doc);
  GtkListBox *list = GTK_LIST_BOX(self->areas_list);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))))
    gtk_list_box_remove(list, child);
  int64_t *counts = self->counts;
  dg_document_class_areas(m, counts);
  gtk_list_box_invalidate_sort(GTK_LIST_BOX(self->palette_list));
  double total = (double)dg_document_width(m) * dg_document_height(m);
  // Largest first.
  int order[256], n = 0, present = 0;
  for (int i = 0; i < 256; i++)
    if (counts[i]) order[n++] = i;
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && counts[order[b]] > counts[order[b - 1]]; b--) {
      int t = order[b];
      order[b] = order[b - 1], order[b - 1] = t;
    }
  for (int k = 0; k < n; k++) {
    int i = order[k];
    if (i != DG_UNLABELLED && !dg_palette_find(self->palette, i)) continue;
    char extra[48];
    snprintf(extra, sizeof extra, "%.1f%%  %lld px", 100.0 * counts[i] / total, (long long)counts[i]);
    gtk_list_box_append(list, class_row(self->palette, i, extra));
    if (i != DG_UNLABELLED) present++;
  }
  char text[64];
  snprintf(text, sizeof text, "%d classes on canvas", present);
  gtk_label_set_text(GTK_LABEL(self->areas_total), text);
  return G_SOURCE_REMOVE;
}

// Edits come in bursts (every dab of a stroke): the areas are counted 150 ms after the first.
static void layout_changed(DgDocument *doc, int x, int y, int w, int h, DgPalettePanel *self) {
  (void)doc, (void)x, (void)y, (void)w, (void)h;
  if (!self->areas_idle) self->areas_idle = g_timeout_add(150, rebuild_areas, self);
}

static void dg_palette_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  if (!doc) return;
  dg_document_view_connect(view, "layout-changed", G_CALLBACK(layout_changed));
  layout_changed(doc, 0, 0, 0, 0, DG_PALETTE_PANEL(view));
}

static void dg_palette_panel_dispose(GObject *object) {
  DgPalettePanel *self = DG_PALETTE_PANEL(object);
  if (self->areas_idle) g_source_remove(self->areas_idle);
  self->areas_idle = 0;
  G_OBJECT_CLASS(dg_palette_panel_parent_class)->dispose(object);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgPalettePanel, search), DG_TEMPLATE_CHILD(DgPalettePanel, palette_list),
    DG_TEMPLATE_CHILD(DgPalettePanel, areas_total), DG_TEMPLATE_CHILD(DgPalettePanel, areas_list),
    DG_TEMPLATE_CHILD(DgPalettePanel, palette_choice), DG_TEMPLATE_CHILD(DgPalettePanel, recent_box)};

static void dg_palette_panel_class_init(DgPalettePanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = dg_palette_panel_dispose;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_palette_panel_document_changed;
  // (int class): the user picked a class in one of the lists.
  signals[SIGNAL_CLASS_PICKED] = g_signal_new("class-picked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  // (string name): the user chose another palette in the selector.
  signals[SIGNAL_PALETTE_CHOSEN] = g_signal_new("palette-chosen", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_palette_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, search_changed);
  gtk_widget_class_bind_template_callback(wc, search_activate);
  gtk_widget_class_bind_template_callback(wc, palette_selected);
  gtk_widget_class_bind_template_callback(wc, palette_row_selected);
  gtk_widget_class_bind_template_callback(wc, areas_row_activated);
}

static void dg_palette_panel_init(DgPalettePanel *self) {
  self->selected_class = -1;
  gtk_widget_init_template(GTK_WIDGET(self));
}
