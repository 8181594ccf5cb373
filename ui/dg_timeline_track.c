#include "dg_timeline_track.h"

#include <math.h>

#include "dg_timeline_edit.h"

#define RULER_H 16.0
#define PAD 6.0
#define EDGE 5.0 // pixels either side of a block's right edge that grab it for resizing

typedef enum { DRAG_NONE, DRAG_SCRUB, DRAG_MOVE, DRAG_RESIZE } drag_mode;

struct _DgTimelineTrack {
  GtkWidget parent;
  DgDocument *doc;
  int playhead, selected;
  drag_mode drag;
  int drag_stage, drag_offset; // the stage dragged; the grabbed frame's offset from its start
  double drag_x0, drag_y0;
};

G_DEFINE_FINAL_TYPE(DgTimelineTrack, dg_timeline_track, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_PLAYHEAD, PROP_SELECTED, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_STATUS, N_SIGNALS };
static guint signals[N_SIGNALS];

static const dg_timeline *timeline(DgTimelineTrack *self) {
  return self->doc ? dg_document_timeline(dg_document_object_get_model(self->doc)) : NULL;
}

// Frame f's cell starts at x_of(f); the cells fill the width between the pads.
static double cell_w(DgTimelineTrack *self, const dg_timeline *t) {
  return (gtk_widget_get_width(GTK_WIDGET(self)) - 2 * PAD) / t->frames;
}
static double x_of(DgTimelineTrack *self, const dg_timeline *t, double f) { return PAD + f * cell_w(self, t); }
static int frame_at(DgTimelineTrack *self, const dg_timeline *t, double x) {
  int f = (int)((x - PAD) / cell_w(self, t));
  return f < 0 ? 0 : f >= t->frames ? t->frames - 1 : f;
}
static int stage_end(const dg_timeline *t, int i) { return i + 1 < t->n_stages ? t->stages[i + 1].frame : t->frames; }

void dg_timeline_track_set_playhead(DgTimelineTrack *self, int frame) {
  const dg_timeline *t = timeline(self);
  int max = t ? t->frames - 1 : 0;
  frame = frame < 0 ? 0 : frame > max ? max : frame;
  if (frame == self->playhead) return;
  self->playhead = frame;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYHEAD]);
}
int dg_timeline_track_get_playhead(DgTimelineTrack *self) { return self->playhead; }

void dg_timeline_track_set_selected(DgTimelineTrack *self, int stage) {
  const dg_timeline *t = timeline(self);
  if (!t || stage < -1 || stage >= t->n_stages) stage = -1;
  if (stage == self->selected) return;
  self->selected = stage;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SELECTED]);
}
int dg_timeline_track_get_selected(DgTimelineTrack *self) { return self->selected; }

void dg_timeline_track_refresh(DgTimelineTrack *self) {
  const dg_timeline *t = timeline(self);
  dg_timeline_track_set_playhead(self, self->playhead);
  if (t && self->selected >= t->n_stages) dg_timeline_track_set_selected(self, t->n_stages - 1);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void dg_timeline_track_set_document(DgTimelineTrack *self, DgDocument *doc) {
  self->doc = doc;
  self->selected = -1;
  dg_timeline_track_refresh(self);
}

// ---- drawing -----------------------------------------------------------------------------------------

static void fill(GtkSnapshot *s, double x, double y, double w, double h, float r, float g, float b, float a) {
  GdkRGBA c = {r, g, b, a};
  gtk_snapshot_append_color(s, &c, &GRAPHENE_RECT_INIT((float)x, (float)y, (float)w, (float)h));
}

static void dg_timeline_track_snapshot(GtkWidget *widget, GtkSnapshot *s) {
  DgTimelineTrack *self = DG_TIMELINE_TRACK(widget);
  const dg_timeline *t = timeline(self);
  double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  fill(s, 0, 0, w, h, 0.16f, 0.16f, 0.18f, 1);
  if (!t) return;
  double cw = cell_w(self, t);
  // the ruler: a tick per frame, longer every 8
  for (int f = 0; f <= t->frames; f++) {
    double tick = f % 8 == 0 ? RULER_H - 2 : RULER_H / 3;
    fill(s, x_of(self, t, f), RULER_H - tick, 1, tick, 0.6f, 0.6f, 0.65f, 1);
  }
  // the stages as blocks
  PangoLayout *layout = gtk_widget_create_pango_layout(widget, NULL);
  for (int i = 0; i < t->n_stages; i++) {
    double x0 = x_of(self, t, t->stages[i].frame), x1 = x_of(self, t, stage_end(t, i));
    float hue = (float)(i % 4) * 0.08f;
    bool sel = i == self->selected;
    fill(s, x0 + 1, RULER_H + 3, x1 - x0 - 2, h - RULER_H - 6, 0.22f + hue, 0.38f + hue / 2, 0.62f - hue,
         sel ? 1.0f : 0.75f);
    if (sel) fill(s, x0 + 1, h - 5, x1 - x0 - 2, 2, 1, 1, 1, 0.9f);
    fill(s, x1 - 2, RULER_H + 3, 2, h - RULER_H - 6, 0.9f, 0.9f, 0.95f, 0.8f); // the edge to resize by
    char *text = g_strdup_printf("%d: %s", t->stages[i].frame, t->stages[i].prompt);
    pango_layout_set_text(layout, text, -1);
    pango_layout_set_width(layout, (int)((x1 - x0 - 8) * PANGO_SCALE));
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT((float)(x0 + 5), (float)(RULER_H + 8)));
    GdkRGBA white = {1, 1, 1, 1};
    gtk_snapshot_append_layout(s, layout, &white);
    gtk_snapshot_restore(s);
    g_free(text);
  }
  g_object_unref(layout);
  if (t->n_stages == 0) {
    PangoLayout *hint = gtk_widget_create_pango_layout(widget, "Double-click to add a prompt stage");
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT((float)PAD + 4, (float)(RULER_H + 8)));
    GdkRGBA grey = {0.7f, 0.7f, 0.7f, 1};
    gtk_snapshot_append_layout(s, hint, &grey);
    gtk_snapshot_restore(s);
    g_object_unref(hint);
  }
  // the playhead: its frame's cell on the ruler and a line through the blocks
  double px = x_of(self, t, self->playhead);
  fill(s, px, 0, cw > 2 ? cw : 2, RULER_H, 0.95f, 0.3f, 0.25f, 0.6f);
  fill(s, px + (cw > 2 ? cw / 2 : 1) - 1, 0, 2, h, 0.95f, 0.3f, 0.25f, 1);
}

// ---- pointer -----------------------------------------------------------------------------------------

static void status(DgTimelineTrack *self, dg_status st) {
  if (st != DG_OK) g_signal_emit(self, signals[SIGNAL_STATUS], 0, dg_last_error());
}

static void drag_begin(GtkGestureDrag *g, double x, double y, DgTimelineTrack *self) {
  (void)g;
  const dg_timeline *t = timeline(self);
  self->drag = DRAG_NONE;
  if (!t) return;
  self->drag_x0 = x, self->drag_y0 = y;
  int f = frame_at(self, t, x);
  if (y >= RULER_H)
    for (int i = 0; i < t->n_stages; i++) {
      double x1 = x_of(self, t, stage_end(t, i));
      if (i + 1 < t->n_stages && fabs(x - x1) <= EDGE) {
        self->drag = DRAG_RESIZE, self->drag_stage = i;
        dg_timeline_track_set_selected(self, i);
        return;
      }
      if (f >= t->stages[i].frame && f < stage_end(t, i)) {
        self->drag = DRAG_MOVE, self->drag_stage = i, self->drag_offset = f - t->stages[i].frame;
        dg_timeline_track_set_selected(self, i);
        return;
      }
    }
  self->drag = DRAG_SCRUB;
  dg_timeline_track_set_playhead(self, f);
}

static void drag_update(GtkGestureDrag *g, double dx, double dy, DgTimelineTrack *self) {
  (void)g, (void)dy;
  const dg_timeline *t = timeline(self);
  if (!t || self->drag == DRAG_NONE) return;
  double x = self->drag_x0 + dx;
  dg_document *m = dg_document_object_get_model(self->doc);
  if (self->drag == DRAG_SCRUB) {
    dg_timeline_track_set_playhead(self, frame_at(self, t, x));
  } else if (self->drag == DRAG_MOVE) {
    int to = frame_at(self, t, x) - self->drag_offset;
    if (to != t->stages[self->drag_stage].frame) status(self, dg_timeline_edit_move_stage(m, self->drag_stage, to, true));
  } else { // the edge lies between cells: the nearest boundary is the next stage's start
    int next = (int)((x - PAD) / cell_w(self, t) + 0.5);
    if (self->drag_stage + 1 < t->n_stages && next != t->stages[self->drag_stage + 1].frame)
      status(self, dg_timeline_edit_set_end(m, self->drag_stage, next - 1, true));
  }
}

static void drag_end(GtkGestureDrag *g, double dx, double dy, DgTimelineTrack *self) {
  (void)g, (void)dx, (void)dy;
  if (self->doc && (self->drag == DRAG_MOVE || self->drag == DRAG_RESIZE))
    dg_document_seal_history(dg_document_object_get_model(self->doc)); // the drag was one step
  self->drag = DRAG_NONE;
}

// A double-click adds a stage at that frame, with the document's prompt to start from.
static void pressed(GtkGestureClick *g, int n, double x, double y, DgTimelineTrack *self) {
  (void)g, (void)y;
  const dg_timeline *t = timeline(self);
  if (n != 2 || !t) return;
  dg_document *m = dg_document_object_get_model(self->doc);
  int f = frame_at(self, t, x);
  const char *prompt = *dg_document_prompt(m) ? dg_document_prompt(m) : "a new stage";
  dg_status st = dg_timeline_edit_add_stage(m, f, prompt);
  status(self, st);
  for (int i = 0; st == DG_OK && i < timeline(self)->n_stages; i++)
    if (timeline(self)->stages[i].frame == f) dg_timeline_track_set_selected(self, i);
}

static void dg_timeline_track_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_base,
                                      int *nat_base) {
  (void)w, (void)for_size, (void)min_base, (void)nat_base;
  *min = o == GTK_ORIENTATION_HORIZONTAL ? 200 : 56;
  *nat = o == GTK_ORIENTATION_HORIZONTAL ? 600 : 56;
}

static void dg_timeline_track_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgTimelineTrack *self = DG_TIMELINE_TRACK(object);
  if (id == PROP_PLAYHEAD) g_value_set_int(value, self->playhead);
  else if (id == PROP_SELECTED) g_value_set_int(value, self->selected);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}
static void dg_timeline_track_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  DgTimelineTrack *self = DG_TIMELINE_TRACK(object);
  if (id == PROP_PLAYHEAD) dg_timeline_track_set_playhead(self, g_value_get_int(value));
  else if (id == PROP_SELECTED) dg_timeline_track_set_selected(self, g_value_get_int(value));
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_timeline_track_class_init(DgTimelineTrackClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = dg_timeline_track_get_property;
  oc->set_property = dg_timeline_track_set_property;
  wc->snapshot = dg_timeline_track_snapshot;
  wc->measure = dg_timeline_track_measure;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_PLAYHEAD] = g_param_spec_int("playhead", NULL, NULL, 0, G_MAXINT, 0, rw);
  props[PROP_SELECTED] = g_param_spec_int("selected", NULL, NULL, -1, G_MAXINT, -1, rw);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIGNAL_STATUS] = g_signal_new("status", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void dg_timeline_track_init(DgTimelineTrack *self) {
  self->selected = -1;
  gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
  GtkGesture *drag = gtk_gesture_drag_new();
  g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(drag_end), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(pressed), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
}
