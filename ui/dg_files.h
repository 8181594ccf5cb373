// The editor's files: opening projects (and the settings of generated PNGs), importing label PNGs,
// exporting results, the file choosers, crash recovery from the autosave, and window screenshots.
// Saving is the window's (dg_window_save): it happens on a worker thread.
#pragma once
#include "dg_window.h"

// Each returns false after showing an error dialog; the document is then as it was.
bool dg_files_open(DgWindow *win, const char *path);
bool dg_files_import_layout(DgWindow *win, const char *path);
bool dg_files_export_png(DgWindow *win, const char *path);
bool dg_files_save(DgWindow *win, const char *path); // starts dg_window_save

// A native file chooser calling fn with the chosen path; pattern: one or more glob patterns separated by
// ';' (one filter), NULL: no filter.
void dg_files_choose(DgWindow *win, const char *title, GtkFileChooserAction action, const char *pattern,
                     const char *filter_name, bool (*fn)(DgWindow *, const char *));
void dg_files_open_dialog(DgWindow *win);
void dg_files_save_dialog(DgWindow *win);
void dg_files_import_dialog(DgWindow *win);
void dg_files_export_dialog(DgWindow *win);

// $XDG_STATE_HOME/dirigent/autosave.dirigent: present at start only after a crash.
char *dg_files_autosave_path(void);
void dg_files_autosave_remove(void);
void dg_files_offer_recovery(DgWindow *win);
bool dg_files_recover(DgWindow *win);

bool dg_files_screenshot(DgWindow *win, const char *path);
