// Reading a layout a person painted, in Dirigent or in another program, for a target class palette.
// Painting programs rarely write exact class colours everywhere: anti-aliased brushes and resampling
// blend the colours of neighbouring regions along their edges, soft brushes leave partial alpha, JPEG
// (or a PNG saved from one) adds noise. So a colour-coded image is read by colour distance:
// - a pixel within DG_LAYOUT_NEAR of a class colour takes that class ("snapped" when not exact);
// - an opaque pixel farther from every class colour (a blend along an edge) takes the class of a
//   resolved neighbour whose colour is nearest its own, spreading inwards from the regions;
// - alpha below 128 is unlabelled.
// The palette is `target`'s, else the shipped palette (docs/palettes.md) that holds the most of the
// pixels, converted to `target` by class name. An image with fewer than DG_LAYOUT_MIN_NEAR of its opaque
// pixels near the chosen palette's colours (a photo, a rendered image) is refused.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dg_palette.h"
#include "dg_palette_convert.h"
#include "dg_png.h"
#include "dg_status.h"

#define DG_LAYOUT_NEAR 16      // RGB Euclidean distance; the world palette's closest colours are 37 apart
#define DG_LAYOUT_MIN_NEAR 0.75 // share of opaque pixels near a class colour

typedef struct dg_layout_read_report {
  const char *painted_in;           // the palette read (a static string, or dg_palette_title(target))
  dg_palette_conversion conversion; // when painted in another palette: its classes `target` lacks
  size_t pixels;                    // width x height
  size_t snapped;                   // near a class colour but not exactly it, or partly transparent
  size_t filled;                    // far from every class colour, taken from their neighbours
} dg_layout_read_report;

// A layout image at `path` for `target`. An indexed or grey PNG whose values are all class ids (or 255)
// holds ids of `target` (as dg_png_read_label reads them: the files Dirigent and the world write); any
// other PNG, and a JPEG (dg_image), is read by colour as above. `limits` as dg_png_read_label_limited's. *ids is malloc'd; `report`
// may be NULL (the evaluation reads a dataset's label maps so: a hand-painted test set need not be exact).
dg_status dg_layout_read_file(const char *path, const dg_palette *target, const dg_png_limits *limits, int *width,
                             int *height, uint8_t **ids, dg_layout_read_report *report);

// The same for decoded RGBA8 pixels (`name` for messages); *ids is malloc'd.
dg_status dg_layout_from_rgba(const char *name, const dg_palette *target, const uint8_t *rgba, int width, int height,
                              uint8_t **ids, dg_layout_read_report *report);

// `ids` (w x h) resampled to tw x th into `out`: each pixel the most common class of the source area it
// covers (ties: the class at the area's centre), so a layout painted at another size keeps its regions and
// the larger of its small objects.
void dg_layout_resize(const uint8_t *ids, int w, int h, uint8_t *out, int tw, int th);

// One line for the person, "" when the image was read exactly in `target`'s colours: the palette it was
// converted from and its unmatched classes, the pixels snapped and filled.
void dg_layout_read_summary(const dg_layout_read_report *report, const dg_palette *target, char *out, size_t size);
