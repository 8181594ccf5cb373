// Zoom with the scroll wheel (around the pointer), pan with the middle button or Shift+drag; screen =
// origin + layout * zoom, and `fit` recomputes zoom and origin from the widget's size when drawn.
#include "dg_canvas.h"

#include <math.h>

G_DEFINE_ENUM_TYPE(DgTool, dg_tool, G_DEFINE_ENUM_VALUE(DG_TOOL_BRUSH, "brush"),
                   G_DEFINE_ENUM_VALUE(DG_TOOL_ERASER, "eraser"), G_DEFINE_ENUM_VALUE(DG_TOOL_FILL, "fill"),
                   G_DEFINE_ENUM_VALUE(DG_TOOL_RECT, "rect"), G_DEFINE_ENUM_VALUE(DG_TOOL_POLYGON, "polygon"),
                   G_DEFINE_ENUM_VALUE(DG_TOOL_EYEDROPPER, "eyedropper"))

const char *dg_tool_name(DgTool tool) {
  GEnumClass *klass = g_type_class_ref(DG_TYPE_TOOL);
  GEnumValue *v = g_enum_get_value(klass, (int)tool);
  g_type_class_unref(klass);
  return v ? v->value_nick : "?";
}

int dg_tool_from_name(const char *name) {
  GEnumClass *klass = g_type_class_ref(DG_TYPE_TOOL);
  GEnumValue *v = g_enum_get_value_by_nick(klass, name);
  g_type_class_unref(klass);
  return v ? v->value : -1;
}

struct _DgCanvas {
  DgDocumentView parent;
  const dg_palette *palette;
  DgTool tool;
  int cls;
  double brush_radius, overlay_opacity;

  cairo_surface_t *layout_surface, *result_surface;
  double zoom, origin_x, origin_y;
  bool fit;
  double pointer_x, pointer_y; // in widget coordinates, for the brush outline
  bool pointer_in;
  bool dragging, panning;
  double drag_x, drag_y; // layout coordinates of the drag start
  double last_x, last_y; // last layout point of a stroke
  double pan_ox, pan_oy; // origin at the start of a pan
  GArray *polygon;       // layout coordinates (x, y) of the polygon being drawn
};

G_DEFINE_FINAL_TYPE(DgCanvas, dg_canvas, DG_TYPE_DOCUMENT_VIEW)

enum { PROP_0, PROP_TOOL, PROP_CLASS, PROP_BRUSH_RADIUS, PROP_OVERLAY_OPACITY, PROP_ZOOM, N_PROPS };
static GParamSpec *props[N_PROPS];

static dg_document *model(DgCanvas *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  return doc ? dg_document_object_get_model(doc) : NULL;
}

static void to_layout(DgCanvas *self, double sx, double sy, double *lx, double *ly) {
  *lx = (sx - self->origin_x) / self->zoom;
  *ly = (sy - self->origin_y) / self->zoom;
}

static void set_zoom(DgCanvas *self, double zoom) {
  if (self->zoom == zoom) return;
  self->zoom = zoom;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ZOOM]);
}

static void apply_fit(DgCanvas *self, int aw, int ah) {
  dg_document *m = model(self);
  if (!m) return;
  int w = dg_document_width(m), h = dg_document_height(m);
  double z = fmin((aw - 24.0) / w, (ah - 24.0) / h);
  if (z <= 0) z = 0.1;
  self->origin_x = (aw - w * z) / 2;
  self->origin_y = (ah - h * z) / 2;
  set_zoom(self, z);
}

static void fit_now(DgCanvas *self) {
  if (self->fit) apply_fit(self, gtk_widget_get_width(GTK_WIDGET(self)), gtk_widget_get_height(GTK_WIDGET(self)));
}

void dg_canvas_fit(DgCanvas *self) {
  self->fit = true;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

// Zooms by factor keeping the layout point under (cx, cy) fixed; cx < 0: the centre of the view.
static void zoom_at(DgCanvas *self, double factor, double cx, double cy) {
  fit_now(self);
  double z = fmin(64, fmax(0.1, self->zoom * factor));
  if (cx < 0) cx = gtk_widget_get_width(GTK_WIDGET(self)) / 2.0, cy = gtk_widget_get_height(GTK_WIDGET(self)) / 2.0;
  self->origin_x = cx - (cx - self->origin_x) * z / self->zoom;
  self->origin_y = cy - (cy - self->origin_y) * z / self->zoom;
  self->fit = false;
  set_zoom(self, z);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void dg_canvas_zoom_by(DgCanvas *self, double factor) { zoom_at(self, factor, -1, -1); }

void dg_canvas_get_view(DgCanvas *self, double *x, double *y, double *zoom) {
  *x = self->origin_x, *y = self->origin_y, *zoom = self->zoom;
}

// ---- what is drawn -------------------------------------------------------------------------------

static void layout_changed(DgDocument *doc, int x, int y, int w, int h, DgCanvas *self) {
  (void)doc;
  dg_document *m = model(self);
  int W = dg_document_width(m), H = dg_document_height(m);
  if (!self->layout_surface || cairo_image_surface_get_width(self->layout_surface) != W ||
      cairo_image_surface_get_height(self->layout_surface) != H) {
    if (self->layout_surface) cairo_surface_destroy(self->layout_surface);
    self->layout_surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    x = 0, y = 0, w = W, h = H;
  }
  cairo_surface_flush(self->layout_surface);
  uint8_t *data = cairo_image_surface_get_data(self->layout_surface);
  int stride = cairo_image_surface_get_stride(self->layout_surface);
  const uint8_t *ids = dg_document_layout(m);
  for (int r = y; r < y + h; r++) {
    uint32_t *row = (uint32_t *)(data + (size_t)r * stride);
    for (int c = x; c < x + w; c++) {
      uint8_t id = ids[(size_t)r * W + c], rgb[3];
      if (id == DG_UNLABELLED) {
        // Unlabelled (erased) pixels show as a grey checkerboard, like transparency elsewhere.
        row[c] = ((r / 8 + c / 8) & 1) ? 0xff5a5a60u : 0xff4a4a50u;
        continue;
      }
      dg_palette_color(self->palette, id, rgb);
      row[c] = 0xff000000u | (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
    }
  }
  cairo_surface_mark_dirty(self->layout_surface);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void result_changed(DgDocument *doc, GParamSpec *pspec, DgCanvas *self) {
  (void)doc, (void)pspec;
  if (self->result_surface) cairo_surface_destroy(self->result_surface);
  self->result_surface = NULL;
  dg_document *m = model(self);
  const dg_result *r = m ? dg_document_result(m, dg_document_current_result(m)) : NULL;
  if (r) {
    self->result_surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, r->width, r->height);
    uint8_t *data = cairo_image_surface_get_data(self->result_surface);
    int stride = cairo_image_surface_get_stride(self->result_surface);
    for (int y = 0; y < r->height; y++) {
      uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
      const uint8_t *s = r->rgba + (size_t)y * r->width * 4;
      for (int x = 0; x < r->width; x++)
        row[x] = 0xff000000u | (uint32_t)s[4 * x] << 16 | (uint32_t)s[4 * x + 1] << 8 | s[4 * x + 2];
    }
    cairo_surface_mark_dirty(self->result_surface);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void dg_canvas_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgCanvas *self = DG_CANVAS(view);
  g_array_set_size(self->polygon, 0);
  self->fit = true;
  if (!doc) return;
  dg_document_view_connect(view, "layout-changed", G_CALLBACK(layout_changed));
  dg_document_view_connect(view, "notify::current-result", G_CALLBACK(result_changed));
  dg_document *m = model(self);
  layout_changed(doc, 0, 0, dg_document_width(m), dg_document_height(m), self);
  result_changed(doc, NULL, self);
}

static void draw(DgCanvas *self, cairo_t *cr, int aw, int ah) {
  if (self->fit) apply_fit(self, aw, ah);
  cairo_set_source_rgb(cr, 0.17, 0.17, 0.19);
  cairo_paint(cr);
  dg_document *m = model(self);
  if (!m || !self->layout_surface) return;
  int W = dg_document_width(m), H = dg_document_height(m);

  cairo_save(cr);
  cairo_translate(cr, self->origin_x, self->origin_y);
  cairo_scale(cr, self->zoom, self->zoom);
  cairo_rectangle(cr, 0, 0, W, H);
  cairo_clip(cr);
  double opacity = 1.0;
  if (self->result_surface) {
    double sx = (double)W / cairo_image_surface_get_width(self->result_surface),
           sy = (double)H / cairo_image_surface_get_height(self->result_surface);
    cairo_save(cr);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, self->result_surface, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    opacity = self->overlay_opacity;
  }
  cairo_set_source_surface(cr, self->layout_surface, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint_with_alpha(cr, opacity);
  cairo_restore(cr);

  // Frame around the canvas.
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
  cairo_rectangle(cr, floor(self->origin_x) - 0.5, floor(self->origin_y) - 0.5, W * self->zoom + 1, H * self->zoom + 1);
  cairo_stroke(cr);

  // Tool feedback: brush outline, rectangle in progress, polygon in progress.
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_set_line_width(cr, 1.5);
  if (self->pointer_in && (self->tool == DG_TOOL_BRUSH || self->tool == DG_TOOL_ERASER)) {
    cairo_arc(cr, self->pointer_x, self->pointer_y, fmax(1.5, self->brush_radius * self->zoom), 0, 2 * M_PI);
    cairo_stroke(cr);
  }
  if (self->dragging && self->tool == DG_TOOL_RECT) {
    double px, py;
    to_layout(self, self->pointer_x, self->pointer_y, &px, &py);
    double x0 = fmin(floor(self->drag_x), floor(px)), y0 = fmin(floor(self->drag_y), floor(py));
    double x1 = fmax(floor(self->drag_x), floor(px)) + 1, y1 = fmax(floor(self->drag_y), floor(py)) + 1;
    cairo_rectangle(cr, self->origin_x + x0 * self->zoom, self->origin_y + y0 * self->zoom, (x1 - x0) * self->zoom,
                    (y1 - y0) * self->zoom);
    cairo_stroke(cr);
  }
  for (guint i = 0; i < self->polygon->len / 2; i++) {
    double x = self->origin_x + g_array_index(self->polygon, double, 2 * i) * self->zoom;
    double y = self->origin_y + g_array_index(self->polygon, double, 2 * i + 1) * self->zoom;
    if (i == 0)
      cairo_move_to(cr, x, y);
    else
      cairo_line_to(cr, x, y);
  }
  if (self->polygon->len > 0) {
    if (self->pointer_in) cairo_line_to(cr, self->pointer_x, self->pointer_y);
    cairo_stroke(cr);
  }
}

static void dg_canvas_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  draw(DG_CANVAS(widget), cr, w, h);
  cairo_destroy(cr);
}

// ---- input ---------------------------------------------------------------------------------------

static int paint_class(DgCanvas *self) { return self->tool == DG_TOOL_ERASER ? DG_UNLABELLED : self->cls; }

static void finish_polygon(DgCanvas *self) {
  guint n = self->polygon->len / 2;
  if (n >= 3) dg_document_fill_polygon(model(self), (const double *)(void *)self->polygon->data, (int)n, self->cls);
  g_array_set_size(self->polygon, 0);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

// A click near the first vertex (within 8 screen pixels) closes the polygon; others add a vertex.
static void polygon_click(DgCanvas *self, double x, double y) {
  if (self->polygon->len >= 6) {
    double fx = g_array_index(self->polygon, double, 0), fy = g_array_index(self->polygon, double, 1);
    if (hypot((fx - x) * self->zoom, (fy - y) * self->zoom) < 8) {
      finish_polygon(self);
      return;
    }
  }
  g_array_append_val(self->polygon, x);
  g_array_append_val(self->polygon, y);
}

static void drag_begin(GtkGestureDrag *g, double sx, double sy, DgCanvas *self) {
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g));
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  dg_document *m = model(self);
  gtk_widget_grab_focus(GTK_WIDGET(self));
  if (!m) return;
  if (button == GDK_BUTTON_MIDDLE || (mods & GDK_SHIFT_MASK)) {
    self->panning = true;
    fit_now(self);
    self->fit = false;
    self->pan_ox = self->origin_x, self->pan_oy = self->origin_y;
    return;
  }
  if (button == GDK_BUTTON_SECONDARY) {
    if (self->tool == DG_TOOL_POLYGON) finish_polygon(self);
    return;
  }
  double x, y;
  to_layout(self, sx, sy, &x, &y);
  self->dragging = true;
  self->drag_x = self->last_x = x;
  self->drag_y = self->last_y = y;
  switch (self->tool) {
  case DG_TOOL_BRUSH:
  case DG_TOOL_ERASER:
    dg_document_edit_begin(m);
    dg_document_paint_dab(m, x, y, self->brush_radius, paint_class(self));
    break;
  case DG_TOOL_FILL: dg_document_flood_fill(m, (int)floor(x), (int)floor(y), self->cls); break;
  case DG_TOOL_EYEDROPPER: {
    int id = dg_document_pixel(m, (int)floor(x), (int)floor(y));
    if (id >= 0 && id != DG_UNLABELLED) dg_canvas_set_class(self, id);
    break;
  }
  case DG_TOOL_POLYGON: polygon_click(self, x, y); break;
  default: break;
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void drag_update(GtkGestureDrag *g, double dx, double dy, DgCanvas *self) {
  double sx, sy;
  gtk_gesture_drag_get_start_point(g, &sx, &sy);
  self->pointer_x = sx + dx, self->pointer_y = sy + dy;
  if (self->panning) {
    self->origin_x = self->pan_ox + dx, self->origin_y = self->pan_oy + dy;
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return;
  }
  if (!self->dragging) return;
  double x, y;
  to_layout(self, sx + dx, sy + dy, &x, &y);
  if (self->tool == DG_TOOL_BRUSH || self->tool == DG_TOOL_ERASER) {
    dg_document_paint_line(model(self), self->last_x, self->last_y, x, y, self->brush_radius, paint_class(self));
    self->last_x = x, self->last_y = y;
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void drag_end(GtkGestureDrag *g, double dx, double dy, DgCanvas *self) {
  if (self->panning) {
    self->panning = false;
    return;
  }
  if (!self->dragging) return;
  self->dragging = false;
  double sx, sy, x, y;
  gtk_gesture_drag_get_start_point(g, &sx, &sy);
  to_layout(self, sx + dx, sy + dy, &x, &y);
  if (self->tool == DG_TOOL_BRUSH || self->tool == DG_TOOL_ERASER)
    dg_document_edit_end(model(self));
  else if (self->tool == DG_TOOL_RECT)
    dg_document_fill_rect(model(self), (int)floor(self->drag_x), (int)floor(self->drag_y), (int)floor(x), (int)floor(y),
                          self->cls);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void motion(GtkEventControllerMotion *c, double x, double y, DgCanvas *self) {
  (void)c;
  self->pointer_x = x, self->pointer_y = y, self->pointer_in = true;
  dg_document *m = model(self);
  if (!m) return;
  double lx, ly;
  to_layout(self, x, y, &lx, &ly);
  int id = dg_document_pixel(m, (int)floor(lx), (int)floor(ly));
  if (id >= 0) {
    const char *name = dg_palette_name(self->palette, id);
    dg_document_view_status(DG_DOCUMENT_VIEW(self), "x %d  y %d  ·  %s", (int)floor(lx), (int)floor(ly),
                            name ? name : "?");
  }
  if (self->tool == DG_TOOL_BRUSH || self->tool == DG_TOOL_ERASER || self->polygon->len)
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void leave(GtkEventControllerMotion *c, DgCanvas *self) {
  (void)c;
  self->pointer_in = false;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static gboolean scroll(GtkEventControllerScroll *c, double dx, double dy, DgCanvas *self) {
  (void)c, (void)dx;
  zoom_at(self, dy < 0 ? 1.25 : 0.8, self->pointer_x, self->pointer_y);
  return TRUE;
}

static gboolean key_pressed(GtkEventControllerKey *k, guint keyval, guint code, GdkModifierType mods, DgCanvas *self) {
  (void)k, (void)code, (void)mods;
  if (self->tool == DG_TOOL_POLYGON && (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter)) {
    finish_polygon(self);
    return TRUE;
  }
  if (self->polygon->len && keyval == GDK_KEY_Escape) {
    g_array_set_size(self->polygon, 0);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return TRUE;
  }
  return FALSE;
}

// ---- tool state ----------------------------------------------------------------------------------

void dg_canvas_set_palette(DgCanvas *self, const dg_palette *palette) {
  self->palette = palette;
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  if (doc) layout_changed(doc, 0, 0, dg_document_width(model(self)), dg_document_height(model(self)), self);
}

DgTool dg_canvas_get_tool(DgCanvas *self) { return self->tool; }
void dg_canvas_set_tool(DgCanvas *self, DgTool tool) {
  if (tool != DG_TOOL_POLYGON) g_array_set_size(self->polygon, 0);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  if (self->tool == tool) return;
  self->tool = tool;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TOOL]);
}

int dg_canvas_get_class(DgCanvas *self) { return self->cls; }
void dg_canvas_set_class(DgCanvas *self, int cls) {
  if (!self->palette || !dg_palette_find(self->palette, cls)) return;
  if (self->tool == DG_TOOL_ERASER || self->tool == DG_TOOL_EYEDROPPER) dg_canvas_set_tool(self, DG_TOOL_BRUSH);
  if (self->cls != cls) {
    self->cls = cls;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CLASS]);
  }
  dg_document_view_status(DG_DOCUMENT_VIEW(self), "Painting with %s", dg_palette_name(self->palette, cls));
}

double dg_canvas_get_brush_radius(DgCanvas *self) { return self->brush_radius; }
void dg_canvas_set_brush_radius(DgCanvas *self, double radius) {
  radius = fmin(256, fmax(0.5, radius));
  gtk_widget_queue_draw(GTK_WIDGET(self));
  if (self->brush_radius == radius) return;
  self->brush_radius = radius;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BRUSH_RADIUS]);
}

void dg_canvas_set_overlay_opacity(DgCanvas *self, double opacity) {
  opacity = fmin(1, fmax(0, opacity));
  if (self->overlay_opacity == opacity) return;
  self->overlay_opacity = opacity;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_OVERLAY_OPACITY]);
}

static void dg_canvas_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgCanvas *self = DG_CANVAS(object);
  switch (id) {
  case PROP_TOOL: g_value_set_enum(value, self->tool); break;
  case PROP_CLASS: g_value_set_int(value, self->cls); break;
  case PROP_BRUSH_RADIUS: g_value_set_double(value, self->brush_radius); break;
  case PROP_OVERLAY_OPACITY: g_value_set_double(value, self->overlay_opacity); break;
  case PROP_ZOOM: g_value_set_double(value, self->zoom); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_canvas_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  DgCanvas *self = DG_CANVAS(object);
  if (id == PROP_OVERLAY_OPACITY)
    dg_canvas_set_overlay_opacity(self, g_value_get_double(value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_canvas_dispose(GObject *object) {
  DgCanvas *self = DG_CANVAS(object);
  g_clear_pointer(&self->layout_surface, cairo_surface_destroy);
  g_clear_pointer(&self->result_surface, cairo_surface_destroy);
  G_OBJECT_CLASS(dg_canvas_parent_class)->dispose(object);
}

static void dg_canvas_finalize(GObject *object) {
  g_array_unref(DG_CANVAS(object)->polygon);
  G_OBJECT_CLASS(dg_canvas_parent_class)->finalize(object);
}

static void dg_canvas_class_init(DgCanvasClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = dg_canvas_get_property;
  oc->set_property = dg_canvas_set_property;
  oc->dispose = dg_canvas_dispose;
  oc->finalize = dg_canvas_finalize;
  GTK_WIDGET_CLASS(klass)->snapshot = dg_canvas_snapshot;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_canvas_document_changed;
  // The tool state is changed through the functions above; the opacity also by a slider bound to it.
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_TOOL] = g_param_spec_enum("tool", NULL, NULL, DG_TYPE_TOOL, DG_TOOL_BRUSH, ro);
  props[PROP_CLASS] = g_param_spec_int("class", NULL, NULL, 0, 255, 0, ro);
  props[PROP_BRUSH_RADIUS] = g_param_spec_double("brush-radius", NULL, NULL, 0.5, 256, 6, ro);
  props[PROP_OVERLAY_OPACITY] = g_param_spec_double("overlay-opacity", NULL, NULL, 0, 1, 0.5, ro | G_PARAM_WRITABLE);
  props[PROP_ZOOM] = g_param_spec_double("zoom", NULL, NULL, 0, 64, 1, ro);
  g_object_class_install_properties(oc, N_PROPS, props);
  gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "canvas");
}

static void dg_canvas_init(DgCanvas *self) {
  GtkWidget *w = GTK_WIDGET(self);
  self->brush_radius = 6;
  self->overlay_opacity = 0.5;
  self->zoom = 1;
  self->fit = true;
  self->polygon = g_array_new(FALSE, FALSE, sizeof(double));
  gtk_widget_set_hexpand(w, TRUE);
  gtk_widget_set_vexpand(w, TRUE);
  gtk_widget_set_focusable(w, TRUE);
  gtk_widget_set_size_request(w, 400, 200);
  gtk_widget_set_cursor_from_name(w, "crosshair");

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(drag_end), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drag));
  GtkEventController *m = gtk_event_controller_motion_new();
  g_signal_connect(m, "motion", G_CALLBACK(motion), self);
  g_signal_connect(m, "leave", G_CALLBACK(leave), self);
  gtk_widget_add_controller(w, m);
  GtkEventController *s = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(s, "scroll", G_CALLBACK(scroll), self);
  gtk_widget_add_controller(w, s);
  GtkEventController *k = gtk_event_controller_key_new();
  g_signal_connect(k, "key-pressed", G_CALLBACK(key_pressed), self);
  gtk_widget_add_controller(w, k);
}
