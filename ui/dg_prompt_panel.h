// The prompt and settings panel (right): prompt, negative prompt, seed (fixed or random), steps,
// guidance and the model row, all bound to the document's properties; Generate and Cancel (the
// app.generate and app.cancel actions), the progress bar and the live preview, shown through the
// properties progress-text, progress-fraction and preview (the window binds them to its job runner).
// Later the prompt's token chips go here.
#pragma once
#include "dg_document_view.h"
#include "dg_model_row.h"

G_BEGIN_DECLS

#define DG_TYPE_PROMPT_PANEL (dg_prompt_panel_get_type())
G_DECLARE_FINAL_TYPE(DgPromptPanel, dg_prompt_panel, DG, PROMPT_PANEL, DgDocumentView)

DgModelRow *dg_prompt_panel_get_model_row(DgPromptPanel *self);
const char *dg_prompt_panel_get_progress_text(DgPromptPanel *self);

G_END_DECLS
