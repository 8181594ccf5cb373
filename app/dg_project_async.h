// Saving a project off the caller's thread: the document is copied (dg_document_copy) when the save
// is asked for, and one worker thread writes the copies in the order asked (dg_project_save: a
// temporary file, synced, renamed over the old one), so the UI never waits for PNG encoding or the
// disk, and later edits do not race the write. The callback runs in the caller's thread-default main
// context, as with any GTask.
#pragma once
#include <gio/gio.h>
#include <stdbool.h>

#include "dg_document.h"

#define DG_PROJECT_ERROR (dg_project_error_quark())
GQuark dg_project_error_quark(void); // codes: dg_status values

void dg_project_save_async(const dg_document *doc, const char *path, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
// True when the project was written; otherwise false and *error says why (the message names the file).
bool dg_project_save_finish(GAsyncResult *result, GError **error);
// Blocks until every save asked for so far has been written (before the process exits). Their
// callbacks still run later in their main context.
void dg_project_wait_saves(void);

// Test hook: called on the writing thread just before each write, with the path.
void dg_project_set_write_observer(void (*fn)(const char *path, void *user), void *user);
