#include "dg_model_row.h"

#include <string.h>

#include "dg_model_choice.h"

struct _DgModelRow {
  DgDocumentView parent;
  char *choice; // the choice last checked and shown
  GtkWidget *model_button, *model_kind;
};

G_DEFINE_FINAL_TYPE(DgModelRow, dg_model_row, DG_TYPE_DOCUMENT_VIEW)

// Checks the document's choice (the default's path for "default") and shows its name and kind.
static void model_changed(DgDocument *doc, GParamSpec *pspec, DgModelRow *self) {
  (void)pspec;
  const char *choice = dg_document_model(dg_document_object_get_model(doc));
  if (self->choice && !strcmp(self->choice, choice)) return;
  g_free(self->choice);
  self->choice = g_strdup(choice);
  char *name = dg_model_choice_name(choice), *path = dg_model_choice_path(choice);
  char kind[512] = "", *text;
  if (!path)
    text = g_strdup("No default model yet: choose a model folder or checkpoint file");
  else if (dg_model_choice_check(path, kind, sizeof kind) != DG_OK)
    text = g_strdup_printf("Cannot be loaded: %s", dg_last_error());
  else
    text = g_strdup(kind);
  bool ok = path && *kind;
  gtk_menu_button_set_label(GTK_MENU_BUTTON(self->model_button), name);
  gtk_widget_set_tooltip_text(self->model_button, path ? path : "No default model installed");
  gtk_label_set_text(GTK_LABEL(self->model_kind), text);
  gtk_widget_remove_css_class(self->model_kind, ok ? "error" : "dim-label");
  gtk_widget_add_css_class(self->model_kind, ok ? "dim-label" : "error");
  g_free(text);
  g_free(path);
  g_free(name);
}

static void dg_model_row_document_changed(DgDocumentView *view, DgDocument *doc) {
  if (!doc) return;
  dg_document_view_connect(view, "notify::model", G_CALLBACK(model_changed));
  model_changed(doc, NULL, DG_MODEL_ROW(view));
}

const char *dg_model_row_get_name(DgModelRow *self) {
  return gtk_menu_button_get_label(GTK_MENU_BUTTON(self->model_button));
}
const char *dg_model_row_get_kind(DgModelRow *self) { return gtk_label_get_text(GTK_LABEL(self->model_kind)); }

static void dg_model_row_finalize(GObject *object) {
  g_free(DG_MODEL_ROW(object)->choice);
  G_OBJECT_CLASS(dg_model_row_parent_class)->finalize(object);
}

static const dg_template_child children[] = {DG_TEMPLATE_CHILD(DgModelRow, model_button),
                                             DG_TEMPLATE_CHILD(DgModelRow, model_kind)};

static void dg_model_row_class_init(DgModelRowClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = dg_model_row_finalize;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_model_row_document_changed;
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_model_row.ui", children, G_N_ELEMENTS(children));
}

static void dg_model_row_init(DgModelRow *self) { gtk_widget_init_template(GTK_WIDGET(self)); }
