// Generation from the editor: starts a dg_job with the pipeline the application has (none yet:
// "no model loaded"), polls its mailbox on the frame clock for progress and previews, and puts the
// final image into the document's results. Cancel raises the job's flag and leaves the document as
// it was.
#include "dg_assets.h"
#include "dg_editor.h"
#include "dg_model_choice.h"
#include "dg_runner.h"

void dg_editor_set_running(dg_editor *ed, bool running) {
  GActionMap *map = G_ACTION_MAP(ed->app);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "generate")), !running);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "cancel")), running);
}

static void show_preview(dg_editor *ed, const dg_job_update *u) {
  if (!u->preview) return;
  GBytes *bytes = g_bytes_new(u->preview, (gsize)u->preview_width * u->preview_height * 4);
  GdkTexture *tex = gdk_memory_texture_new(u->preview_width, u->preview_height, GDK_MEMORY_R8G8B8A8, bytes,
                                           (gsize)u->preview_width * 4);
  g_bytes_unref(bytes);
  gtk_picture_set_paintable(GTK_PICTURE(ed->preview), GDK_PAINTABLE(tex));
  g_object_unref(tex);
}

static gboolean tick(GtkWidget *w, GdkFrameClock *clock, gpointer data) {
  (void)w, (void)clock;
  dg_editor *ed = data;
  dg_job_update u;
  if (dg_job_poll(ed->job, &u)) {
    double frac = u.total > 0 ? (double)u.step / u.total : 0;
    double left = u.step > 0 ? u.elapsed_s / u.step * (u.total - u.step) : 0;
    char *text = g_strdup_printf("Step %d / %d · %.0f s left", u.step, u.total, left);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ed->progress), frac);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), text);
    g_free(text);
    show_preview(ed, &u);
    dg_job_update_clear(&u);
  }
  dg_job_state state = dg_job_state_get(ed->job);
  if (state == DG_JOB_RUNNING) return G_SOURCE_CONTINUE;
  dg_job_wait(ed->job);
  dg_result r;
  if (state == DG_JOB_DONE && ed->doc_serial != ed->job_serial) {
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Discarded (another document was opened)");
  } else if (state == DG_JOB_DONE && dg_job_take_result(ed->job, &r)) {
    dg_document_add_result(ed->doc, &r);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ed->progress), 1);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Done");
    dg_editor_set_status(ed, "Generated result %d", dg_document_result_count(ed->doc));
  } else if (state == DG_JOB_CANCELLED) {
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ed->progress), 0);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Cancelled");
    gtk_picture_set_paintable(GTK_PICTURE(ed->preview), NULL);
  } else {
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Failed");
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Generation failed", dg_job_error(ed->job));
  }
  dg_job_free(ed->job);
  ed->job = NULL;
  ed->tick_id = 0;
  dg_editor_set_running(ed, false);
  return G_SOURCE_REMOVE;
}

// Why the runner cannot run the document's model choice before it starts: no default model, or a
// chosen path that is gone. NULL when it can try (other job functions bring their own).
static char *no_model_reason(dg_editor *ed, dg_job_fn fn) {
  if (fn != dg_runner_run) return NULL;
  char *path = dg_model_choice_path(dg_document_model(ed->doc)), *why = NULL;
  if (!path) {
    char *assets = dg_assets_path("models");
    why = g_strdup_printf("There is no default model: %s holds none yet (tools/train/train_defaults.sh trains it) "
                          "and DIRIGENT_MODEL is not set. Choose a model folder or checkpoint file under Model.",
                          assets);
    g_free(assets);
  } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    why = g_strdup_printf("%s does not exist. Choose a model folder or checkpoint file under Model.", path);
  }
  g_free(path);
  return why;
}

void dg_editor_generate(dg_editor *ed) {
  if (ed->job) return;
  void *user = NULL;
  dg_job_fn fn = dg_job_default_fn(&user);
  char *why = fn ? no_model_reason(ed, fn) : g_strdup("This build of Dirigent has no generation pipeline.");
  if (why) {
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "No model loaded");
    dg_editor_message(ed, GTK_MESSAGE_INFO, "No model loaded", why);
    g_free(why);
    return;
  }
  // The canvas size against the model's rule (and the model's files), before anything is loaded.
  char *path = fn == dg_runner_run ? dg_model_choice_path(dg_document_model(ed->doc)) : NULL;
  dg_status st = path ? dg_model_choice_check_size(path, dg_document_width(ed->doc), dg_document_height(ed->doc))
                      : DG_OK;
  g_free(path);
  if (st != DG_OK) {
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Not started");
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Cannot generate with these settings", dg_last_error());
    return;
  }
  uint64_t random_seed = ((uint64_t)g_random_int() << 32 | g_random_int()) >> 11;
  ed->job = dg_job_start(ed->doc, fn, user, random_seed, &st);
  if (!ed->job) {
    dg_editor_message(ed, GTK_MESSAGE_ERROR, "Could not start generation", dg_last_error());
    return;
  }
  ed->job_serial = ed->doc_serial;
  dg_editor_set_running(ed, true);
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(ed->progress), 0);
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Starting…");
  ed->tick_id = gtk_widget_add_tick_callback(ed->canvas, tick, ed, NULL);
}

void dg_editor_cancel(dg_editor *ed) {
  if (!ed->job) return;
  dg_job_cancel(ed->job);
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(ed->progress), "Cancelling…");
}
