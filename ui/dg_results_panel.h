// The results strip (bottom): a horizontal GtkListView over the document's results (a GListModel of
// DgResult), one thumbnail each with its settings as the tooltip; selecting one makes it the
// document's current result (a two-way binding), which the canvas shows. Beside them the document's videos:
// the first frame with a frame-count badge and a delete button (app.delete-video, undoable) each; clicking one
// makes it the current video, which the timeline panel plays.
#pragma once
#include "dg_document_view.h"

G_BEGIN_DECLS

#define DG_TYPE_RESULTS_PANEL (dg_results_panel_get_type())
G_DECLARE_FINAL_TYPE(DgResultsPanel, dg_results_panel, DG, RESULTS_PANEL, DgDocumentView)

// The video thumbnails' badges ("4 frames"), in order (for dump-state).
GPtrArray *dg_results_panel_get_video_badges(DgResultsPanel *self);
// Whether the "No results yet" hint shows (neither an image nor a video; for dump-state).
gboolean dg_results_panel_get_hint_shown(DgResultsPanel *self);

G_END_DECLS
