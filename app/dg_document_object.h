// The document as a GObject, for the editor's widgets to bind to (g_object_bind_property) and listen
// on. It owns a plain dg_document (the model: edits go through its functions or through the
// properties here, and either way become commands on its undo stack) and turns the model's change
// notifications into property notifications, a "layout-changed" signal, "timeline-changed" and
// "video-changed" (the video timeline and its generated video), "history-changed" (an undo step pushed,
// undone or redone: the end of an edit), "style-changed" (the style panel's state) and a GListModel of
// results. GObject only, no GTK: it lives in app/ and is tested without a display.
//
// Properties: width, height (read-only); prompt, negative-prompt (writing them is typing: each write
// is merged into the previous one's undo step unless a second or more passed since, or another edit
// came between); model (read-only: set it with dg_document_object_set_text after checking it);
// seed, seed-random, steps, guidance, control-scale (the layout strength; each write one undo step);
// current-result (not an edit);
// can-undo, can-redo, undo-depth, generation (read-only; generation grows with every change).
#pragma once
#include <gio/gio.h>

#include "dg_document.h"

G_BEGIN_DECLS

#define DG_TYPE_DOCUMENT (dg_document_object_get_type())
G_DECLARE_FINAL_TYPE(DgDocument, dg_document_object, DG, DOCUMENT, GObject)

#define DG_TYPE_RESULT (dg_result_object_get_type())
G_DECLARE_FINAL_TYPE(DgResult, dg_result_object, DG, RESULT, GObject)

// Takes ownership of model (freed with the object).
DgDocument *dg_document_object_new(dg_document *model);
// The model, owned by the object: edits made through it are seen like any other.
dg_document *dg_document_object_get_model(DgDocument *self);
// The results as a list of DgResult, in the model's order (owned by the object).
GListModel *dg_document_object_get_results(DgDocument *self);
// One undo step (no merging with typing); a DG_ERR_ARG status for bad values, the document unchanged.
dg_status dg_document_object_set_text(DgDocument *self, dg_doc_field field, const char *text);

// A generated image: its settings (info->rgba is NULL) and its pixels (RGBA8, rows packed).
int dg_result_object_get_index(DgResult *self);
const dg_result *dg_result_object_get_info(DgResult *self);
GBytes *dg_result_object_get_pixels(DgResult *self);

G_END_DECLS
