#include "dg_timeline_panel.h"

#include "dg_model_choice.h"
#include "dg_timeline_edit.h"
#include "dg_timeline_track.h"

#define THUMB_H 40

struct _DgTimelinePanel {
  DgDocumentView parent;
  GtkWidget *frames_drop, *vsp_drop, *fps_spin, *sigma_spin, *sigma_next_spin, *until_spin, *track,
      *attention_layer_spin, *attention_step_spin, *stage_label, *stage_entry, *remove_button, *frame_label, *scrub,
      *export_progress, *export_stack, *viewer, *attention, *strip;
  GtkAdjustment *playhead_adj;
  DgJobRunner *runner; // not owned (the window's)
  GPtrArray *frames;   // GdkTexture per frame of the document's video
  int attention_frames;
  int model_layers;    // the temporal layers of the document's model's video UNet, 0: unknown (none found)
  guint clamp_id;      // the attention choice is clamped to a smaller range once the edit is on the history
  bool attention_live; // the picture is the running job's
  gboolean playing, loop;
  guint play_id;
};

G_DEFINE_FINAL_TYPE(DgTimelinePanel, dg_timeline_panel, DG_TYPE_DOCUMENT_VIEW)

enum { PROP_0, PROP_PLAYHEAD, PROP_PLAYING, PROP_LOOP, N_PROPS };
static GParamSpec *props[N_PROPS];

static const int frame_choices[] = {16, 32, 64};

static dg_document *model(DgTimelinePanel *self) {
  DgDocument *doc = dg_document_view_get_document(DG_DOCUMENT_VIEW(self));
  return doc ? dg_document_object_get_model(doc) : NULL;
}
static const dg_timeline *timeline(DgTimelinePanel *self) {
  return model(self) ? dg_document_timeline(model(self)) : NULL;
}
static void report(DgTimelinePanel *self, dg_status st) {
  if (st != DG_OK) dg_document_view_status(DG_DOCUMENT_VIEW(self), "%s", dg_last_error());
}

// ---- the viewer: the frame at the playhead, or the runner's preview while it generates a video ----------

static void update_viewer(DgTimelinePanel *self) {
  int f = dg_timeline_panel_get_playhead(self);
  GdkPaintable *p = NULL;
  if (self->runner && dg_job_runner_get_video(self->runner))
    g_object_get(self->runner, "preview", &p, NULL);
  else if (self->frames && f < (int)self->frames->len)
    p = g_object_ref(g_ptr_array_index(self->frames, f));
  gtk_picture_set_paintable(GTK_PICTURE(self->viewer), p);
  g_clear_object(&p);
  const dg_timeline *t = timeline(self);
  char *text = g_strdup_printf("Frame %d / %d", f + 1, t ? t->frames : 0);
  gtk_label_set_text(GTK_LABEL(self->frame_label), text);
  g_free(text);
}

char *dg_timeline_panel_describe_viewer(DgTimelinePanel *self) {
  return dg_paintable_describe(gtk_picture_get_paintable(GTK_PICTURE(self->viewer)));
}

// ---- the playhead and playback ---------------------------------------------------------------------

int dg_timeline_panel_get_playhead(DgTimelinePanel *self) {
  return dg_timeline_track_get_playhead(DG_TIMELINE_TRACK(self->track));
}
void dg_timeline_panel_set_playhead(DgTimelinePanel *self, int frame) {
  dg_timeline_track_set_playhead(DG_TIMELINE_TRACK(self->track), frame);
}

// The track's playhead is the one; the scale, the viewer and a running video job follow it.
static void playhead_moved(DgTimelinePanel *self) {
  int f = dg_timeline_panel_get_playhead(self);
  if ((int)gtk_adjustment_get_value(self->playhead_adj) != f) gtk_adjustment_set_value(self->playhead_adj, f);
  if (self->runner) dg_job_runner_set_playhead(self->runner, f);
  update_viewer(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYHEAD]);
}
static void scrubbed(GtkAdjustment *adj, DgTimelinePanel *self) {
  dg_timeline_panel_set_playhead(self, (int)(gtk_adjustment_get_value(adj) + 0.5));
}

static gboolean play_tick(gpointer data);

static void restart_timer(DgTimelinePanel *self) {
  if (self->play_id) g_source_remove(self->play_id);
  self->play_id = 0;
  const dg_timeline *t = timeline(self);
  if (self->playing && t) self->play_id = g_timeout_add((guint)(1000.0 / t->fps), play_tick, self);
}

void dg_timeline_panel_set_playing(DgTimelinePanel *self, gboolean playing) {
  playing = playing && self->frames && self->frames->len > 0;
  if (playing == self->playing) return;
  self->playing = playing;
  const dg_timeline *t = timeline(self);
  // Play from the start when the playhead is at the end.
  if (playing && t && dg_timeline_panel_get_playhead(self) >= t->frames - 1) dg_timeline_panel_set_playhead(self, 0);
  restart_timer(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYING]);
}
gboolean dg_timeline_panel_get_playing(DgTimelinePanel *self) { return self->playing; }

static gboolean play_tick(gpointer data) {
  DgTimelinePanel *self = data;
  const dg_timeline *t = timeline(self);
  int f = dg_timeline_panel_get_playhead(self) + 1;
  if (t && f >= t->frames) {
    if (!self->loop) {
      self->play_id = 0;
      dg_timeline_panel_set_playing(self, FALSE);
      return G_SOURCE_REMOVE;
    }
    f = 0;
  }
  dg_timeline_panel_set_playhead(self, f);
  return G_SOURCE_CONTINUE;
}

void dg_timeline_panel_set_loop(DgTimelinePanel *self, gboolean loop) {
  if (loop == self->loop) return;
  self->loop = loop;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOOP]);
}
gboolean dg_timeline_panel_get_loop(DgTimelinePanel *self) { return self->loop; }

// ---- the controls follow the document's timeline ------------------------------------------------------

static void stage_typed(DgTimelinePanel *self);

static void show_stage(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  int i = dg_timeline_panel_get_selected(self);
  bool has = t && i >= 0 && i < t->n_stages;
  char *label = has ? g_strdup_printf("Stage %d at", i + 1) : g_strdup("No stage");
  char *at = has ? g_strdup_printf("%s %d", label, t->stages[i].frame) : g_strdup(label);
  gtk_label_set_text(GTK_LABEL(self->stage_label), at);
  g_free(label), g_free(at);
  const char *text = has ? t->stages[i].prompt : "";
  // Showing the prompt is no typing: set_text empties the entry first, which would edit the stage.
  if (strcmp(gtk_editable_get_text(GTK_EDITABLE(self->stage_entry)), text)) {
    g_signal_handlers_block_by_func(self->stage_entry, stage_typed, self);
    gtk_editable_set_text(GTK_EDITABLE(self->stage_entry), text);
    g_signal_handlers_unblock_by_func(self->stage_entry, stage_typed, self);
  }
  gtk_widget_set_sensitive(self->stage_entry, has);
  gtk_widget_set_sensitive(self->remove_button, has);
}

static void show_attention_choice(DgTimelinePanel *self);

static void timeline_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (!t) return;
  // 16, 32, 64, and a fourth entry naming any other count (a project or a script may set one)
  guint sel = G_N_ELEMENTS(frame_choices);
  for (guint i = 0; i < G_N_ELEMENTS(frame_choices); i++)
    if (frame_choices[i] == t->frames) sel = i;
  GtkStringList *list = GTK_STRING_LIST(gtk_drop_down_get_model(GTK_DROP_DOWN(self->frames_drop)));
  char *other = sel == G_N_ELEMENTS(frame_choices) ? g_strdup_printf("%d frames", t->frames) : NULL;
  const char *items[] = {other, NULL};
  guint n = g_list_model_get_n_items(G_LIST_MODEL(list));
  if (other && (n == G_N_ELEMENTS(frame_choices) || strcmp(gtk_string_list_get_string(list, n - 1), other)))
    gtk_string_list_splice(list, G_N_ELEMENTS(frame_choices), n - G_N_ELEMENTS(frame_choices), items);
  else if (!other && n > G_N_ELEMENTS(frame_choices))
    gtk_string_list_splice(list, G_N_ELEMENTS(frame_choices), n - G_N_ELEMENTS(frame_choices), NULL);
  g_free(other);
  if (gtk_drop_down_get_selected(GTK_DROP_DOWN(self->frames_drop)) != sel)
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->frames_drop), sel);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->fps_spin), t->fps);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->sigma_spin), t->sigma_fine);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->sigma_next_spin), t->sigma_next);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->until_spin), t->until);
  show_attention_choice(self);
  if (gtk_drop_down_get_selected(GTK_DROP_DOWN(self->vsp_drop)) != (guint)t->vsp)
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->vsp_drop), (guint)t->vsp); // off 0, linear 1, same 2
  gtk_adjustment_set_upper(self->playhead_adj, t->frames - 1);
  dg_timeline_track_refresh(DG_TIMELINE_TRACK(self->track));
  show_stage(self);
  update_viewer(self);
  if (self->playing) restart_timer(self); // the fps may have changed
}

// Widgets to edits: each compares with the document first, so showing the document's values edits nothing.
static void frames_chosen(DgTimelinePanel *self) {
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->frames_drop));
  const dg_timeline *t = timeline(self);
  if (t && i < G_N_ELEMENTS(frame_choices) && frame_choices[i] != t->frames)
    report(self, dg_timeline_edit_set_frames(model(self), frame_choices[i]));
}
static void fps_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  double v = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->fps_spin));
  if (t && v != t->fps) report(self, dg_timeline_edit_set_fps(model(self), v));
}
// Each TAR spin edits its own value only, so that showing the document's values edits nothing.
static void tar_edit(DgTimelinePanel *self, double fine, double next, int until) {
  const dg_timeline *t = timeline(self);
  if (t && (fine != t->sigma_fine || next != t->sigma_next || until != t->until))
    report(self, dg_timeline_edit_set_tar(model(self), fine, next, until));
}
static void sigma_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (t) tar_edit(self, gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->sigma_spin)), t->sigma_next, t->until);
}
static void sigma_next_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (t) tar_edit(self, t->sigma_fine, gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->sigma_next_spin)), t->until);
}
static void until_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (t)
    tar_edit(self, t->sigma_fine, t->sigma_next, gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->until_spin)));
}
// As TAR's: each spin edits its own value only.
static void attention_edit(DgTimelinePanel *self, int layer, int step) {
  const dg_timeline *t = timeline(self);
  if (t && (layer != t->attention_layer || step != t->attention_step))
    report(self, dg_timeline_edit_set_attention(model(self), layer, step));
}
static void attention_layer_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (t)
    attention_edit(self, gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->attention_layer_spin)),
                   t->attention_step);
}
static void attention_step_changed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (t)
    attention_edit(self, t->attention_layer,
                   gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->attention_step_spin)));
}

// ---- the attention picture's choice: ranges of the model's temporal layers and the run's steps ----------

// 0 .. the layers of the model's video UNet (without one, or before a model is read: the timeline's bound; the
// job checks the model it loads).
static int attention_layers(DgTimelinePanel *self) {
  return self->model_layers > 0 ? self->model_layers : DG_TIMELINE_MAX_ATTENTION_LAYER + 1;
}
static int attention_steps(DgTimelinePanel *self) { return model(self) ? dg_document_steps(model(self)) : 1; }

// A spin's range and value, shown without editing the document (a value out of the range shows clamped).
static void show_attention_spin(DgTimelinePanel *self, GtkWidget *spin, GCallback changed, int count, int value) {
  g_signal_handlers_block_by_func(spin, changed, self);
  gtk_spin_button_set_range(GTK_SPIN_BUTTON(spin), 0, MAX(count, 1) - 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), value);
  g_signal_handlers_unblock_by_func(spin, changed, self);
}
static void show_attention_choice(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  if (!t) return;
  show_attention_spin(self, self->attention_layer_spin, G_CALLBACK(attention_layer_changed), attention_layers(self),
                      t->attention_layer);
  show_attention_spin(self, self->attention_step_spin, G_CALLBACK(attention_step_changed), attention_steps(self),
                      t->attention_step);
}

// After an edit of the model or the steps: a layer or a step past the new range becomes its last, one undo step
// of its own after the edit's (so that the next video job does not fail on it). Not after an undo (something to
// redo): undoing the clamp and then the edit gives the choice back as it was. Opening a project clamps nothing.
static gboolean clamp_attention(gpointer data) {
  DgTimelinePanel *self = data;
  self->clamp_id = 0;
  const dg_timeline *t = timeline(self);
  if (!t || dg_document_can_redo(model(self))) return G_SOURCE_REMOVE;
  int layer = MIN(t->attention_layer, attention_layers(self) - 1);
  int step = MIN(t->attention_step, attention_steps(self) - 1);
  if (layer != t->attention_layer || step != t->attention_step)
    report(self, dg_timeline_edit_set_attention(model(self), layer, step));
  return G_SOURCE_REMOVE;
}
static void attention_range_changed(DgTimelinePanel *self) {
  show_attention_choice(self);
  if (!self->clamp_id) self->clamp_id = g_idle_add_full(G_PRIORITY_DEFAULT, clamp_attention, self, NULL);
}
static void read_model_layers(DgTimelinePanel *self) {
  char *path = dg_model_choice_path(dg_document_model(model(self)));
  self->model_layers = dg_model_choice_video_layers(path);
  g_free(path);
}
static void doc_model_changed(DgDocument *doc, GParamSpec *pspec, DgTimelinePanel *self) {
  (void)doc, (void)pspec;
  read_model_layers(self);
  attention_range_changed(self);
}
static void doc_steps_changed(DgDocument *doc, GParamSpec *pspec, DgTimelinePanel *self) {
  (void)doc, (void)pspec;
  attention_range_changed(self);
}
void dg_timeline_panel_get_attention_range(DgTimelinePanel *self, int *layers, int *steps) {
  *layers = attention_layers(self), *steps = attention_steps(self);
}

static void vsp_chosen(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->vsp_drop));
  if (t && i <= DG_VSP_SAME && (dg_vsp_mode)i != t->vsp)
    report(self, dg_timeline_edit_set_vsp(model(self), (dg_vsp_mode)i));
}
// Typing into the stage's prompt: one undo step until Enter or another stage is selected.
static void stage_typed(DgTimelinePanel *self) {
  const dg_timeline *t = timeline(self);
  int i = dg_timeline_panel_get_selected(self);
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->stage_entry));
  if (t && i >= 0 && i < t->n_stages && strcmp(text, t->stages[i].prompt))
    report(self, dg_timeline_edit_set_prompt(model(self), i, text, true));
}
static void stage_sealed(DgTimelinePanel *self) {
  if (model(self)) dg_document_seal_history(model(self));
}
static void add_clicked(DgTimelinePanel *self) {
  dg_document *m = model(self);
  if (!m) return;
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->stage_entry));
  const char *prompt = *dg_document_prompt(m) ? dg_document_prompt(m) : *text ? text : "a new stage";
  int f = dg_timeline_panel_get_playhead(self);
  dg_status st = dg_timeline_edit_add_stage(m, f, prompt);
  report(self, st);
  for (int i = 0; st == DG_OK && i < timeline(self)->n_stages; i++)
    if (timeline(self)->stages[i].frame == f) dg_timeline_panel_set_selected(self, i);
}
static void remove_clicked(DgTimelinePanel *self) {
  if (model(self)) report(self, dg_timeline_edit_remove_stage(model(self), dg_timeline_panel_get_selected(self)));
}
static void track_status(DgTimelinePanel *self, const char *text) {
  dg_document_view_status(DG_DOCUMENT_VIEW(self), "%s", text);
}
static void selection_moved(DgTimelinePanel *self) {
  stage_sealed(self);
  show_stage(self);
}

int dg_timeline_panel_get_selected(DgTimelinePanel *self) {
  return dg_timeline_track_get_selected(DG_TIMELINE_TRACK(self->track));
}
void dg_timeline_panel_set_selected(DgTimelinePanel *self, int stage) {
  dg_timeline_track_set_selected(DG_TIMELINE_TRACK(self->track), stage);
}

// ---- the video: frame textures, the strip, the attention picture ----------------------------------------

static void strip_clicked(GtkGestureClick *g, int n, double x, double y, DgTimelinePanel *self) {
  (void)n, (void)x, (void)y;
  GtkWidget *w = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(g));
  dg_timeline_panel_set_playhead(self, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(w), "frame")));
}

// Rows scaled to their maximum, as `dirigent-cli video generate --attention` draws it, cells of `cell` pixels.
static GdkTexture *attention_texture(const float *a, int f) {
  int cell = f < 96 ? 96 / f : 1, side = f * cell;
  guchar *px = g_malloc((gsize)side * side * 3);
  for (int i = 0; i < f; i++) {
    float mx = 1e-12f;
    for (int j = 0; j < f; j++)
      mx = a[i * f + j] > mx ? a[i * f + j] : mx;
    for (int y = 0; y < cell; y++)
      for (int j = 0; j < f; j++)
        memset(px + ((gsize)(i * cell + y) * side + (gsize)j * cell) * 3, (int)(255.0f * a[i * f + j] / mx + 0.5f),
               (gsize)cell * 3);
  }
  GBytes *b = g_bytes_new_take(px, (gsize)side * side * 3);
  GdkTexture *t = gdk_memory_texture_new(side, side, GDK_MEMORY_R8G8B8, b, (gsize)side * 3);
  g_bytes_unref(b);
  return t;
}

// The attention picture: matrix a [f, f] (NULL: none) of temporal layer `layer` at step `step`; `live` while the
// running job's.
static void show_attention(DgTimelinePanel *self, const float *a, int f, int layer, int step, bool live) {
  GdkTexture *t = a && f > 0 ? attention_texture(a, f) : NULL;
  gtk_picture_set_paintable(GTK_PICTURE(self->attention), t ? GDK_PAINTABLE(t) : NULL);
  if (t) g_object_unref(t);
  self->attention_frames = t ? f : 0;
  self->attention_live = t && live;
  char *tip = t ? g_strdup_printf("Temporal attention of temporal layer %d at step %d%s: row i is how frame i attends "
                                  "to every frame (each row scaled to its maximum)",
                                  layer, step, live ? ", of the video being generated" : "")
                : g_strdup("The temporal attention picture (attn layer, attn step) appears once a video generates");
  gtk_widget_set_tooltip_text(self->attention, tip);
  g_free(tip);
}

// The document's video's picture, unless a running video job has sent its own.
static void show_video_attention(DgTimelinePanel *self) {
  int f = 0;
  const float *live = self->runner && dg_job_runner_get_video(self->runner)
                          ? dg_job_runner_get_attention(self->runner, &f)
                          : NULL;
  const dg_timeline *t = timeline(self);
  if (live && t) {
    show_attention(self, live, f, t->attention_layer, t->attention_step, true);
    return;
  }
  const dg_video_result *v = model(self) ? dg_document_video(model(self)) : NULL;
  show_attention(self, v ? v->attention : NULL, v ? v->attention_frames : 0, v ? v->timeline.attention_layer : 0,
                 v ? v->timeline.attention_step : 0, false);
}

static void video_changed(DgTimelinePanel *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->strip)))
    gtk_box_remove(GTK_BOX(self->strip), child);
  g_clear_pointer(&self->frames, g_ptr_array_unref);
  show_video_attention(self);
  const dg_video_result *v = model(self) ? dg_document_video(model(self)) : NULL;
  if (v) {
    const dg_media *m = &v->frames;
    self->frames = g_ptr_array_new_with_free_func(g_object_unref);
    for (int i = 0; i < m->frames; i++) {
      GBytes *b = g_bytes_new(dg_media_frame(m, i), dg_media_frame_bytes(m));
      GdkTexture *t = gdk_memory_texture_new(m->width, m->height, GDK_MEMORY_R8G8B8A8, b, (gsize)m->width * 4);
      g_bytes_unref(b);
      g_ptr_array_add(self->frames, t);
      GtkWidget *thumb = gtk_picture_new_for_paintable(GDK_PAINTABLE(t));
      gtk_widget_set_size_request(thumb, THUMB_H * m->width / (m->height > 0 ? m->height : 1), THUMB_H);
      gtk_picture_set_can_shrink(GTK_PICTURE(thumb), TRUE);
      char *tip = g_strdup_printf("Frame %d", i + 1);
      gtk_widget_set_tooltip_text(thumb, tip);
      g_free(tip);
      g_object_set_data(G_OBJECT(thumb), "frame", GINT_TO_POINTER(i));
      GtkGesture *click = gtk_gesture_click_new();
      g_signal_connect(click, "pressed", G_CALLBACK(strip_clicked), self);
      gtk_widget_add_controller(thumb, GTK_EVENT_CONTROLLER(click));
      gtk_box_append(GTK_BOX(self->strip), thumb);
    }
  } else {
    dg_timeline_panel_set_playing(self, FALSE);
  }
  update_viewer(self);
}

int dg_timeline_panel_get_attention_frames(DgTimelinePanel *self) { return self->attention_frames; }
gboolean dg_timeline_panel_get_attention_live(DgTimelinePanel *self) { return self->attention_live; }
GtkWidget *dg_timeline_panel_get_track(DgTimelinePanel *self) { return self->track; }
int dg_timeline_panel_get_strip_frames(DgTimelinePanel *self) { return self->frames ? (int)self->frames->len : 0; }

static void doc_timeline_changed(DgDocument *doc, DgTimelinePanel *self) {
  (void)doc;
  timeline_changed(self);
}
static void doc_video_changed(DgDocument *doc, DgTimelinePanel *self) {
  (void)doc;
  video_changed(self);
}

static void dg_timeline_panel_document_changed(DgDocumentView *view, DgDocument *doc) {
  DgTimelinePanel *self = DG_TIMELINE_PANEL(view);
  dg_timeline_panel_set_playing(self, FALSE);
  dg_timeline_track_set_document(DG_TIMELINE_TRACK(self->track), doc);
  if (!doc) return;
  dg_document_view_connect(view, "timeline-changed", G_CALLBACK(doc_timeline_changed));
  dg_document_view_connect(view, "video-changed", G_CALLBACK(doc_video_changed));
  dg_document_view_connect(view, "notify::model", G_CALLBACK(doc_model_changed));
  dg_document_view_connect(view, "notify::steps", G_CALLBACK(doc_steps_changed));
  read_model_layers(self);
  timeline_changed(self);
  video_changed(self);
}

// ---- runner and exporter -----------------------------------------------------------------------------

static void runner_changed(DgTimelinePanel *self) {
  update_viewer(self);
  show_video_attention(self); // the job's once it sends it; the document's video's again when it ends
}

void dg_timeline_panel_show_runner(DgTimelinePanel *self, DgJobRunner *runner) {
  self->runner = runner;
  g_signal_connect_object(runner, "notify::preview", G_CALLBACK(runner_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object(runner, "notify::running", G_CALLBACK(runner_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object(runner, "notify::attention-frames", G_CALLBACK(runner_changed), self, G_CONNECT_SWAPPED);
}

// The export's progress and cancel button take the Export button's place while it runs.
static gboolean running_to_page(GBinding *b, const GValue *from, GValue *to, gpointer data) {
  (void)b, (void)data;
  g_value_set_string(to, g_value_get_boolean(from) ? "running" : "idle");
  return TRUE;
}

void dg_timeline_panel_show_exporter(DgTimelinePanel *self, DgVideoExporter *exporter) {
  g_object_bind_property_full(exporter, "running", self->export_stack, "visible-child-name", G_BINDING_SYNC_CREATE,
                              running_to_page, NULL, NULL, NULL);
  g_object_bind_property(exporter, "fraction", self->export_progress, "fraction", G_BINDING_SYNC_CREATE);
  g_object_bind_property(exporter, "text", self->export_progress, "text", G_BINDING_SYNC_CREATE);
}

// ---- GObject -----------------------------------------------------------------------------------------

static void dg_timeline_panel_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  DgTimelinePanel *self = DG_TIMELINE_PANEL(object);
  switch (id) {
  case PROP_PLAYHEAD: g_value_set_int(value, dg_timeline_panel_get_playhead(self)); break;
  case PROP_PLAYING: g_value_set_boolean(value, self->playing); break;
  case PROP_LOOP: g_value_set_boolean(value, self->loop); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}
static void dg_timeline_panel_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  DgTimelinePanel *self = DG_TIMELINE_PANEL(object);
  switch (id) {
  case PROP_PLAYHEAD: dg_timeline_panel_set_playhead(self, g_value_get_int(value)); break;
  case PROP_PLAYING: dg_timeline_panel_set_playing(self, g_value_get_boolean(value)); break;
  case PROP_LOOP: dg_timeline_panel_set_loop(self, g_value_get_boolean(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void dg_timeline_panel_dispose(GObject *object) {
  DgTimelinePanel *self = DG_TIMELINE_PANEL(object);
  if (self->play_id) g_source_remove(self->play_id);
  if (self->clamp_id) g_source_remove(self->clamp_id);
  self->play_id = self->clamp_id = 0;
  g_clear_pointer(&self->frames, g_ptr_array_unref);
  G_OBJECT_CLASS(dg_timeline_panel_parent_class)->dispose(object);
}

static const dg_template_child children[] = {
    DG_TEMPLATE_CHILD(DgTimelinePanel, frames_drop),     DG_TEMPLATE_CHILD(DgTimelinePanel, vsp_drop),
    DG_TEMPLATE_CHILD(DgTimelinePanel, fps_spin),        DG_TEMPLATE_CHILD(DgTimelinePanel, sigma_spin),
    DG_TEMPLATE_CHILD(DgTimelinePanel, sigma_next_spin), DG_TEMPLATE_CHILD(DgTimelinePanel, until_spin),
    DG_TEMPLATE_CHILD(DgTimelinePanel, attention_layer_spin), DG_TEMPLATE_CHILD(DgTimelinePanel, attention_step_spin),
    DG_TEMPLATE_CHILD(DgTimelinePanel, track),           DG_TEMPLATE_CHILD(DgTimelinePanel, stage_label),
    DG_TEMPLATE_CHILD(DgTimelinePanel, stage_entry),     DG_TEMPLATE_CHILD(DgTimelinePanel, remove_button),
    DG_TEMPLATE_CHILD(DgTimelinePanel, frame_label),     DG_TEMPLATE_CHILD(DgTimelinePanel, scrub),
    DG_TEMPLATE_CHILD(DgTimelinePanel, export_progress), DG_TEMPLATE_CHILD(DgTimelinePanel, export_stack),
    DG_TEMPLATE_CHILD(DgTimelinePanel, viewer),          DG_TEMPLATE_CHILD(DgTimelinePanel, attention),
    DG_TEMPLATE_CHILD(DgTimelinePanel, strip),           DG_TEMPLATE_CHILD(DgTimelinePanel, playhead_adj)};

static void dg_timeline_panel_class_init(DgTimelinePanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = dg_timeline_panel_get_property;
  oc->set_property = dg_timeline_panel_set_property;
  oc->dispose = dg_timeline_panel_dispose;
  DG_DOCUMENT_VIEW_CLASS(klass)->document_changed = dg_timeline_panel_document_changed;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_PLAYHEAD] = g_param_spec_int("playhead", NULL, NULL, 0, G_MAXINT, 0, rw);
  props[PROP_PLAYING] = g_param_spec_boolean("playing", NULL, NULL, FALSE, rw);
  props[PROP_LOOP] = g_param_spec_boolean("loop", NULL, NULL, FALSE, rw);
  g_object_class_install_properties(oc, N_PROPS, props);
  g_type_ensure(DG_TYPE_TIMELINE_TRACK);
  dg_widget_class_set_template(wc, "/org/dirigent/Dirigent/dg_timeline_panel.ui", children, G_N_ELEMENTS(children));
  gtk_widget_class_bind_template_callback(wc, frames_chosen);
  gtk_widget_class_bind_template_callback(wc, fps_changed);
  gtk_widget_class_bind_template_callback(wc, attention_layer_changed);
  gtk_widget_class_bind_template_callback(wc, attention_step_changed);
  gtk_widget_class_bind_template_callback(wc, sigma_changed);
  gtk_widget_class_bind_template_callback(wc, sigma_next_changed);
  gtk_widget_class_bind_template_callback(wc, until_changed);
  gtk_widget_class_bind_template_callback(wc, vsp_chosen);
  gtk_widget_class_bind_template_callback(wc, stage_typed);
  gtk_widget_class_bind_template_callback(wc, stage_sealed);
  gtk_widget_class_bind_template_callback(wc, add_clicked);
  gtk_widget_class_bind_template_callback(wc, remove_clicked);
  gtk_widget_class_bind_template_callback(wc, track_status);
}

static void dg_timeline_panel_init(DgTimelinePanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  g_signal_connect_swapped(self->track, "notify::playhead", G_CALLBACK(playhead_moved), self);
  g_signal_connect_swapped(self->track, "notify::selected", G_CALLBACK(selection_moved), self);
  g_signal_connect(self->playhead_adj, "value-changed", G_CALLBACK(scrubbed), self);
}
