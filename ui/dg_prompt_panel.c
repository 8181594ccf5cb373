#include "dg_prompt_panel.h"

#include "dg_settings.h"

struct _DgPromptPanel {
  DgDocumentView parent;
  GtkWidget *prompt_view, *negative_view, *seed_entry, *seed_random, *steps_spin, *guidance_spin, *progress, *preview;
  GtkTextBuffer *prompt_buffer, *negative_buffer;
  GtkAdjustment *steps_spin_adjustment, *guidance_spin_adjustment;
  DgModelRow *model_row;
};

G_DEFINE_FINAL_TYPE(DgPromptPanel, dg_prompt_panel, DG_TYPE_DOCUMENT_VIEW)

DgModelRow *dg_prompt_panel_get_model_row(DgPromptPanel *self) { return self->model_row; }
const char *dg_prompt_panel_get_progress_text(DgPromptPanel *self) {
  return gtk_progress_bar_get_text(GTK_PROGRESS_BAR(self->progress));
}

static char *seed_text(guint64 seed) { return g_strdup_printf("%" G_GUINT64_FORMAT, seed); }

static gboolean seed_to_text(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  g_value_take_string(to, seed_text(g_value_get_uint64(from)));
  return TRUE;
}

// The seed is taken when the entry is activated or left: a whole number fixes it; anything else is
// refused with the rule the CLI states too (dg_settings), and the entry shows the document's seed again.
static void seed_commit(DgPromptPanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (!doc) return;
  const char *s = gtk_editable_get_text(GTK_EDITABLE(self->seed_entry));
  uint64_t v;
  if (dg_settings_parse_seed("Seed", s, &v) == DG_OK)
    g_object_set(doc, "seed", (guint64)v, NULL);
  else
    dg_document_view_status(DG_DOCUMENT_VIEW(self), "%s", dg_last_error());
  guint64 seed;
  g_object_get(doc, "seed", &seed, NULL);
  char *text = seed_text(seed);
  gtk_editable_set_text(GTK_EDITABLE(self->seed_entry), text);
  g_free(text);
}
static void seed_activate(GtkEntry *e, DgPromptPanel *self) {
  (void)e;
  seed_commit(self);
}
static void seed_focus_leave(GtkEventControllerFocus *f, DgPromptPanel *self) {
  (void)f;
  seed_commit(self);
}
static void seed_dice(GtkButton *b, DgPromptPanel *self) {
  (void)b;
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (doc) g_object_set(doc, "seed", (guint64)(((uint64_t)g_random_int() << 32 | g_random_int()) >> 11), NULL);
}
static void seed_copy(GtkButton *b, DgPromptPanel *self) {
  (void)b;
  gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)),
                         gtk_editable_get_text(GTK_EDITABLE(self->seed_entry)));
  dg_document_view_status(DG_DOCUMENT_VIEW(self), "Seed copied");
}

static void dg_prompt_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgPromptPanel *self = DG_PROMPT_PANEL(view);
  dg_document_view_set_document(DG_DOCUMENT_VIEW(self->model_row), doc);
  if (!doc) return;
  const GBindingFlags both = G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE;
  // Typing into a text view writes the text property, which merges keystrokes into one undo step.
  dg_document_view_bind(view, doc, "prompt", self->prompt_buffer, "text", both, NULL, NULL, NULL);
  dg_document_view_bind(view, doc, "negative-prompt", self->negative_buffer, "text", both, NULL, NULL, NULL);
  dg_document_view_bind(view, doc, "seed", self->seed_entry, "text", G_BINDING_SYNC_CREATE, seed_to_text, NULL, NULL);
  dg_document_view_bind(view, doc, "seed-random", self->seed_random, "active", both, NULL, NULL, NULL);
  dg_document_view_bind(view, doc, "seed-random", self->seed_entry, "sensitive",
                        G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN, NULL, NULL, NULL);
  dg_document_view_bind(view, doc, "steps", self->steps_spin_adjustment, "value", both, NULL, NULL, NULL);
  dg_document_view_bind(view, doc, "guidance", self->guidance_spin_adjustment, "value", both, NULL, NULL, NULL);
}

void dg_prompt_panel_show_runner(DgPromptPanel *self, DgJobRunner *runner) {
  g_object_bind_property(runner, "progress-text", self->progress, "text", G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "progress-fraction", self->progress, "fraction", G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "preview", self->preview, "paintable", G_BINDING_SYNC_CREATE);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgPromptPanel, prompt_view),   DG_TEMPLATE_CHILD(DgPromptPanel, negative_view),
    DG_TEMPLATE_CHILD(DgPromptPanel, prompt_buffer), DG_TEMPLATE_CHILD(DgPromptPanel, negative_buffer),
    DG_TEMPLATE_CHILD(DgPromptPanel, seed_entry),    DG_TEMPLATE_CHILD(DgPromptPanel, seed_random),
    DG_TEMPLATE_CHILD(DgPromptPanel, steps_spin),    DG_TEMPLATE_CHILD(DgPromptPanel, steps_spin_adjustment),
    DG_TEMPLATE_CHILD(DgPromptPanel, guidance_spin), DG_TEMPLATE_CHILD(DgPromptPanel, guidance_spin_adjustment),
    DG_TEMPLATE_CHILD(DgPromptPanel, model_row),     DG_TEMPLATE_CHILD(DgPromptPanel, progress),
    DG_TEMPLATE_CHILD(DgPromptPanel, preview)};

static void dg_prompt_panel_class_init(DgPromptPanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_prompt_panel_document_changed;
  g_type_ensure(DG_TYPE_MODEL_ROW);
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_prompt_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, seed_activate);
  gtk_widget_class_bind_template_callback(wc, seed_dice);
  gtk_widget_class_bind_template_callback(wc, seed_copy);
}

static void dg_prompt_panel_init(DgPromptPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  GtkEventController *focus = gtk_event_controller_focus_new();
  g_signal_connect(focus, "leave", G_CALLBACK(seed_focus_leave), self);
  gtk_widget_add_controller(self->seed_entry, focus);
}
