// Project files (.dirigent). A project is a bundle: a zip archive (app/dg_bundle.h) of
//   mimetype          "application/x-dirigent-project" (first, stored: lets tools recognise the file)
//   project.json      the document: settings, and the layout and results as references to files below
//   layout.png        the layout's class ids as the pixel values of an 8-bit indexed PNG
//   results/NNNN.png  each result, RGBA8
//   video/NNNN/MMMM.png  frame MMMM of the document's video NNNN (dg_document_video_at), RGBA8; projects before
//                     held one video as video/MMMM.png, still read
//   style/content.png, style/exemplar.png  the style panel's slots (dg_document_style), when filled
// project.json holds the timeline (app/dg_timeline_json.h) and the style panel's method, strength and slot
// sources. Version 1 projects, one JSON file with the layout run-length encoded and the results
// zlib-compressed, both base64'd, are still read.
// Reading is strict: anything malformed returns NULL with a message naming the problem, and no
// document is changed. JSON reaches json-glib only behind app/dg_json_glib's depth and size limits, and
// every image's decoded size is known (and capped) before any is decoded. Writing is atomic
// (dg_project_save); dg_project_async.h saves off the caller's thread.
#pragma once
#include <stddef.h>

#include "dg_document.h"

#define DG_PROJECT_FORMAT "dirigent-project"
#define DG_PROJECT_VERSION 2
#define DG_PROJECT_MIMETYPE "application/x-dirigent-project"
#define DG_PROJECT_JSON_FILE "project.json"
#define DG_PROJECT_LAYOUT_FILE "layout.png"
// Reading limits: the file's size; the most bytes one file of a bundle may hold once read; the decoded
// size of the layout (1 byte a pixel) and result images (RGBA8) together, known from their width and
// height (and each PNG's header) before any of them is decoded.
#define DG_PROJECT_MAX_BYTES ((size_t)1 << 30)
#define DG_PROJECT_MAX_ENTRY ((size_t)256 << 20)
#define DG_PROJECT_MAX_IMAGE_BYTES ((size_t)512 << 20)

// The bundle's bytes (settings, layout, results; not the undo history): the same document gives the
// same bytes. Caller frees with free(); NULL (error set) only when memory runs out or past 4 GiB.
char *dg_project_serialize(const dg_document *doc, size_t *length);
// Parses a project from memory: a bundle, or a version 1 JSON file. NULL and the error message on
// failure.
dg_document *dg_project_parse(const char *data, size_t length, dg_status *status);

// Writes to a temporary file in the same directory, syncs it and renames it over `path`, so a
// failed save leaves any old file untouched.
dg_status dg_project_save(const dg_document *doc, const char *path);
// Reads `path` (a regular file of at most DG_PROJECT_MAX_BYTES, mapped); on failure NULL and a message that
// starts with the file name.
dg_document *dg_project_load(const char *path, dg_status *status);

// Test hook: the next save fails after writing this many bytes of the temporary file (-1: off).
void dg_project_inject_write_failure(long after_bytes);
