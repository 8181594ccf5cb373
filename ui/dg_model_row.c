#include "dg_model_row.h"

#include "dg_document_view.h"

#include <string.h>

#include "dg_model_choice.h"

struct _DgModelRow {
  GtkWidget parent;
  char *choice; // the choice last checked and shown
  GtkWidget *model_button, *model_kind;
};

G_DEFINE_FINAL_TYPE(DgModelRow, dg_model_row, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_CHOICE, N_PROPS };
static GParamSpec *props[N_PROPS];

// Checks the choice (the default's path for "default") and shows its name and kind.
static void set_choice(DgModelRow *self, const char *choice) {
  if (!choice || (self->choice && !strcmp(self->choice, choice))) return;
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
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CHOICE]);
}

const char *dg_model_row_get_name(DgModelRow *self) {
  return gtk_menu_button_get_label(GTK_MENU_BUTTON(self->model_button));
}
const char *dg_model_row_get_kind(DgModelRow *self) { return gtk_label_get_text(GTK_LABEL(self->model_kind)); }

static void dg_model_row_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  if (id == PROP_CHOICE)
    g_value_set_string(value, DG_MODEL_ROW(object)->choice);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_model_row_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  if (id == PROP_CHOICE)
    set_choice(DG_MODEL_ROW(object), g_value_get_string(value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_model_row_dispose(GObject *object) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(object))))
    gtk_widget_unparent(child);
  G_OBJECT_CLASS(dg_model_row_parent_class)->dispose(object);
}

static void dg_model_row_finalize(GObject *object) {
  g_free(DG_MODEL_ROW(object)->choice);
  G_OBJECT_CLASS(dg_model_row_parent_class)->finalize(object);
}

static void dg_model_row_class_init(DgModelRowClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = dg_model_row_get_property;
  oc->set_property = dg_model_row_set_property;
  oc->dispose = dg_model_row_dispose;
  oc->finalize = dg_model_row_finalize;
  wc->compute_expand = dg_widget_compute_expand_from_children;
  props[PROP_CHOICE] = g_param_spec_string("choice", NULL, NULL, NULL,
                                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(oc, N_PROPS, props);
  gtk_widget_class_set_template_from_resource(wc, "/org/dirigent/Dirigent/dg_model_row.ui");
  gtk_widget_class_bind_template_child(wc, DgModelRow, model_button);
  gtk_widget_class_bind_template_child(wc, DgModelRow, model_kind);
}

static void dg_model_row_init(DgModelRow *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
}
