#include "dg_results_panel.h"

struct _DgResultsPanel {
  DgDocumentView parent;
  GtkWidget *empty_label, *results_view, *videos_box;
  GtkSingleSelection *selection;
  GPtrArray *badges; // each video thumbnail's badge text, for dump-state
};

G_DEFINE_FINAL_TYPE(DgResultsPanel, dg_results_panel, DG_TYPE_DOCUMENT_VIEW)

// A result dragged from the strip is "result N" (1-based), what the style panel's slots take.
static GdkContentProvider *drag_prepare(GtkDragSource *source, double x, double y, GtkListItem *item) {
  (void)source, (void)x, (void)y;
  DgResult *result = gtk_list_item_get_item(item);
  if (!result) return NULL;
  char *text = g_strdup_printf("result %d", dg_result_object_get_index(result) + 1);
  GdkContentProvider *p = gdk_content_provider_new_typed(G_TYPE_STRING, text);
  g_free(text);
  return p;
}

static void item_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  (void)f, (void)data;
  GtkWidget *picture = gtk_picture_new();
  gtk_widget_set_size_request(picture, 120, 60);
  GtkDragSource *drag = gtk_drag_source_new();
  gtk_drag_source_set_actions(drag, GDK_ACTION_COPY);
  g_signal_connect(drag, "prepare", G_CALLBACK(drag_prepare), item);
  gtk_widget_add_controller(picture, GTK_EVENT_CONTROLLER(drag));
  gtk_list_item_set_child(item, picture);
}

static void item_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  (void)f, (void)data;
  DgResult *result = gtk_list_item_get_item(item);
  const dg_result *r = dg_result_object_get_info(result);
  GdkTexture *tex = gdk_memory_texture_new(r->width, r->height, GDK_MEMORY_R8G8B8A8,
                                           dg_result_object_get_pixels(result), (gsize)r->width * 4);
  GtkWidget *picture = gtk_list_item_get_child(item);
  gtk_picture_set_paintable(GTK_PICTURE(picture), GDK_PAINTABLE(tex));
  g_object_unref(tex);
  char *tip = g_strdup_printf("Result %d · seed %llu · %d steps · guidance %g · layout strength %g\n%s%s%s",
                              dg_result_object_get_index(result) + 1, (unsigned long long)r->seed, r->steps,
                              r->guidance, r->control_scale, r->prompt, r->style ? "\nStyled: " : "",
                              r->style ? r->style : "");
  gtk_widget_set_tooltip_text(picture, tip);
  g_free(tip);
}

// The document's current result (-1: none) and the selection's position (GTK_INVALID_LIST_POSITION).
static gboolean current_to_selected(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  int current = g_value_get_int(from);
  g_value_set_uint(to, current < 0 ? GTK_INVALID_LIST_POSITION : (guint)current);
  return TRUE;
}
static gboolean selected_to_current(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  guint selected = g_value_get_uint(from);
  g_value_set_int(to, selected == GTK_INVALID_LIST_POSITION ? -1 : (int)selected);
  return TRUE;
}
// "No results yet" only while the document has neither an image nor a video (videos are results too).
static void update_hint(DgResultsPanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  const dg_document *m = doc ? dg_document_object_get_model(doc) : NULL;
  gtk_widget_set_visible(self->empty_label, !m || (!dg_document_result_count(m) && !dg_document_video_count(m)));
}
static void results_counted(DgResultsPanel *self) { update_hint(self); }

// ---- the videos: a thumbnail (the first frame) with a frame-count badge each; the current one marked ----

static void video_clicked(GtkButton *b, DgResultsPanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (doc)
    dg_document_set_current_video(dg_document_object_get_model(doc),
                                  GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "video")));
}

static GtkWidget *video_thumb(DgResultsPanel *self, const dg_video_result *v, int index, bool current) {
  const dg_media *m = &v->frames;
  GBytes *bytes = g_bytes_new(dg_media_frame(m, 0), dg_media_frame_bytes(m));
  GdkTexture *tex = gdk_memory_texture_new(m->width, m->height, GDK_MEMORY_R8G8B8A8, bytes, (gsize)m->width * 4);
  g_bytes_unref(bytes);
  GtkWidget *picture = gtk_picture_new_for_paintable(GDK_PAINTABLE(tex));
  g_object_unref(tex);
  gtk_widget_set_size_request(picture, 120, 60);
  char *text = g_strdup_printf("%d frames", m->frames);
  GtkWidget *badge = gtk_label_new(text);
  g_ptr_array_add(self->badges, text);
  gtk_widget_set_halign(badge, GTK_ALIGN_END), gtk_widget_set_valign(badge, GTK_ALIGN_END);
  gtk_widget_add_css_class(badge, "video-badge");
  GtkWidget *remove = gtk_button_new_from_icon_name("window-close-symbolic");
  gtk_widget_set_halign(remove, GTK_ALIGN_END), gtk_widget_set_valign(remove, GTK_ALIGN_START);
  gtk_widget_add_css_class(remove, "circular");
  gtk_widget_set_tooltip_text(remove, "Delete this video (Undo brings it back)");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(remove), "app.delete-video");
  gtk_actionable_set_action_target(GTK_ACTIONABLE(remove), "i", index);
  GtkWidget *overlay = gtk_overlay_new();
  gtk_overlay_set_child(GTK_OVERLAY(overlay), picture);
  gtk_overlay_add_overlay(GTK_OVERLAY(overlay), badge);
  gtk_overlay_add_overlay(GTK_OVERLAY(overlay), remove);
  GtkWidget *button = gtk_button_new();
  gtk_button_set_child(GTK_BUTTON(button), overlay);
  gtk_button_set_has_frame(GTK_BUTTON(button), FALSE);
  if (current) gtk_widget_add_css_class(button, "current-video");
  char *tip = g_strdup_printf("Video %d · %d frames of %dx%d · seed %llu · %d steps%s", index + 1, m->frames, m->width,
                              m->height, (unsigned long long)v->seed, v->steps, current ? " (in the player)" : "");
  gtk_widget_set_tooltip_text(button, tip);
  g_free(tip);
  g_object_set_data(G_OBJECT(button), "video", GINT_TO_POINTER(index));
  g_signal_connect(button, "clicked", G_CALLBACK(video_clicked), self);
  return button;
}

static void videos_changed(DgDocument *doc, DgResultsPanel *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->videos_box)))
    gtk_box_remove(GTK_BOX(self->videos_box), child);
  g_ptr_array_set_size(self->badges, 0);
  const dg_document *m = doc ? dg_document_object_get_model(doc) : NULL;
  for (int i = 0; m && i < dg_document_video_count(m); i++)
    gtk_box_append(GTK_BOX(self->videos_box),
                   video_thumb(self, dg_document_video_at(m, i), i, i == dg_document_current_video(m)));
  update_hint(self);
}

GPtrArray *dg_results_panel_get_video_badges(DgResultsPanel *self) { return self->badges; }
gboolean dg_results_panel_get_hint_shown(DgResultsPanel *self) { return gtk_widget_get_visible(self->empty_label); }

static void dg_results_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgResultsPanel *self = DG_RESULTS_PANEL(view);
  videos_changed(doc, self);
  if (doc) dg_document_view_connect(view, "video-changed", G_CALLBACK(videos_changed));
  GListModel *results = doc ? dg_document_object_get_results(doc) : NULL;
  gtk_single_selection_set_model(self->selection, results);
  if (!doc) return;
  dg_document_view_bind(view, doc, "current-result", self->selection, "selected",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, current_to_selected, selected_to_current,
                        NULL);
  g_signal_connect_object(results, "notify::n-items", G_CALLBACK(results_counted), self, G_CONNECT_SWAPPED);
  update_hint(self);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgResultsPanel, empty_label), DG_TEMPLATE_CHILD(DgResultsPanel, results_view),
    DG_TEMPLATE_CHILD(DgResultsPanel, videos_box), DG_TEMPLATE_CHILD(DgResultsPanel, selection)};

static void dg_results_panel_finalize(GObject *object) {
  g_ptr_array_unref(DG_RESULTS_PANEL(object)->badges);
  G_OBJECT_CLASS(dg_results_panel_parent_class)->finalize(object);
}

static void dg_results_panel_class_init(DgResultsPanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = dg_results_panel_finalize;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_results_panel_document_changed;
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_results_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, item_setup);
  gtk_widget_class_bind_template_callback(wc, item_bind);
}

static void dg_results_panel_init(DgResultsPanel *self) {
  self->badges = g_ptr_array_new_with_free_func(g_free);
  gtk_widget_init_template(GTK_WIDGET(self));
}
