// The style panel (template dg_style_panel.ui, issue #20): the content and exemplar slots (each filled by
// dropping a PNG file or a result from the strip, from the current result, a world sample or a file chooser),
// the method (FDA or the Masked Noise Encoder), the strength slider with a live preview (FDA at once, the
// encoder DG_STYLE_PREVIEW_DEBOUNCE_MS after the slider stops; a newer preview makes older ones stale), a
// side-by-side compare of the content and the preview, the three images' radial power spectra (log10) plotted
// over the radius, and Apply (the stylized content as a new result) and
// Apply to every result (all restyled, one undo step). Edits go through app/dg_style_edit.h; the engine runs
// on app/dg_style_worker's thread, never on the UI thread.
#pragma once
#include "dg_document_view.h"

G_BEGIN_DECLS

#define DG_STYLE_PREVIEW_DEBOUNCE_MS 300

#define DG_TYPE_STYLE_PANEL (dg_style_panel_get_type())
G_DECLARE_FINAL_TYPE(DgStylePanel, dg_style_panel, DG, STYLE_PANEL, DgDocumentView)

// Fills a slot from `what`: "result N" (1-based), "world N" or "world random" (the world sample at the
// canvas size), a PNG file's path, or "" to empty it. FALSE with the status saying why (the file or value
// named), the document unchanged.
gboolean dg_style_panel_fill(DgStylePanel *self, dg_style_slot slot, const char *what);
// Stylizes the content slot into a new result / every result in place (one undo step); FALSE (status says
// why) when a slot is empty, there is no result, or an apply is still running.
gboolean dg_style_panel_apply(DgStylePanel *self, gboolean every);
gboolean dg_style_panel_get_compare(DgStylePanel *self);
void dg_style_panel_set_compare(DgStylePanel *self, gboolean compare);

// For dump-state.
typedef struct dg_style_panel_state {
  int previews_shown, previews_stale; // delivered and shown / delivered too late and dropped
  int pending;                        // requests queued or running on the worker
  gboolean applying;
  double preview_latency_ms; // from the edit that asked for the last preview shown to its showing
  double preview_run_ms;     // the engine's time for it
} dg_style_panel_state;
void dg_style_panel_get_state(DgStylePanel *self, dg_style_panel_state *out);
char *dg_style_panel_describe_preview(DgStylePanel *self); // "" or "WxH SHA-256"
// The shown preview's spectra (content, exemplar, preview): their radius counts (0: none) and log10 power at
// radius 0 (the mean colour's).
void dg_style_panel_get_spectra(DgStylePanel *self, int bins[3], double dc[3]);

G_END_DECLS
