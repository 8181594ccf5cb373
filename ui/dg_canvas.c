// The layout canvas: draws the result (if any) with the layout over it at the chosen opacity, and
// turns pointer input into document edits with the current tool. Zoom with the scroll wheel
// (around the pointer), pan with the middle button or Shift+drag.
#include <math.h>

#include "dg_editor.h"

static void to_layout(dg_editor *ed, double sx, double sy, double *lx, double *ly) {
  *lx = (sx - ed->origin_x) / ed->zoom;
  *ly = (sy - ed->origin_y) / ed->zoom;
}

void dg_canvas_fit(dg_editor *ed) {
  ed->fit = true;
  gtk_widget_queue_draw(ed->canvas);
}

static void apply_fit(dg_editor *ed, int aw, int ah) {
  int w = dg_document_width(ed->doc), h = dg_document_height(ed->doc);
  double z = fmin((aw - 24.0) / w, (ah - 24.0) / h);
  if (z <= 0) z = 0.1;
  ed->zoom = z;
  ed->origin_x = (aw - w * z) / 2;
  ed->origin_y = (ah - h * z) / 2;
}

void dg_canvas_zoom(dg_editor *ed, double factor, double cx, double cy) {
  if (ed->fit) apply_fit(ed, gtk_widget_get_width(ed->canvas), gtk_widget_get_height(ed->canvas));
  double z = fmin(64, fmax(0.1, ed->zoom * factor));
  if (cx < 0) cx = gtk_widget_get_width(ed->canvas) / 2.0, cy = gtk_widget_get_height(ed->canvas) / 2.0;
  // Keep the layout point under (cx, cy) fixed.
  ed->origin_x = cx - (cx - ed->origin_x) * z / ed->zoom;
  ed->origin_y = cy - (cy - ed->origin_y) * z / ed->zoom;
  ed->zoom = z;
  ed->fit = false;
  gtk_widget_queue_draw(ed->canvas);
}

void dg_canvas_layout_changed(dg_editor *ed, int x, int y, int w, int h) {
  int W = dg_document_width(ed->doc), H = dg_document_height(ed->doc);
  if (!ed->layout_surface || cairo_image_surface_get_width(ed->layout_surface) != W ||
      cairo_image_surface_get_height(ed->layout_surface) != H) {
    if (ed->layout_surface) cairo_surface_destroy(ed->layout_surface);
    ed->layout_surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    x = 0, y = 0, w = W, h = H;
  }
  cairo_surface_flush(ed->layout_surface);
  uint8_t *data = cairo_image_surface_get_data(ed->layout_surface);
  int stride = cairo_image_surface_get_stride(ed->layout_surface);
  const uint8_t *ids = dg_document_layout(ed->doc);
  for (int r = y; r < y + h; r++) {
    uint32_t *row = (uint32_t *)(data + (size_t)r * stride);
    for (int c = x; c < x + w; c++) {
      uint8_t id = ids[(size_t)r * W + c], rgb[3];
      if (id == DG_UNLABELLED) {
        // Unlabelled (erased) pixels show as a grey checkerboard, like transparency elsewhere.
        row[c] = ((r / 8 + c / 8) & 1) ? 0xff5a5a60u : 0xff4a4a50u;
        continue;
      }
      dg_palette_color(ed->palette, id, rgb);
      row[c] = 0xff000000u | (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
    }
  }
  cairo_surface_mark_dirty(ed->layout_surface);
  gtk_widget_queue_draw(ed->canvas);
}

void dg_canvas_result_changed(dg_editor *ed) {
  if (ed->result_surface) cairo_surface_destroy(ed->result_surface);
  ed->result_surface = NULL;
  const dg_result *r = dg_document_result(ed->doc, dg_document_current_result(ed->doc));
  if (r) {
    ed->result_surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, r->width, r->height);
    uint8_t *data = cairo_image_surface_get_data(ed->result_surface);
    int stride = cairo_image_surface_get_stride(ed->result_surface);
    for (int y = 0; y < r->height; y++) {
      uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
      const uint8_t *s = r->rgba + (size_t)y * r->width * 4;
      for (int x = 0; x < r->width; x++)
        row[x] = 0xff000000u | (uint32_t)s[4 * x] << 16 | (uint32_t)s[4 * x + 1] << 8 | s[4 * x + 2];
    }
    cairo_surface_mark_dirty(ed->result_surface);
  }
  gtk_widget_queue_draw(ed->canvas);
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int aw, int ah, gpointer data) {
  (void)area;
  dg_editor *ed = data;
  if (ed->fit) apply_fit(ed, aw, ah);
  int W = dg_document_width(ed->doc), H = dg_document_height(ed->doc);
  cairo_set_source_rgb(cr, 0.17, 0.17, 0.19);
  cairo_paint(cr);

  cairo_save(cr);
  cairo_translate(cr, ed->origin_x, ed->origin_y);
  cairo_scale(cr, ed->zoom, ed->zoom);
  cairo_rectangle(cr, 0, 0, W, H);
  cairo_clip(cr);
  double opacity = 1.0;
  if (ed->result_surface) {
    double sx = (double)W / cairo_image_surface_get_width(ed->result_surface),
           sy = (double)H / cairo_image_surface_get_height(ed->result_surface);
    cairo_save(cr);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, ed->result_surface, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    opacity = ed->overlay_opacity;
  }
  cairo_set_source_surface(cr, ed->layout_surface, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint_with_alpha(cr, opacity);
  cairo_restore(cr);

  // Frame around the canvas.
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
  cairo_rectangle(cr, floor(ed->origin_x) - 0.5, floor(ed->origin_y) - 0.5, W * ed->zoom + 1, H * ed->zoom + 1);
  cairo_stroke(cr);

  // Tool feedback: brush outline, rectangle in progress, polygon in progress.
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_set_line_width(cr, 1.5);
  if (ed->pointer_in && (ed->tool == DG_TOOL_BRUSH || ed->tool == DG_TOOL_ERASER)) {
    cairo_arc(cr, ed->pointer_x, ed->pointer_y, fmax(1.5, ed->brush_radius * ed->zoom), 0, 2 * M_PI);
    cairo_stroke(cr);
  }
  if (ed->dragging && ed->tool == DG_TOOL_RECT) {
    double px, py;
    to_layout(ed, ed->pointer_x, ed->pointer_y, &px, &py);
    double x0 = fmin(floor(ed->drag_x), floor(px)), y0 = fmin(floor(ed->drag_y), floor(py));
    double x1 = fmax(floor(ed->drag_x), floor(px)) + 1, y1 = fmax(floor(ed->drag_y), floor(py)) + 1;
    cairo_rectangle(cr, ed->origin_x + x0 * ed->zoom, ed->origin_y + y0 * ed->zoom, (x1 - x0) * ed->zoom,
                    (y1 - y0) * ed->zoom);
    cairo_stroke(cr);
  }
  if (ed->polygon->len > 0) {
    for (guint i = 0; i < ed->polygon->len / 2; i++) {
      double x = ed->origin_x + g_array_index(ed->polygon, double, 2 * i) * ed->zoom;
      double y = ed->origin_y + g_array_index(ed->polygon, double, 2 * i + 1) * ed->zoom;
      if (i == 0)
        cairo_move_to(cr, x, y);
      else
        cairo_line_to(cr, x, y);
    }
    if (ed->pointer_in) cairo_line_to(cr, ed->pointer_x, ed->pointer_y);
    cairo_stroke(cr);
  }
}

static void finish_polygon(dg_editor *ed) {
  guint n = ed->polygon->len / 2;
  if (n >= 3) dg_document_fill_polygon(ed->doc, (const double *)(void *)ed->polygon->data, (int)n, ed->cls);
  g_array_set_size(ed->polygon, 0);
  gtk_widget_queue_draw(ed->canvas);
}

static void drag_begin(GtkGestureDrag *g, double sx, double sy, gpointer data) {
  dg_editor *ed = data;
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g));
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  gtk_widget_grab_focus(ed->canvas);
  if (button == GDK_BUTTON_MIDDLE || (mods & GDK_SHIFT_MASK)) {
    ed->panning = true;
    if (ed->fit) apply_fit(ed, gtk_widget_get_width(ed->canvas), gtk_widget_get_height(ed->canvas));
    ed->fit = false;
    ed->pan_ox = ed->origin_x, ed->pan_oy = ed->origin_y;
    return;
  }
  if (button == GDK_BUTTON_SECONDARY) {
    if (ed->tool == DG_TOOL_POLYGON) finish_polygon(ed);
    return;
  }
  double x, y;
  to_layout(ed, sx, sy, &x, &y);
  ed->dragging = true;
  ed->drag_x = ed->last_x = x;
  ed->drag_y = ed->last_y = y;
  switch (ed->tool) {
  case DG_TOOL_BRUSH:
  case DG_TOOL_ERASER:
    dg_document_edit_begin(ed->doc);
    dg_document_paint_dab(ed->doc, x, y, ed->brush_radius, ed->tool == DG_TOOL_ERASER ? DG_UNLABELLED : ed->cls);
    break;
  case DG_TOOL_FILL: dg_document_flood_fill(ed->doc, (int)floor(x), (int)floor(y), ed->cls); break;
  case DG_TOOL_EYEDROPPER: {
    int id = dg_document_pixel(ed->doc, (int)floor(x), (int)floor(y));
    if (id >= 0 && id != DG_UNLABELLED) dg_editor_select_class(ed, id);
    break;
  }
  case DG_TOOL_POLYGON: {
    // Clicking near the first vertex (within 8 screen pixels) closes the polygon.
    if (ed->polygon->len >= 6) {
      double fx = g_array_index(ed->polygon, double, 0), fy = g_array_index(ed->polygon, double, 1);
      if (hypot((fx - x) * ed->zoom, (fy - y) * ed->zoom) < 8) {
        finish_polygon(ed);
        break;
      }
    }
    g_array_append_val(ed->polygon, x);
    g_array_append_val(ed->polygon, y);
    break;
  }
  default: break;
  }
  gtk_widget_queue_draw(ed->canvas);
}

static void drag_update(GtkGestureDrag *g, double dx, double dy, gpointer data) {
  dg_editor *ed = data;
  double sx, sy;
  gtk_gesture_drag_get_start_point(g, &sx, &sy);
  ed->pointer_x = sx + dx, ed->pointer_y = sy + dy;
  if (ed->panning) {
    ed->origin_x = ed->pan_ox + dx, ed->origin_y = ed->pan_oy + dy;
    gtk_widget_queue_draw(ed->canvas);
    return;
  }
  if (!ed->dragging) return;
  double x, y;
  to_layout(ed, sx + dx, sy + dy, &x, &y);
  if (ed->tool == DG_TOOL_BRUSH || ed->tool == DG_TOOL_ERASER) {
    dg_document_paint_line(ed->doc, ed->last_x, ed->last_y, x, y, ed->brush_radius,
                           ed->tool == DG_TOOL_ERASER ? DG_UNLABELLED : ed->cls);
    ed->last_x = x, ed->last_y = y;
  }
  gtk_widget_queue_draw(ed->canvas);
}

static void drag_end(GtkGestureDrag *g, double dx, double dy, gpointer data) {
  dg_editor *ed = data;
  if (ed->panning) {
    ed->panning = false;
    return;
  }
  if (!ed->dragging) return;
  ed->dragging = false;
  double sx, sy, x, y;
  gtk_gesture_drag_get_start_point(g, &sx, &sy);
  to_layout(ed, sx + dx, sy + dy, &x, &y);
  if (ed->tool == DG_TOOL_BRUSH || ed->tool == DG_TOOL_ERASER) {
    dg_document_edit_end(ed->doc);
  } else if (ed->tool == DG_TOOL_RECT) {
    dg_document_fill_rect(ed->doc, (int)floor(ed->drag_x), (int)floor(ed->drag_y), (int)floor(x), (int)floor(y),
                          ed->cls);
  }
  gtk_widget_queue_draw(ed->canvas);
}

static void motion(GtkEventControllerMotion *m, double x, double y, gpointer data) {
  (void)m;
  dg_editor *ed = data;
  ed->pointer_x = x, ed->pointer_y = y, ed->pointer_in = true;
  double lx, ly;
  to_layout(ed, x, y, &lx, &ly);
  int id = dg_document_pixel(ed->doc, (int)floor(lx), (int)floor(ly));
  if (id >= 0) {
    const char *name = dg_palette_name(ed->palette, id);
    dg_editor_set_status(ed, "x %d  y %d  ·  %s", (int)floor(lx), (int)floor(ly), name ? name : "?");
  }
  if (ed->tool == DG_TOOL_BRUSH || ed->tool == DG_TOOL_ERASER || ed->polygon->len) gtk_widget_queue_draw(ed->canvas);
}

static void leave(GtkEventControllerMotion *m, gpointer data) {
  (void)m;
  dg_editor *ed = data;
  ed->pointer_in = false;
  gtk_widget_queue_draw(ed->canvas);
}

static gboolean scroll(GtkEventControllerScroll *s, double dx, double dy, gpointer data) {
  (void)s, (void)dx;
  dg_editor *ed = data;
  dg_canvas_zoom(ed, dy < 0 ? 1.25 : 0.8, ed->pointer_x, ed->pointer_y);
  return TRUE;
}

static gboolean key_pressed(GtkEventControllerKey *k, guint keyval, guint code, GdkModifierType mods, gpointer data) {
  (void)k, (void)code, (void)mods;
  dg_editor *ed = data;
  if (ed->tool == DG_TOOL_POLYGON && (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter)) {
    finish_polygon(ed);
    return TRUE;
  }
  if (ed->polygon->len && keyval == GDK_KEY_Escape) {
    g_array_set_size(ed->polygon, 0);
    gtk_widget_queue_draw(ed->canvas);
    return TRUE;
  }
  return FALSE;
}

GtkWidget *dg_canvas_new(dg_editor *ed) {
  GtkWidget *area = gtk_drawing_area_new();
  ed->canvas = area;
  gtk_widget_set_hexpand(area, TRUE);
  gtk_widget_set_vexpand(area, TRUE);
  gtk_widget_set_focusable(area, TRUE);
  gtk_widget_set_size_request(area, 400, 260);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(area), draw, ed, NULL);
  gtk_widget_set_cursor_from_name(area, "crosshair");

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin), ed);
  g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update), ed);
  g_signal_connect(drag, "drag-end", G_CALLBACK(drag_end), ed);
  gtk_widget_add_controller(area, GTK_EVENT_CONTROLLER(drag));

  GtkEventController *m = gtk_event_controller_motion_new();
  g_signal_connect(m, "motion", G_CALLBACK(motion), ed);
  g_signal_connect(m, "leave", G_CALLBACK(leave), ed);
  gtk_widget_add_controller(area, m);

  GtkEventController *s = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(s, "scroll", G_CALLBACK(scroll), ed);
  gtk_widget_add_controller(area, s);

  GtkEventController *k = gtk_event_controller_key_new();
  g_signal_connect(k, "key-pressed", G_CALLBACK(key_pressed), ed);
  gtk_widget_add_controller(area, k);
  return area;
}
