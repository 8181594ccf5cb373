// The model row: the document's model choice by name with its detected kind, a menu to choose a model
// folder, a checkpoint file or the default, and the check that refuses a model that cannot be loaded
// (an error dialog naming the file; the document stays as it was).
#include <string.h>

#include "dg_editor.h"
#include "dg_model_choice.h"

// Checks the choice (the default's path for "default") and shows its name and kind. Checking reads
// file headers, so it runs only when the choice changed.
void dg_model_picker_sync(dg_editor *ed) {
  const char *choice = dg_document_model(ed->doc);
  if (ed->model_checked && !strcmp(ed->model_checked, choice)) return;
  g_free(ed->model_checked);
  ed->model_checked = g_strdup(choice);
  char *name = dg_model_choice_name(choice), *path = dg_model_choice_path(choice);
  char kind[512] = "", *text;
  if (!path)
    text = g_strdup("No default model yet: choose a model folder or checkpoint file");
  else if (dg_model_choice_check(path, kind, sizeof kind) != DG_OK)
    text = g_strdup_printf("Cannot be loaded: %s", dg_last_error());
  else
    text = g_strdup(kind);
  ed->model_ok = path && *kind;
  gtk_menu_button_set_label(GTK_MENU_BUTTON(ed->model_button), name);
  gtk_widget_set_tooltip_text(ed->model_button, path ? path : "No default model installed");
  gtk_label_set_text(GTK_LABEL(ed->model_kind), text);
  if (ed->model_ok) {
    gtk_widget_remove_css_class(ed->model_kind, "error");
    gtk_widget_add_css_class(ed->model_kind, "dim-label");
  } else {
    gtk_widget_remove_css_class(ed->model_kind, "dim-label");
    gtk_widget_add_css_class(ed->model_kind, "error");
  }
  g_free(text);
  g_free(path);
  g_free(name);
}

bool dg_editor_set_model(dg_editor *ed, const char *choice) {
  if (dg_model_choice_is_default(choice))
    return dg_document_set_text(ed->doc, DG_FIELD_MODEL, DG_MODEL_DEFAULT, false) == DG_OK;
  // Projects remember the absolute path.
  char *path = g_canonicalize_filename(choice, NULL);
  char kind[512];
  bool ok = dg_model_choice_check(path, kind, sizeof kind) == DG_OK;
  if (!ok) {
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Could not load the model", dg_last_error());
  } else if (dg_document_set_text(ed->doc, DG_FIELD_MODEL, path, false) != DG_OK) {
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Could not use the model", dg_last_error());
    ok = false;
  } else {
    char *name = dg_model_choice_name(path);
    dg_editor_set_status(ed, "Model %s — %s", name, kind);
    g_free(name);
  }
  g_free(path);
  return ok;
}

void dg_editor_choose_model_dialog(dg_editor *ed, bool folder) {
  if (folder)
    dg_editor_choose_file(ed, "Choose a model folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL, NULL,
                          dg_editor_set_model);
  else
    dg_editor_choose_file(ed, "Choose a checkpoint file", GTK_FILE_CHOOSER_ACTION_OPEN, "*.safetensors",
                          "Checkpoints (.safetensors)", dg_editor_set_model);
}

GtkWidget *dg_model_picker_new(dg_editor *ed) {
  GMenu *menu = g_menu_new();
  g_menu_append(menu, "Default model", "app.set-model('default')");
  g_menu_append(menu, "Model folder…", "app.choose-model('folder')");
  g_menu_append(menu, "Checkpoint file…", "app.choose-model('file')");
  ed->model_button = gtk_menu_button_new();
  gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(ed->model_button), G_MENU_MODEL(menu));
  gtk_widget_set_hexpand(ed->model_button, TRUE);
  g_object_unref(menu);
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *label = gtk_label_new("Model");
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_set_size_request(label, 70, -1);
  gtk_box_append(GTK_BOX(row), label);
  gtk_box_append(GTK_BOX(row), ed->model_button);

  ed->model_kind = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(ed->model_kind), 0);
  gtk_label_set_wrap(GTK_LABEL(ed->model_kind), TRUE);
  gtk_label_set_wrap_mode(GTK_LABEL(ed->model_kind), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars(GTK_LABEL(ed->model_kind), 40);
  gtk_widget_set_margin_start(ed->model_kind, 78);
  gtk_widget_add_css_class(ed->model_kind, "caption");
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append(GTK_BOX(box), row);
  gtk_box_append(GTK_BOX(box), ed->model_kind);
  return box;
}
