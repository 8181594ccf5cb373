// A recorded editing session for live replay (`dirigent-cli live --replay EDITS.jsonl`, issue 22): one JSON
// object per line, {"t": ms since the session started, "op": ..., operands}, t never decreasing. Each edit
// is applied through the same document functions the editor's actions call (docs/cli.md lists the ops):
//   {"op": "canvas", "width": W, "height": H}           first line only: the blank canvas (default 256x128)
//   "random-layout" {"seed": S}                           the world scene's layout (dg_world_random_labels)
//   "stroke" {"class": C, "radius": R, "points": [[x, y], ...]}   one brush stroke
//   "fill" {"x", "y", "class"}, "rect" {"x0", "y0", "x1", "y1", "class"}, "polygon" {"class", "points"}
//   "prompt" / "negative" / "marks" / "attn-guidance" {"text": ...}   the prompt as typed so far, etc.
//   "seed" {"value": digits or "random"}, "steps" {"value": N}, "guidance" {"value": X},
//   "control-scale" {"value": X} (the layout strength), "undo", "redo"
// A class is an id or a class name of the document's palette. Every error names the file and line.
#pragma once
#include "dg_document_object.h"
#include "dg_status.h"

typedef struct dg_live_edits dg_live_edits;

dg_live_edits *dg_live_edits_load(const char *path, dg_status *status);
void dg_live_edits_free(dg_live_edits *e);
int dg_live_edits_count(const dg_live_edits *e); // the edits after the canvas line
double dg_live_edits_time_ms(const dg_live_edits *e, int i);
const char *dg_live_edits_op(const dg_live_edits *e, int i);
// The canvas size (the canvas line's, else 256x128).
void dg_live_edits_canvas(const dg_live_edits *e, int *width, int *height);
// Applies edit i to doc, as the editor's action of the same name does.
dg_status dg_live_edits_apply(const dg_live_edits *e, int i, DgDocument *doc);
