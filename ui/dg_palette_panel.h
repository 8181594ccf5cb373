// The palette panel (left): the classes of the palette with a search by name or id, and "classes on
// canvas" with their areas in the document's layout (click one to paint with it). Picking a class in
// either list emits "class-picked" (the class id); dg_palette_panel_show_class selects a class's row.
#pragma once
#include "dg_document_view.h"
#include "dg_palette.h"

G_BEGIN_DECLS

#define DG_TYPE_PALETTE_PANEL (dg_palette_panel_get_type())
G_DECLARE_FINAL_TYPE(DgPalettePanel, dg_palette_panel, DG, PALETTE_PANEL, DgDocumentView)

// Fills the class list (the palette is not owned and must outlive the panel).
void dg_palette_panel_set_palette(DgPalettePanel *self, const dg_palette *palette);
// Selects the row of class `cls` (the class being painted with), without emitting "class-picked".
void dg_palette_panel_show_class(DgPalettePanel *self, int cls);

G_END_DECLS
