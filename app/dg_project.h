// Project files (.dirigent): the whole document as JSON (json-glib, behind app/dg_json_glib's limits).
// The layout is stored run-length encoded and base64'd, results as zlib-compressed RGBA8, base64'd.
// Reading is strict: anything malformed returns NULL with a message naming the problem, and no document
// is changed.
#pragma once
#include <stddef.h>

#include "dg_document.h"

#define DG_PROJECT_FORMAT "dirigent-project"
#define DG_PROJECT_VERSION 1
// Reading limits: the file's size, and the decoded size of its layout (1 byte a pixel) and result images
// (RGBA8) together, known from their width and height before any of them is decoded.
#define DG_PROJECT_MAX_BYTES ((size_t)1 << 30)
#define DG_PROJECT_MAX_IMAGE_BYTES ((size_t)512 << 20)

// Serialises doc (settings, layout, results; not the undo history). Caller frees with free().
char *dg_project_serialize(const dg_document *doc, size_t *length);
// Parses a project from memory; NULL and the error message on failure.
dg_document *dg_project_parse(const char *data, size_t length, dg_status *status);

// Writes to a temporary file in the same directory, syncs it and renames it over `path`, so a
// failed save leaves any old file untouched.
dg_status dg_project_save(const dg_document *doc, const char *path);
// Reads `path` (a regular file of at most DG_PROJECT_MAX_BYTES); on failure NULL and a message that
// starts with the file name.
dg_document *dg_project_load(const char *path, dg_status *status);

// Test hook: the next save fails after writing this many bytes of the temporary file (-1: off).
void dg_project_inject_write_failure(long after_bytes);
