// The model row of the settings: the document's model choice ("default" or a path) by name, with its
// detected kind underneath, and a menu to choose the default, a model folder or a checkpoint file
// (app.set-model, app.choose-model). Checking a choice reads file headers, so it runs only when the
// choice changes.
#pragma once
#include "dg_document_view.h"

G_BEGIN_DECLS

#define DG_TYPE_MODEL_ROW (dg_model_row_get_type())
G_DECLARE_FINAL_TYPE(DgModelRow, dg_model_row, DG, MODEL_ROW, DgDocumentView)

// What the row shows: the model's name and its kind (or why it cannot be loaded).
const char *dg_model_row_get_name(DgModelRow *self);
const char *dg_model_row_get_kind(DgModelRow *self);

G_END_DECLS
