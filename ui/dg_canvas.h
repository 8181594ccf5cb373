// The layout canvas: draws the current result (if any) with the layout over it at the overlay
// opacity, in snapshot(), and turns pointer input into edits of its document with the current tool.
// The view (zoom, pan, fit) and the tool state (tool, class, brush radius, polygon in progress) are
// its own, as properties: tool, class, brush-radius, zoom (read-only: they change through the functions
// below) and overlay-opacity.
#pragma once
#include "dg_document_view.h"
#include "dg_palette.h"

G_BEGIN_DECLS

typedef enum {
  DG_TOOL_BRUSH,
  DG_TOOL_ERASER,
  DG_TOOL_FILL,
  DG_TOOL_RECT,
  DG_TOOL_POLYGON,
  DG_TOOL_EYEDROPPER,
} DgTool;
#define DG_TYPE_TOOL (dg_tool_get_type())
GType dg_tool_get_type(void);
// The tool's name ("brush", "eraser", "fill", "rect", "polygon", "eyedropper"); -1 for an unknown name.
const char *dg_tool_name(DgTool tool);
int dg_tool_from_name(const char *name);

#define DG_TYPE_CANVAS (dg_canvas_get_type())
G_DECLARE_FINAL_TYPE(DgCanvas, dg_canvas, DG, CANVAS, DgDocumentView)

// The palette that colours the layout and names classes (not owned; must outlive the canvas).
void dg_canvas_set_palette(DgCanvas *self, const dg_palette *palette);
DgTool dg_canvas_get_tool(DgCanvas *self);
void dg_canvas_set_tool(DgCanvas *self, DgTool tool);
int dg_canvas_get_class(DgCanvas *self);
// Paints with `cls` from now on (a class of the palette; others are ignored); the eraser and the
// eyedropper give way to the brush. Says so on the status line.
void dg_canvas_set_class(DgCanvas *self, int cls);
double dg_canvas_get_brush_radius(DgCanvas *self);
void dg_canvas_set_brush_radius(DgCanvas *self, double radius);     // clamped to 0.5..256
void dg_canvas_set_overlay_opacity(DgCanvas *self, double opacity); // clamped to 0..1
// Zooms by factor around the centre of the view; fit shows the whole layout again.
void dg_canvas_zoom_by(DgCanvas *self, double factor);
void dg_canvas_fit(DgCanvas *self);
// Where layout pixel (0, 0)'s corner is, in the canvas's coordinates, and the zoom.
void dg_canvas_get_view(DgCanvas *self, double *x, double *y, double *zoom);

G_END_DECLS
