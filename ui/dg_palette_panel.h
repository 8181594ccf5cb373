// The palette panel (left): the palette selector, the classes of the palette with a search by name or
// id (Enter picks the first match), a row of the recently used classes (the last 8), the class list
// with the classes on the canvas first, and "classes on canvas" with their areas in the document's
// layout (click one to paint with it). Picking a class in any of them emits "class-picked" (the class
// id); dg_palette_panel_show_class selects a class's row. Choosing another palette in the selector emits
// "palette-chosen" (its name); the window converts the layout.
#pragma once
#include "dg_document_view.h"
#include "dg_palette.h"

G_BEGIN_DECLS

#define DG_TYPE_PALETTE_PANEL (dg_palette_panel_get_type())
G_DECLARE_FINAL_TYPE(DgPalettePanel, dg_palette_panel, DG, PALETTE_PANEL, DgDocumentView)

// Fills the class list (the palette is not owned and must outlive the panel or the next call), shows
// its name in the selector and forgets the recently used classes.
void dg_palette_panel_set_palette(DgPalettePanel *self, const dg_palette *palette);
// Selects the row of class `cls` (the class being painted with), without emitting "class-picked".
void dg_palette_panel_show_class(DgPalettePanel *self, int cls);
// Types `text` into the search (filtering the class list now).
void dg_palette_panel_search(DgPalettePanel *self, const char *text);
// The recently used classes, most recent first (at most DG_PALETTE_PANEL_RECENT); returns how many.
#define DG_PALETTE_PANEL_RECENT 8
int dg_palette_panel_get_recent(DgPalettePanel *self, int recent[DG_PALETTE_PANEL_RECENT]);
// The class of the n-th visible row of the class list (after the search filter and the canvas-first
// order), -1 past the end.
int dg_palette_panel_row_class(DgPalettePanel *self, int n);

G_END_DECLS
