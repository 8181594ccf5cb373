#include "dg_prompt_panel.h"

#include "dg_assets.h"
#include "dg_guidance.h"
#include "dg_marks.h"
#include "dg_model_choice.h"
#include "dg_settings.h"
#include "dg_tokenizer.h"

struct _DgPromptPanel {
  DgDocumentView parent;
  GtkWidget *prompt_view, *negative_view, *seed_entry, *seed_random, *steps_spin, *guidance_spin, *progress, *preview;
  GtkWidget *control_scale_spin; // the layout strength
  GtkTextBuffer *prompt_buffer, *negative_buffer;
  GtkWidget *marks_entry, *mark_word, *marks_chips, *heatmap, *attn_drop;
  GtkWidget *prompt_tokens;  // "N / 75 tokens" of the default model's tokenizer
  GtkTextTag *left_out_tag; // the prompt's words past what the text encoder reads
  DgJobRunner *runner; // not owned: the window's
  char pending_attr[DG_MARK_WORD_MAX + 16]; // a colour word chosen with Mark, bound to the next object marked
  char binding[DG_MARK_WORD_MAX + 16];      // a marked object Ctrl+clicked: the next clicked word binds to it
  GtkAdjustment *steps_spin_adjustment, *guidance_spin_adjustment, *control_scale_spin_adjustment;
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

#define DOC(self) dg_document_view_get_document(DG_DOCUMENT_VIEW(self))

// The marks as chips: one button per item, a click removes it (one undo step).
static void chip_clicked(GtkButton *b, DgPromptPanel *self) {
  char *marks = NULL;
  g_object_get(DOC(self), "marks", &marks, NULL);
  char *less = dg_marks_text_remove(marks, g_object_get_data(G_OBJECT(b), "item"));
  g_object_set(DOC(self), "marks", less, NULL);
  g_free(less), g_free(marks);
}

// Hovering a chip shows its word's heatmap (the runner keeps it up to date step by step).
static void chip_enter(GtkEventControllerMotion *m, double x, double y, DgPromptPanel *self) {
  (void)x, (void)y;
  GtkWidget *chip = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(m));
  if (self->runner) dg_job_runner_show_heatmap(self->runner, g_object_get_data(G_OBJECT(chip), "item"));
}

static void chip_leave(GtkEventControllerMotion *m, DgPromptPanel *self) {
  (void)m;
  if (self->runner) dg_job_runner_show_heatmap(self->runner, NULL);
}

// The object an item marks: "car" of "car" and of "red:car".
static const char *item_object(const char *item) {
  const char *colon = strchr(item, ':');
  return colon ? colon + 1 : item;
}

static bool has_object(const char *marks, const char *ref) {
  bool found = false;
  gchar **items = g_strsplit(marks ? marks : "", ",", -1);
  for (int i = 0; items[i] && !found; i++)
    found = *g_strstrip(items[i]) && !g_ascii_strcasecmp(item_object(items[i]), ref);
  g_strfreev(items);
  return found;
}

static void marks_changed(DgDocument *doc, GParamSpec *ps, DgPromptPanel *self) {
  (void)ps;
  char *marks = NULL;
  g_object_get(doc, "marks", &marks, NULL);
  if (!has_object(marks, self->binding)) self->binding[0] = 0; // its object was removed (or undone)
  gtk_editable_set_text(GTK_EDITABLE(self->marks_entry), marks ? marks : "");
  GtkWidget *old;
  while ((old = gtk_widget_get_first_child(self->marks_chips)))
    gtk_flow_box_remove(GTK_FLOW_BOX(self->marks_chips), old);
  gchar **items = g_strsplit(marks ? marks : "", ",", -1);
  for (int i = 0; items[i]; i++) {
    char *it = g_strstrip(items[i]);
    if (!*it) continue;
    char *label = g_strdup_printf("%s \u2715", it);
    GtkWidget *chip = gtk_button_new_with_label(label);
    gtk_widget_add_css_class(chip, "pill");
    gtk_widget_set_tooltip_text(chip, strchr(it, ':') ? "Attribute bound to its object: click to remove"
                                                      : "Marked object: click to remove. Ctrl+click it in the prompt, "
                                                        "then another word, to bind that word to it as its attribute");
    if (self->binding[0] && !strchr(it, ':') && !g_ascii_strcasecmp(it, self->binding))
      gtk_widget_add_css_class(chip, "suggested-action"); // the object the next Ctrl+clicked word binds to
    g_object_set_data_full(G_OBJECT(chip), "item", g_strdup(it), g_free);
    g_signal_connect(chip, "clicked", G_CALLBACK(chip_clicked), self);
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "enter", G_CALLBACK(chip_enter), self);
    g_signal_connect(motion, "leave", G_CALLBACK(chip_leave), self);
    gtk_widget_add_controller(chip, motion);
    gtk_flow_box_append(GTK_FLOW_BOX(self->marks_chips), chip);
    g_free(label);
  }
  g_strfreev(items);
  g_free(marks);
}

static void marks_activate(GtkEntry *e, DgPromptPanel *self) {
  if (DOC(self)) g_object_set(DOC(self), "marks", gtk_editable_get_text(GTK_EDITABLE(e)), NULL);
}

static bool is_colour(const char *ref) {
  for (int i = 0; dg_marks_colours[i]; i++)
    if (g_str_has_prefix(ref, dg_marks_colours[i]) &&
        (!ref[strlen(dg_marks_colours[i])] || ref[strlen(dg_marks_colours[i])] == '#'))
      return true;
  return false;
}

// Marks the word at the prompt's cursor: a colour word waits for its object (the next word marked);
// another word becomes an object, bound to the waiting colour word if there is one.
static void mark_word_clicked(GtkButton *b, DgPromptPanel *self) {
  (void)b;
  if (!DOC(self)) return;
  GtkTextIter start, at;
  gtk_text_buffer_get_start_iter(self->prompt_buffer, &start);
  gtk_text_buffer_get_iter_at_mark(self->prompt_buffer, &at, gtk_text_buffer_get_insert(self->prompt_buffer));
  char *before = gtk_text_buffer_get_text(self->prompt_buffer, &start, &at, FALSE);
  char *prompt = NULL, *marks = NULL;
  g_object_get(DOC(self), "prompt", &prompt, "marks", &marks, NULL);
  char *ref = dg_marks_word_at(prompt, (int)strlen(before));
  if (!ref) {
    dg_document_view_status(DG_DOCUMENT_VIEW(self), "Put the cursor on a word of the prompt to mark it");
  } else if (is_colour(ref) && !self->pending_attr[0]) {
    g_strlcpy(self->pending_attr, ref, sizeof self->pending_attr);
    char *msg = g_strdup_printf("'%s': now mark its object", ref);
    dg_document_view_status(DG_DOCUMENT_VIEW(self), msg);
    g_free(msg);
  } else {
    char *item = self->pending_attr[0] ? g_strdup_printf("%s:%s", self->pending_attr, ref) : g_strdup(ref);
    char *rest = dg_marks_text_remove(marks, item);
    dg_marks_text_append(&rest, item);
    g_object_set(DOC(self), "marks", rest, NULL);
    self->pending_attr[0] = 0;
    g_free(rest), g_free(item);
  }
  g_free(ref), g_free(before), g_free(prompt), g_free(marks);
}

static void say(DgPromptPanel *self, const char *fmt, const char *a, const char *b) {
  char *msg = g_strdup_printf(fmt, a, b);
  dg_document_view_status(DG_DOCUMENT_VIEW(self), "%s", msg);
  g_free(msg);
}

void dg_prompt_panel_mark_at(DgPromptPanel *self, int at) {
  if (!DOC(self)) return;
  char *prompt = NULL, *marks = NULL, *next = NULL;
  g_object_get(DOC(self), "prompt", &prompt, "marks", &marks, NULL);
  char *ref = at >= 0 && (size_t)at <= strlen(prompt) ? dg_marks_word_at(prompt, at) : NULL;
  if (!ref) {
    say(self, "Ctrl+click a word of the prompt to mark it%s%s", "", "");
  } else if (self->binding[0] && !g_ascii_strcasecmp(ref, self->binding)) {
    say(self, "No longer binding to '%s'%s", self->binding, "");
    self->binding[0] = 0;
  } else if (self->binding[0]) { // the word becomes the chosen object's attribute (no longer an object itself)
    char *item = g_strdup_printf("%s:%s", ref, self->binding), *rest = dg_marks_text_remove(marks, ref);
    next = dg_marks_text_remove(rest, self->binding);
    dg_marks_text_append(&next, item);
    say(self, "'%s' bound to '%s'", ref, self->binding);
    self->binding[0] = 0;
    g_free(item), g_free(rest);
  } else if (has_object(marks, ref)) {
    g_strlcpy(self->binding, ref, sizeof self->binding);
    say(self, "Ctrl+click the word to bind to '%s' as its attribute (or '%s' again to cancel)", ref, ref);
  } else {
    next = g_strdup(marks);
    dg_marks_text_append(&next, ref);
    say(self, "'%s' marked: Ctrl+click it again, then an attribute word, to bind them%s", ref, "");
  }
  if (next) g_object_set(DOC(self), "marks", next, NULL); // one undo step
  marks_changed(DOC(self), NULL, self);                   // shows the object being bound to
  g_free(next), g_free(ref), g_free(prompt), g_free(marks);
}

const char *dg_prompt_panel_get_binding(DgPromptPanel *self) { return self->binding; }

// Ctrl+click on the prompt: the word under the pointer, through app.mark-word-at.
static void prompt_pressed(GtkGestureClick *g, int n, double x, double y, DgPromptPanel *self) {
  (void)n;
  GtkTextView *v = GTK_TEXT_VIEW(self->prompt_view);
  GtkTextIter it, start;
  int bx, by;
  gtk_text_view_window_to_buffer_coords(v, GTK_TEXT_WINDOW_WIDGET, (int)x, (int)y, &bx, &by);
  if (!(gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g)) & GDK_CONTROL_MASK) ||
      !gtk_text_view_get_iter_at_location(v, &it, bx, by)) {
    gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_DENIED);
    return;
  }
  gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
  gtk_text_buffer_get_start_iter(self->prompt_buffer, &start);
  char *before = gtk_text_buffer_get_text(self->prompt_buffer, &start, &it, FALSE);
  gtk_widget_activate_action(GTK_WIDGET(self), "app.mark-word-at", "i", (int)strlen(before));
  g_free(before);
}

// The guidance selector's rows are the dg_guidance_kind values.
static gboolean attn_to_row(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  dg_guidance_kind k;
  if (dg_guidance_parse(g_value_get_string(from), &k) != DG_OK) return FALSE;
  g_value_set_uint(to, (guint)k);
  return TRUE;
}
static gboolean row_to_attn(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  guint row = g_value_get_uint(from);
  if (row > DG_GUIDANCE_DIVIDE_BIND) return FALSE;
  g_value_set_string(to, dg_guidance_name((dg_guidance_kind)row));
  return TRUE;
}
double dg_prompt_panel_get_control_scale_shown(DgPromptPanel *self) {
  return gtk_adjustment_get_value(self->control_scale_spin_adjustment);
}
const char *dg_prompt_panel_get_attn_shown(DgPromptPanel *self) {
  guint row = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->attn_drop));
  return row > DG_GUIDANCE_DIVIDE_BIND ? "" : dg_guidance_name((dg_guidance_kind)row);
}

// The shipped tokenizer (the default model's), loaded once; NULL when it cannot be read.
static const dg_tokenizer *default_tokenizer(void) {
  static dg_tokenizer *tok;
  static bool tried;
  if (!tried) {
    tried = true;
    char *dir = dg_assets_path("tokenizer");
    if (dg_tokenizer_load(dir, &tok) != DG_OK) tok = NULL;
    g_free(dir);
  }
  return tok;
}

// The prompt's length in tokens as the default model reads it, and the words past its 75 greyed out. Other
// models have tokenizers of their own: for them the count is hidden, and a cut prompt is noted with the result.
static void update_token_count(DgPromptPanel *self) {
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(self->prompt_buffer, &start, &end);
  gtk_text_buffer_remove_tag(self->prompt_buffer, self->left_out_tag, &start, &end);
  DgDocument *doc = DOC(self);
  char *model = NULL;
  if (doc) g_object_get(doc, "model", &model, NULL);
  const dg_tokenizer *tok = doc && dg_model_choice_is_default(model) ? default_tokenizer() : NULL;
  g_free(model);
  char *text = gtk_text_buffer_get_text(self->prompt_buffer, &start, &end, FALSE);
  int pieces;
  int32_t cut;
  bool shown = tok && dg_tokenizer_cut(tok, text, DG_TOKENS_MAX, &pieces, &cut) == DG_OK;
  gtk_widget_set_visible(self->prompt_tokens, shown);
  if (shown) {
    char *label = g_strdup_printf(cut < 0 ? "%d / %d tokens" : "%d / %d tokens: the greyed words are left out", pieces,
                                  DG_TOKENS_MAX - 2);
    gtk_label_set_text(GTK_LABEL(self->prompt_tokens), label);
    g_free(label);
    if (cut >= 0) {
      gtk_text_buffer_get_iter_at_offset(self->prompt_buffer, &start, (int)g_utf8_pointer_to_offset(text, text + cut));
      gtk_text_buffer_apply_tag(self->prompt_buffer, self->left_out_tag, &start, &end);
    }
  }
  g_free(text);
}
static void prompt_text_changed(GtkTextBuffer *b, DgPromptPanel *self) {
  (void)b;
  update_token_count(self);
}
static void model_changed(DgDocument *doc, GParamSpec *ps, DgPromptPanel *self) {
  (void)doc, (void)ps;
  update_token_count(self);
}
const char *dg_prompt_panel_get_token_count(DgPromptPanel *self) {
  return gtk_widget_get_visible(self->prompt_tokens) ? gtk_label_get_text(GTK_LABEL(self->prompt_tokens)) : "";
}

static void dg_prompt_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgPromptPanel *self = DG_PROMPT_PANEL(view);
  dg_document_view_set_document(DG_DOCUMENT_VIEW(self->model_row), doc);
  self->pending_attr[0] = 0, self->binding[0] = 0;
  if (!doc) return;
  dg_document_view_connect(view, "notify::marks", G_CALLBACK(marks_changed));
  marks_changed(doc, NULL, self);
  dg_document_view_connect(view, "notify::model", G_CALLBACK(model_changed));
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
  // The layout strength: each change of the spin is an undo step; undo moves the spin back.
  dg_document_view_bind(view, doc, "control-scale", self->control_scale_spin_adjustment, "value", both, NULL, NULL,
                        NULL);
  dg_document_view_bind(view, doc, "attn-guidance", self->attn_drop, "selected", both, attn_to_row, row_to_attn, NULL);
  update_token_count(self);
}

void dg_prompt_panel_show_runner(DgPromptPanel *self, DgJobRunner *runner) {
  g_object_bind_property(runner, "progress-text", self->progress, "text", G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "progress-fraction", self->progress, "fraction", G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "preview", self->preview, "paintable", G_BINDING_SYNC_CREATE);
  g_object_bind_property(runner, "heatmap", self->heatmap, "paintable", G_BINDING_SYNC_CREATE);
  self->runner = runner;
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgPromptPanel, prompt_view),   DG_TEMPLATE_CHILD(DgPromptPanel, negative_view),
    DG_TEMPLATE_CHILD(DgPromptPanel, prompt_buffer), DG_TEMPLATE_CHILD(DgPromptPanel, negative_buffer),
    DG_TEMPLATE_CHILD(DgPromptPanel, seed_entry),    DG_TEMPLATE_CHILD(DgPromptPanel, seed_random),
    DG_TEMPLATE_CHILD(DgPromptPanel, steps_spin),    DG_TEMPLATE_CHILD(DgPromptPanel, steps_spin_adjustment),
    DG_TEMPLATE_CHILD(DgPromptPanel, guidance_spin), DG_TEMPLATE_CHILD(DgPromptPanel, guidance_spin_adjustment),
    DG_TEMPLATE_CHILD(DgPromptPanel, control_scale_spin),
    DG_TEMPLATE_CHILD(DgPromptPanel, control_scale_spin_adjustment),
    DG_TEMPLATE_CHILD(DgPromptPanel, model_row),     DG_TEMPLATE_CHILD(DgPromptPanel, progress),
    DG_TEMPLATE_CHILD(DgPromptPanel, preview),       DG_TEMPLATE_CHILD(DgPromptPanel, marks_entry),
    DG_TEMPLATE_CHILD(DgPromptPanel, mark_word),     DG_TEMPLATE_CHILD(DgPromptPanel, marks_chips),
    DG_TEMPLATE_CHILD(DgPromptPanel, heatmap),       DG_TEMPLATE_CHILD(DgPromptPanel, attn_drop),
    DG_TEMPLATE_CHILD(DgPromptPanel, prompt_tokens)};

static void dg_prompt_panel_class_init(DgPromptPanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_prompt_panel_document_changed;
  g_type_ensure(DG_TYPE_MODEL_ROW);
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_prompt_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, seed_activate);
  gtk_widget_class_bind_template_callback(wc, seed_dice);
  gtk_widget_class_bind_template_callback(wc, seed_copy);
  gtk_widget_class_bind_template_callback(wc, marks_activate);
  gtk_widget_class_bind_template_callback(wc, mark_word_clicked);
}

static void dg_prompt_panel_init(DgPromptPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  GtkEventController *focus = gtk_event_controller_focus_new();
  g_signal_connect(focus, "leave", G_CALLBACK(seed_focus_leave), self);
  gtk_widget_add_controller(self->seed_entry, focus);
  GtkGesture *click = gtk_gesture_click_new();
  gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(click), GTK_PHASE_CAPTURE);
  g_signal_connect(click, "pressed", G_CALLBACK(prompt_pressed), self);
  gtk_widget_add_controller(self->prompt_view, GTK_EVENT_CONTROLLER(click));
  self->left_out_tag = gtk_text_buffer_create_tag(self->prompt_buffer, "left-out", "foreground", "#888888",
                                                  "strikethrough", TRUE, NULL);
  g_signal_connect(self->prompt_buffer, "changed", G_CALLBACK(prompt_text_changed), self);
  gtk_widget_set_visible(self->prompt_tokens, FALSE);
}
