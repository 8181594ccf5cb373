// The style panel's edits (issue #20), each one undo step on the document: filling or emptying a slot, the
// method, the strength (coalescing while the slider is dragged), and stylized results added or replacing
// results (a batch is one step). Also the slots' sources: a file, a result, a world sample. No GTK: the
// editor's panel and actions and the tests use these.
#pragma once
#include <stdbool.h>

#include "dg_document.h"

// img NULL empties the slot; the document takes its own reference.
dg_status dg_style_edit_set_slot(dg_document *doc, dg_style_slot slot, dg_style_image *img);
dg_status dg_style_edit_set_method(dg_document *doc, dg_stylize_method method);
dg_status dg_style_edit_set_strength(dg_document *doc, double strength, bool coalesce);

// A stylized image as a result: rgb (3 channels, the content's size) with the settings of `source` (the
// result it was made from; NULL: the document's current settings are not copied, only the size) and the
// style's description (dg_style_describe). *out is owned by the caller (dg_result_clear).
dg_status dg_style_result(const dg_result *source, const dg_media *rgb, const dg_style *style, dg_result *out);
// Appends `styled` as a new result (it becomes the current one): one undo step. Takes its buffers.
dg_status dg_style_edit_add_result(dg_document *doc, dg_result *styled);
// Replaces results index[0..n) by styled[0..n) (buffers taken): one undo step for all of them.
dg_status dg_style_edit_replace_results(dg_document *doc, int n, const int *index, dg_result *styled);
// The end of a restyling that ran while the results could change (Apply to every result: seconds on the style
// worker, while a generation adds a result or an undo removes or replaces one): styled[k] replaces the result
// whose id (dg_result.id) was ids[k] when the run started, wherever it is now, all of them one undo step.
// A result gone or replaced since (its id no longer in the document) is skipped, as is a styled[k] without
// pixels (its result was gone when it was styled); results added since are not touched. The buffers are
// taken either way. *replaced: how many were replaced (0: nothing done, no undo step).
dg_status dg_style_edit_replace_by_id(dg_document *doc, int n, const uint64_t *ids, dg_result *styled, int *replaced);

// Sources for a slot (each a new image with one reference, or NULL with the error naming the file or value):
// a PNG file (a regular file, at most DG_STYLE_MAX_SIDE a side), result `index` of the document, or the world
// sample of `seed` rendered at width x height (app/world, as `dirigent-cli world sample` renders it).
dg_style_image *dg_style_image_from_file(const char *path);
dg_style_image *dg_style_image_from_result(const dg_document *doc, int index);
dg_style_image *dg_style_image_from_world(uint64_t seed, int width, int height);
