// The editor window: palette panel on the left, the canvas with its tools in the centre, the prompt
// and settings panel on the right, the results strip below, a status line (a composite template,
// dg_window.ui). It holds the document being edited ("document", bound to every panel), where it was
// saved or opened, whether it changed since, autosaves it, and runs generations (a DgJobRunner). Every
// user action is an application GAction (dg_actions.c) calling the functions here.
#pragma once
#include <gtk/gtk.h>

#include "dg_canvas.h"
#include "dg_job_runner.h"
#include "dg_palette_panel.h"
#include "dg_prompt_panel.h"
#include "dg_style_panel.h"
#include "dg_timeline_panel.h"
#include "dg_video_exporter.h"

G_BEGIN_DECLS

#define DG_TYPE_WINDOW (dg_window_get_type())
G_DECLARE_FINAL_TYPE(DgWindow, dg_window, DG, WINDOW, GtkApplicationWindow)

// NULL with the message in *error when the palette cannot be loaded.
DgWindow *dg_window_new(GtkApplication *app, GError **error);

DgDocument *dg_window_get_document(DgWindow *self);
dg_document *dg_window_get_model(DgWindow *self); // the document's model, for edits
// Shows doc (takes a reference) as the document saved at `path` (NULL: not saved yet); a running job
// of the document it replaces is abandoned.
void dg_window_set_document(DgWindow *self, DgDocument *doc, const char *path);
const char *dg_window_get_path(DgWindow *self);
// Whether the document changed since it was opened or saved; mark_unsaved makes it so (recovered work).
gboolean dg_window_get_modified(DgWindow *self);
void dg_window_mark_unsaved(DgWindow *self);
DgCanvas *dg_window_get_canvas(DgWindow *self);
DgPalettePanel *dg_window_get_palette_panel(DgWindow *self);
DgJobRunner *dg_window_get_runner(DgWindow *self);
DgPromptPanel *dg_window_get_prompt_panel(DgWindow *self);
const dg_palette *dg_window_get_palette(DgWindow *self);

// Saves the document to path on a worker thread; the title and status follow when it is written,
// an error dialog if it could not be.
void dg_window_save(DgWindow *self, const char *path);
// Closes without asking about unsaved changes.
void dg_window_close_discarding(DgWindow *self);
// The save asked for when closing was not made (its file chooser was cancelled): a later save does
// not close the window.
void dg_window_forget_close(DgWindow *self);

void dg_window_generate(DgWindow *self);
// A video of the document's timeline, previewing the playhead's frame; its frames become the document's video.
void dg_window_generate_video(DgWindow *self);
void dg_window_cancel(DgWindow *self);
DgTimelinePanel *dg_window_get_timeline_panel(DgWindow *self);
DgStylePanel *dg_window_get_style_panel(DgWindow *self);
// Exports the document's video to `path` (.mp4, .webm, .gif or a folder of PNG frames) on a worker
// thread, progress in the timeline panel; an error dialog when it cannot start or fails, the status line
// when it is written or cancelled. FALSE when it did not start.
gboolean dg_window_export_video(DgWindow *self, const char *path);
void dg_window_cancel_export(DgWindow *self);

// A modal message dialog, recorded for dump-state.
void dg_window_message(DgWindow *self, GtkMessageType type, const char *title, const char *detail);
// Records a dialog shown elsewhere (file choosers' questions, recovery) for dump-state.
void dg_window_log_dialog(DgWindow *self, const char *text);
void dg_window_set_status(DgWindow *self, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
// Converts the document's layout to the palette `name` (world, ade20k, cityscapes or a palette file) by
// class name as one undo step, naming the unmatched classes in the status.
void dg_window_convert_palette(DgWindow *self, const char *name);
// The window's state as JSON, for tests and scripts (the dump-state action).
char *dg_window_dump_state(DgWindow *self);

G_END_DECLS
