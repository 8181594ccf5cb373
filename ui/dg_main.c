// dirigent: the editor. A GtkApplication (org.dirigent.Dirigent, single instance) with one editor
// window; `dirigent FILE.dirigent` opens a project.
#include <gmodule.h>

#include "dg_assets.h"
#include "dg_editor.h"
#include "dg_runner.h"

static dg_editor *editor;

static void activate(GApplication *app, gpointer data) {
  (void)data;
  if (editor) {
    gtk_window_present(editor->window);
    return;
  }
  editor = dg_editor_new(GTK_APPLICATION(app));
  if (!editor) {
    g_printerr("dirigent: %s\n", dg_last_error());
    g_application_quit(app);
    return;
  }
  gtk_window_present(editor->window);
  gtk_widget_grab_focus(editor->canvas); // keys like [ and ] work at once, not typed into search
  dg_editor_offer_recovery(editor);
}

static void open_files(GApplication *app, GFile **files, int n, const char *hint, gpointer data) {
  (void)hint;
  activate(app, data);
  if (!editor || n < 1) return;
  char *path = g_file_get_path(files[0]);
  if (path) dg_editor_open_path(editor, path);
  g_free(path);
}

// Test hook: the UI tests can load a stand-in pipeline (tests/ui/test_pipeline_module.c) from
// DIRIGENT_TEST_PIPELINE, to drive progress and cancel timing without a model.
static void load_test_pipeline(void) {
  const char *path = g_getenv("DIRIGENT_TEST_PIPELINE");
  if (!path || !*path) return;
  GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
  gpointer fn = NULL;
  if (!module || !g_module_symbol(module, "dg_test_pipeline", &fn)) {
    g_printerr("dirigent: DIRIGENT_TEST_PIPELINE=%s: %s\n", path, g_module_error());
    return;
  }
  g_module_make_resident(module);
  dg_job_set_default_fn((dg_job_fn)fn, NULL);
}

// The runner: it generates with the document's model choice (dg_model_choice.h), the embedded
// tokenizer as the fallback and the world palette.
static dg_runner *load_runner(void) {
  char *tok = dg_assets_path("tokenizer"), *pal = dg_assets_path("palettes/world.json");
  dg_runner *runner = dg_runner_new(tok, pal);
  if (runner) dg_job_set_default_fn(dg_runner_run, runner);
  g_free(tok);
  g_free(pal);
  return runner;
}

int main(int argc, char **argv) {
  dg_runner *runner = load_runner();
  load_test_pipeline();
  GtkApplication *app = gtk_application_new("org.dirigent.Dirigent", G_APPLICATION_HANDLES_OPEN);
  g_signal_connect(app, "activate", G_CALLBACK(activate), NULL);
  g_signal_connect(app, "open", G_CALLBACK(open_files), NULL);
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  dg_editor_free(editor);
  g_object_unref(app);
  dg_runner_free(runner);
  return status;
}
