// The palette panel (left): the classes of the palette with a search by name or id, and "classes on
// canvas" with their areas in the document's layout (click one to paint with it). "selected-class" is
// the class chosen in either list; the window binds it to the canvas's class.
#pragma once
#include "dg_document_view.h"
#include "dg_palette.h"

G_BEGIN_DECLS

#define DG_TYPE_PALETTE_PANEL (dg_palette_panel_get_type())
G_DECLARE_FINAL_TYPE(DgPalettePanel, dg_palette_panel, DG, PALETTE_PANEL, DgDocumentView)

// Fills the class list (the palette is not owned and must outlive the panel).
void dg_palette_panel_set_palette(DgPalettePanel *self, const dg_palette *palette);

G_END_DECLS
