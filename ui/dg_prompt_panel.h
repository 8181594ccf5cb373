// The prompt and settings panel (right): prompt, negative prompt, seed (fixed or random), steps,
// guidance and the model row, all bound to the document's properties; Generate and Cancel (the
// app.generate and app.cancel actions), the progress bar and the live preview, bound to a job
// runner's. Under the prompt, its marked words: an entry, Mark and Suggest, removable chips, Ctrl+click
// on the prompt's words (dg_prompt_panel_mark_at) and the attention guidance selector.
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
// The attention guidance the selector shows, by name ("none", "divide-bind" ...).
const char *dg_prompt_panel_get_attn_shown(DgPromptPanel *self);
// The layout strength the spin button shows.
double dg_prompt_panel_get_control_scale_shown(DgPromptPanel *self);
// What clicking the prompt's word at byte `at` does (Ctrl+click, the app.mark-word-at action): an
// unmarked word becomes an object; a marked object becomes the one the next clicked word binds to as
// its attribute (clicking it again cancels); with one chosen, the clicked word is bound to it
// ("red:car"). Each change of the marks is one undo step.
void dg_prompt_panel_mark_at(DgPromptPanel *self, int at);
// The object the next clicked word binds to, "" for none.
const char *dg_prompt_panel_get_binding(DgPromptPanel *self);
// The token count under the prompt ("9 / 75 tokens"; past 75 it says the greyed words are left out), ""
// when hidden (a model other than the default: its tokenizer is its own).
const char *dg_prompt_panel_get_token_count(DgPromptPanel *self);

G_END_DECLS
