// dirigent: the editor. A GtkApplication (org.dirigent.Dirigent, single instance) with one editor
// window; `dirigent FILE.dirigent` opens a project.
#include "dg_actions.h"
#include "dg_files.h"
#include "dg_project_async.h"

static DgWindow *window;

static void activate(GApplication *app, gpointer data) {
  (void)data;
  if (window) {
    gtk_window_present(GTK_WINDOW(window));
    return;
  }
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, "/org/dirigent/Dirigent/style.css");
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
  GError *err = NULL;
  window = dg_window_new(GTK_APPLICATION(app), &err);
  if (!window) {
    g_printerr("dirigent: %s\n", err->message);
    g_error_free(err);
    g_application_quit(app);
    return;
  }
  g_object_add_weak_pointer(G_OBJECT(window), (gpointer *)&window);
  dg_actions_install(GTK_APPLICATION(app), window);
  gtk_window_present(GTK_WINDOW(window));
  // Keys like [ and ] work at once, not typed into the search.
  gtk_widget_grab_focus(GTK_WIDGET(dg_window_get_canvas(window)));
  dg_files_offer_recovery(window);
}

static void open_files(GApplication *app, GFile **files, int n, const char *hint, gpointer data) {
  (void)hint;
  activate(app, data);
  if (!window || n < 1) return;
  char *path = g_file_get_path(files[0]);
  if (path) dg_files_open(window, path);
  g_free(path);
}

int main(int argc, char **argv) {
  dg_job_runner_load_runner();
  GtkApplication *app = gtk_application_new("org.dirigent.Dirigent", G_APPLICATION_HANDLES_OPEN);
  g_signal_connect(app, "activate", G_CALLBACK(activate), NULL);
  g_signal_connect(app, "open", G_CALLBACK(open_files), NULL);
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  dg_project_wait_saves(); // a save still being written is finished before the process ends
  g_object_unref(app);
  dg_job_runner_unload_runner();
  return status;
}
