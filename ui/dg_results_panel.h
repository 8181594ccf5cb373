// The results strip (bottom): a horizontal GtkListView over the document's results (a GListModel of
// DgResult), one thumbnail each with its settings as the tooltip; selecting one makes it the
// document's current result (a two-way binding), which the canvas shows.
#pragma once
#include "dg_document_view.h"

G_BEGIN_DECLS

#define DG_TYPE_RESULTS_PANEL (dg_results_panel_get_type())
G_DECLARE_FINAL_TYPE(DgResultsPanel, dg_results_panel, DG, RESULTS_PANEL, DgDocumentView)

G_END_DECLS
