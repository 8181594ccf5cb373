#include "dg_files.h"

#include <glib/gstdio.h>
#include <string.h>

#include "dg_file.h"
#include "dg_generation_png.h"
#include "dg_image.h"
#include "dg_layout_read.h"
#include "dg_png.h"
#include "dg_project.h"

// Restores prompt, negative prompt, seed, steps, guidance, layout strength (1 when the PNG has none), marks
// and their attention guidance from a PNG that Dirigent (or an A1111-compatible tool) wrote; each change is
// an undo step. The layout is left as it is.
static bool restore_settings(DgWindow *win, const char *path) {
  dg_generation_info g;
  if (dg_generation_png_read(path, &g) != DG_OK) {
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not read settings from the PNG", dg_last_error());
    return false;
  }
  dg_document *m = dg_window_get_model(win);
  dg_document_set_text(m, DG_FIELD_PROMPT, g.prompt, false);
  dg_document_set_text(m, DG_FIELD_NEGATIVE, g.negative, false);
  dg_document_set_seed_random(m, false);
  dg_document_set_seed(m, g.seed);
  dg_document_set_steps(m, g.steps);
  dg_document_set_guidance(m, g.cfg);
  dg_document_set_control_scale(m, g.control_scale);
  dg_document_set_text(m, DG_FIELD_MARKS, g.marks, false);
  dg_document_set_text(m, DG_FIELD_ATTN_GUIDANCE, dg_guidance_name(g.guidance), false);
  dg_window_set_status(win, "Settings restored from %s", path);
  dg_generation_info_clear(&g);
  return true;
}

// Shows the model m (taken) as the window's document, saved at path (NULL: unsaved).
static void show_model(DgWindow *win, dg_document *m, const char *path) {
  DgDocument *doc = dg_document_object_new(m);
  dg_window_set_document(win, doc, path);
  g_object_unref(doc);
}

// Opens the project at `path` (the autosave when NULL); on failure an error dialog titled `failure`
// and the current document stays as it was.
static bool load(DgWindow *win, const char *path, const char *failure) {
  char *file = path ? g_strdup(path) : dg_files_autosave_path();
  dg_status st;
  dg_document *m = dg_project_load(file, &st);
  g_free(file);
  if (!m) {
    dg_window_message(win, GTK_MESSAGE_ERROR, failure, dg_last_error());
    return false;
  }
  show_model(win, m, path);
  return true;
}

bool dg_files_open(DgWindow *win, const char *path) {
  if (g_str_has_suffix(path, ".png") || g_str_has_suffix(path, ".PNG")) return restore_settings(win, path);
  if (!load(win, path, "Could not open the project")) return false;
  dg_window_set_status(win, "Opened %s", path);
  return true;
}

bool dg_files_save(DgWindow *win, const char *path) {
  dg_window_save(win, path);
  return true;
}

// Imports a layout image, read by colour as painting programs write layouts (dg_layout_read: exact class
// colours, or near them, blends along edges from their neighbours; another shipped palette converted by
// class name). Indexed PNGs are read by their PLTE colours, as viewers show them; JPEGs too (dg_image). The
// file is read once, and its size checked from the header against the document's limit before a pixel is
// decoded.
bool dg_files_import_layout(DgWindow *win, const char *path) {
  char *data = NULL;
  size_t len = 0;
  int w = 0, h = 0;
  uint8_t *rgba = NULL, *ids = NULL;
  dg_layout_read_report rep;
  dg_png_limits lim = {.max_side = DG_DOC_MAX_SIDE};
  dg_status s = dg_file_read(path, (size_t)1 << 30, &data, &len);
  if (s == DG_OK) s = dg_image_read_mem(data, len, path, 4, &lim, &w, &h, &rgba);
  if (s == DG_OK) s = dg_layout_from_rgba(path, dg_window_get_palette(win), rgba, w, h, &ids, &rep);
  free(data);
  free(rgba);
  if (s != DG_OK) {
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not import the label image", dg_last_error());
    return false;
  }
  dg_document *m = dg_window_get_model(win);
  if (w != dg_document_width(m) || h != dg_document_height(m)) {
    // A different size starts a new document with the current prompts.
    dg_document *fresh = dg_document_new(h, w);
    dg_document_set_text(fresh, DG_FIELD_PROMPT, dg_document_prompt(m), false);
    dg_document_set_text(fresh, DG_FIELD_NEGATIVE, dg_document_negative(m), false);
    dg_document_set_layout(fresh, ids, h, w);
    show_model(win, fresh, NULL);
  } else {
    dg_document_set_layout(m, ids, h, w);
  }
  free(ids);
  char how[1600];
  dg_layout_read_summary(&rep, dg_window_get_palette(win), how, sizeof how);
  dg_window_set_status(win, "Imported %s (%dx%d)%s%s", path, w, h, how[0] ? ": " : "", how);
  return true;
}

bool dg_files_export_png(DgWindow *win, const char *path) {
  dg_document *m = dg_window_get_model(win);
  const dg_result *r = dg_document_result(m, dg_document_current_result(m));
  if (!r) {
    dg_window_message(win, GTK_MESSAGE_INFO, "Nothing to export",
                      "Generate an image first; export saves the current result.");
    return false;
  }
  // The same writer as the CLI: A1111 `parameters` chunk and the `dirigent` JSON job chunk.
  dg_generation_info info = {.prompt = r->prompt,
                             .negative = r->negative,
                             .sampler = "DDIM",
                             .model = r->model,
                             .layout = "editor",
                             .steps = r->steps,
                             .width = r->width,
                             .height = r->height,
                             .cfg = r->guidance,
                             .control_scale = r->control_scale,
                             .seed = r->seed,
                             .marks = r->marks};
  dg_guidance_parse(r->attn_guidance, &info.guidance); // the document holds only valid names (NULL: none)
  bool ok = dg_generation_png_write(path, r->rgba, 4, &info) == DG_OK;
  if (!ok)
    dg_window_message(win, GTK_MESSAGE_ERROR, "Could not export the PNG", dg_last_error());
  else
    dg_window_set_status(win, "Exported %s", path);
  return ok;
}

// ---- file choosers -------------------------------------------------------------------------------

typedef bool (*path_fn)(DgWindow *, const char *);

static void chooser_response(GtkNativeDialog *d, int response, gpointer data) {
  DgWindow *win = data;
  path_fn fn = (path_fn)g_object_get_data(G_OBJECT(d), "fn");
  if (response != GTK_RESPONSE_ACCEPT) dg_window_forget_close(win);
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = g_file_get_path(f);
    if (path) fn(win, path);
    g_free(path);
    g_object_unref(f);
  }
  g_object_unref(d);
}

void dg_files_choose(DgWindow *win, const char *title, GtkFileChooserAction action, const char *pattern,
                     const char *filter_name, path_fn fn) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new(title, GTK_WINDOW(win), action, NULL, NULL);
  if (pattern) {
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, filter_name);
    char **patterns = g_strsplit(pattern, ";", -1);
    for (char **p = patterns; *p; p++)
      gtk_file_filter_add_pattern(filter, *p);
    g_strfreev(patterns);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), filter);
    g_object_unref(filter);
  }
  if (action == GTK_FILE_CHOOSER_ACTION_SAVE)
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d),
                                      fn == dg_files_export_png ? "result.png" : "untitled.dirigent");
  g_object_set_data(G_OBJECT(d), "fn", (gpointer)fn);
  g_signal_connect(d, "response", G_CALLBACK(chooser_response), win);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

void dg_files_open_dialog(DgWindow *win) {
  dg_files_choose(win, "Open project", GTK_FILE_CHOOSER_ACTION_OPEN, "*.dirigent", "Dirigent projects", dg_files_open);
}
void dg_files_save_dialog(DgWindow *win) {
  dg_files_choose(win, "Save project", GTK_FILE_CHOOSER_ACTION_SAVE, "*.dirigent", "Dirigent projects", dg_files_save);
}
void dg_files_import_dialog(DgWindow *win) {
  dg_files_choose(win, "Import a layout (PNG or JPEG)", GTK_FILE_CHOOSER_ACTION_OPEN, "*.png;*.jpg;*.jpeg",
                  "PNG and JPEG images", dg_files_import_layout);
}
void dg_files_export_dialog(DgWindow *win) {
  dg_files_choose(win, "Export result", GTK_FILE_CHOOSER_ACTION_SAVE, "*.png", "PNG images", dg_files_export_png);
}

// ---- crash recovery ------------------------------------------------------------------------------

char *dg_files_autosave_path(void) {
  return g_build_filename(g_get_user_state_dir(), "dirigent", "autosave.dirigent", NULL);
}

void dg_files_autosave_remove(void) {
  char *path = dg_files_autosave_path();
  g_unlink(path);
  g_free(path);
}

bool dg_files_recover(DgWindow *win) {
  if (!load(win, NULL, "Could not recover the autosaved work")) return false;
  dg_window_mark_unsaved(win); // recovered work is unsaved
  dg_window_set_status(win, "Recovered the autosaved work; save it to keep it");
  return true;
}

static void recovery_response(GtkDialog *d, int response, gpointer data) {
  DgWindow *win = data;
  gtk_window_destroy(GTK_WINDOW(d));
  if (response == GTK_RESPONSE_ACCEPT)
    dg_files_recover(win);
  else if (response == GTK_RESPONSE_REJECT)
    dg_files_autosave_remove();
}

void dg_files_offer_recovery(DgWindow *win) {
  char *path = dg_files_autosave_path();
  GStatBuf sb;
  if (g_stat(path, &sb) == 0) {
    GDateTime *t = g_date_time_new_from_unix_local(sb.st_mtime);
    char *when = g_date_time_format(t, "%Y-%m-%d %H:%M");
    char *detail =
        g_strdup_printf("Dirigent did not exit cleanly. Unsaved work from %s was autosaved to %s.", when, path);
    char *logged = g_strdup_printf("Recover unsaved work?: %s", detail);
    dg_window_log_dialog(win, logged);
    GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(win), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                          GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "Recover unsaved work?");
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", detail);
    gtk_dialog_add_buttons(GTK_DIALOG(d), "_Discard", GTK_RESPONSE_REJECT, "_Recover", GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
    g_signal_connect(d, "response", G_CALLBACK(recovery_response), win);
    gtk_window_present(GTK_WINDOW(d));
    g_free(logged), g_free(detail), g_free(when);
    g_date_time_unref(t);
  }
  g_free(path);
}

// ---- screenshot ----------------------------------------------------------------------------------

bool dg_files_screenshot(DgWindow *win, const char *path) {
  GtkWidget *w = GTK_WIDGET(win);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(w));
  if (width <= 0 || height <= 0 || !renderer) return false;
  GdkPaintable *paintable = gtk_widget_paintable_new(w);
  GtkSnapshot *snap = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snap, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(snap);
  bool ok = false;
  if (node) {
    GdkTexture *tex = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
    ok = tex && gdk_texture_save_to_png(tex, path);
    if (tex) g_object_unref(tex);
    gsk_render_node_unref(node);
  }
  g_object_unref(paintable);
  return ok;
}
