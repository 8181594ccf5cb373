// The prompt and settings panel (right): prompt, negative prompt, seed (fixed or random), steps,
// guidance and the model row, all bound to the document's properties; Generate and Cancel (the
// app.generate and app.cancel actions), the progress bar and the live preview, bound to a job
// runner's. Later the prompt's token chips go here.
#pragma once
#include "dg_document_view.h"
#include "dg_job_runner.h"
#include "dg_model_row.h"

G_BEGIN_DECLS

#define DG_TYPE_PROMPT_PANEL (dg_prompt_panel_get_type())
G_DECLARE_FINAL_TYPE(DgPromptPanel, dg_prompt_panel, DG, PROMPT_PANEL, DgDocumentView)

DgModelRow *dg_prompt_panel_get_model_row(DgPromptPanel *self);
// Shows the runner's progress text, fraction and preview.
void dg_prompt_panel_show_runner(DgPromptPanel *self, DgJobRunner *runner);
const char *dg_prompt_panel_get_progress_text(DgPromptPanel *self);

G_END_DECLS
