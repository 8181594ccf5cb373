// The editor window: one document, the canvas, the palette and parameter panels, generation.
// Every user action is an application GAction (dg_actions.c) acting on the editor.
#pragma once
#include <gtk/gtk.h>

#include "dg_document.h"
#include "dg_job.h"
#include "dg_palette.h"

typedef enum dg_tool {
  DG_TOOL_BRUSH,
  DG_TOOL_ERASER,
  DG_TOOL_FILL,
  DG_TOOL_RECT,
  DG_TOOL_POLYGON,
  DG_TOOL_EYEDROPPER,
  DG_TOOL_COUNT,
} dg_tool;

typedef struct dg_editor {
  GtkApplication *app;
  GtkWindow *window;
  dg_document *doc;
  dg_palette *palette;
  char *path;                // the project file, NULL until saved or opened
  uint64_t saved_generation; // dg_document_generation at the last save/open
  uint64_t autosaved_generation;
  guint autosave_source;
  bool close_confirmed;  // the user chose to close (saved or discarded)
  bool close_after_save; // close once the Save dialog of the close confirmation has saved

  dg_tool tool;
  int cls;
  double brush_radius;
  double overlay_opacity;

  // Canvas view: screen = origin + layout * zoom; `fit` recomputes zoom and origin on resize.
  GtkWidget *canvas;
  cairo_surface_t *layout_surface, *result_surface;
  double zoom, origin_x, origin_y;
  bool fit;
  double pointer_x, pointer_y; // in widget coordinates, for the brush outline
  bool pointer_in;
  bool dragging, panning;
  double drag_x, drag_y; // layout coordinates of the drag start
  double last_x, last_y; // last layout point of a stroke
  double pan_ox, pan_oy; // origin at the start of a pan
  GArray *polygon;       // layout coordinates (x, y) of the polygon being drawn

  // Widgets kept for updates.
  GtkWidget *palette_list, *search, *areas_list, *areas_total;
  GtkWidget *prompt_view, *negative_view, *seed_entry, *seed_random, *steps_spin, *guidance_spin;
  GtkWidget *model_button, *model_kind;
  GtkWidget *generate_button, *cancel_button, *progress, *preview, *history_box, *history_empty, *status;
  GtkWidget *tool_buttons[DG_TOOL_COUNT], *brush_label, *opacity_scale, *title;
  char *model_checked; // the model choice the model row last checked and shows
  bool model_ok;       // whether that check passed
  bool syncing;             // true while widgets are being set from the document
  gint64 last_text_edit_us; // typing within a second coalesces into one undo step
  guint areas_idle;

  dg_job *job;
  unsigned doc_serial, job_serial; // which document a job started from (its result goes nowhere else)
  guint tick_id;
  GPtrArray *dialog_log; // messages of error and info dialogs shown (for dump-state and tests)
} dg_editor;

dg_editor *dg_editor_new(GtkApplication *app);
void dg_editor_free(dg_editor *ed);
bool dg_editor_modified(const dg_editor *ed);
// Replaces the document (takes ownership), e.g. after open; the old one is freed.
void dg_editor_set_document(dg_editor *ed, dg_document *doc, const char *path);
// Shows a modal message dialog and records it in dialog_log.
void dg_editor_message(dg_editor *ed, GtkMessageType type, const char *title, const char *detail);
void dg_editor_set_status(dg_editor *ed, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void dg_editor_select_class(dg_editor *ed, int cls);
void dg_editor_set_tool(dg_editor *ed, dg_tool tool);
void dg_editor_set_brush_radius(dg_editor *ed, double radius);
void dg_editor_set_opacity(dg_editor *ed, double opacity);
void dg_editor_update_title(dg_editor *ed);
void dg_editor_sync_params(dg_editor *ed);
void dg_editor_rebuild_history(dg_editor *ed);
const char *dg_tool_name(dg_tool tool);
int dg_tool_from_name(const char *name); // -1 if unknown

// Canvas (dg_canvas.c).
GtkWidget *dg_canvas_new(dg_editor *ed);
void dg_canvas_layout_changed(dg_editor *ed, int x, int y, int w, int h);
void dg_canvas_result_changed(dg_editor *ed);
void dg_canvas_zoom(dg_editor *ed, double factor, double cx, double cy);
void dg_canvas_fit(dg_editor *ed);

// Generation (dg_generate.c).
void dg_editor_generate(dg_editor *ed);
void dg_editor_cancel(dg_editor *ed);
// Enables Cancel and disables Generate while a job runs.
void dg_editor_set_running(dg_editor *ed, bool running);

// Files (dg_files.c).
bool dg_editor_open_path(dg_editor *ed, const char *path);
bool dg_editor_save_path(dg_editor *ed, const char *path);
bool dg_editor_import_layout(dg_editor *ed, const char *path);
bool dg_editor_export_png(dg_editor *ed, const char *path);
void dg_editor_open_dialog(dg_editor *ed);
void dg_editor_save_dialog(dg_editor *ed);
void dg_editor_import_dialog(dg_editor *ed);
void dg_editor_export_dialog(dg_editor *ed);
// A native file chooser calling fn with the chosen path; pattern NULL: no filter.
void dg_editor_choose_file(dg_editor *ed, const char *title, GtkFileChooserAction action, const char *pattern,
                           const char *filter_name, bool (*fn)(dg_editor *, const char *));
char *dg_editor_autosave_path(void);
void dg_editor_autosave_schedule(dg_editor *ed);
void dg_editor_autosave_remove(void);
void dg_editor_offer_recovery(dg_editor *ed);
bool dg_editor_recover(dg_editor *ed);
bool dg_editor_screenshot(dg_editor *ed, const char *path);

// The model row (dg_model.c).
GtkWidget *dg_model_picker_new(dg_editor *ed);
void dg_model_picker_sync(dg_editor *ed);
// Sets the document's model choice ("default" or a folder or file, made absolute) after checking that
// it can be loaded; otherwise an error dialog naming the file, and the document is unchanged.
bool dg_editor_set_model(dg_editor *ed, const char *choice);
void dg_editor_choose_model_dialog(dg_editor *ed, bool folder);

// Random layouts (dg_actions.c): the label map of the world scene for `seed` at the document's size,
// as one undo step.
bool dg_editor_random_layout(dg_editor *ed, uint64_t seed);

// Actions (dg_actions.c).
void dg_actions_install(dg_editor *ed);
