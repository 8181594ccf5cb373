// The timeline edits the editor makes (its panel and its actions), each one undo step on the document
// through dg_document_set_timeline (the timeline command): a copy of the document's timeline changed and
// set back. With `coalesce`, the step merges into the previous coalescing timeline step (a drag, typing)
// until dg_document_seal_history. Each returns DG_ERR_ARG naming the value (the document unchanged) for
// what the timeline refuses.
#pragma once
#include <stdbool.h>

#include "dg_document.h"

dg_status dg_timeline_edit_add_stage(dg_document *doc, int frame, const char *prompt);
dg_status dg_timeline_edit_remove_stage(dg_document *doc, int index);
// Moves stage `index` to `frame` (clamped between its neighbours, dg_timeline_move_stage).
dg_status dg_timeline_edit_move_stage(dg_document *doc, int index, int frame, bool coalesce);
// Resizes stage `index`'s block to end at `last` (its last frame): the next stage starts at last + 1
// (clamped). The last stage runs to the end of the clip: DG_ERR_ARG.
dg_status dg_timeline_edit_set_end(dg_document *doc, int index, int last, bool coalesce);
dg_status dg_timeline_edit_set_prompt(dg_document *doc, int index, const char *prompt, bool coalesce);
// The frame count, the stages kept at the same place in time (dg_timeline_set_frames); TAR's sigmas follow
// the preset for the new count (dg_timeline_tar_preset) when they are the old count's preset.
dg_status dg_timeline_edit_set_frames(dg_document *doc, int frames);
dg_status dg_timeline_edit_set_fps(dg_document *doc, double fps);
// TAR: the Gaussian band's sigma at the finest latent level and the next (0: off there), until step `until`.
dg_status dg_timeline_edit_set_tar(dg_document *doc, double sigma_fine, double sigma_next, int until);
dg_status dg_timeline_edit_set_keep_layout(dg_document *doc, bool keep);
// The attention picture's temporal transformer and sampler step (dg_timeline.attention_layer, attention_step).
dg_status dg_timeline_edit_set_attention(dg_document *doc, int layer, int step);
// VSP: DG_VSP_LINEAR (interpolated stage embeddings), DG_VSP_SAME (each frame its stage's) or DG_VSP_OFF.
dg_status dg_timeline_edit_set_vsp(dg_document *doc, dg_vsp_mode vsp);
