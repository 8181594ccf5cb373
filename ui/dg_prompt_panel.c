#include "dg_prompt_panel.h"

struct _DgPromptPanel {
  DgDocumentView parent;
  GtkWidget *prompt_view, *negative_view, *seed_entry, *seed_random, *steps_spin, *guidance_spin, *progress, *preview;
  GtkTextBuffer *prompt_buffer, *negative_buffer;
  GtkAdjustment *steps_spin_adjustment, *guidance_spin_adjustment;
  DgModelRow *model_row;
};

G_DEFINE_FINAL_TYPE(DgPromptPanel, dg_prompt_panel, DG_TYPE_DOCUMENT_VIEW)

enum { PROP_0, PROP_PROGRESS_TEXT, PROP_PROGRESS_FRACTION, PROP_PREVIEW, N_PROPS };
static GParamSpec *props[N_PROPS];

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
// refused with a message, and the entry shows the document's seed again.
static void seed_commit(DgPromptPanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (!doc) return;
  const char *s = gtk_editable_get_text(GTK_EDITABLE(self->seed_entry));
  guint64 v;
  if (g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
    g_object_set(doc, "seed", v, NULL);
  else
    dg_document_view_status(DG_DOCUMENT_VIEW(self), "The seed must be a whole number from 0 to 18446744073709551615");
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
  dg_document_view_bind(view, doc, "model", self->model_row, "choice", G_BINDING_SYNC_CREATE, NULL, NULL, NULL);
}

static void dg_prompt_panel_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgPromptPanel *self = DG_PROMPT_PANEL(object);
  switch (id) {
  case PROP_PROGRESS_TEXT: g_value_set_string(value, dg_prompt_panel_get_progress_text(self)); break;
  case PROP_PROGRESS_FRACTION:
    g_value_set_double(value, gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(self->progress)));
    break;
  case PROP_PREVIEW: g_value_set_object(value, gtk_picture_get_paintable(GTK_PICTURE(self->preview))); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_prompt_panel_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  DgPromptPanel *self = DG_PROMPT_PANEL(object);
  switch (id) {
  case PROP_PROGRESS_TEXT: gtk_progress_bar_set_text(GTK_PROGRESS_BAR(self->progress), g_value_get_string(value)); break;
  case PROP_PROGRESS_FRACTION:
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress), g_value_get_double(value));
    break;
  case PROP_PREVIEW: gtk_picture_set_paintable(GTK_PICTURE(self->preview), g_value_get_object(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); return;
  }
  g_object_notify_by_pspec(object, pspec);
}

static void dg_prompt_panel_class_init(DgPromptPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = dg_prompt_panel_get_property;
  oc->set_property = dg_prompt_panel_set_property;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_prompt_panel_document_changed;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_PROGRESS_TEXT] = g_param_spec_string("progress-text", NULL, NULL, "Idle", rw);
  props[PROP_PROGRESS_FRACTION] = g_param_spec_double("progress-fraction", NULL, NULL, 0, 1, 0, rw);
  props[PROP_PREVIEW] = g_param_spec_object("preview", NULL, NULL, GDK_TYPE_PAINTABLE, rw);
  g_object_class_install_properties(oc, N_PROPS, props);
  g_type_ensure(DG_TYPE_MODEL_ROW);
  gtk_widget_class_set_template_from_resource(wc, "/org/dirigent/Dirigent/dg_prompt_panel.ui");
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, prompt_view);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, negative_view);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, prompt_buffer);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, negative_buffer);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, seed_entry);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, seed_random);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, steps_spin);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, steps_spin_adjustment);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, guidance_spin);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, guidance_spin_adjustment);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, model_row);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, progress);
  gtk_widget_class_bind_template_child(wc, DgPromptPanel, preview);
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
