// The video timeline panel under the canvas (template dg_timeline_panel.ui): frame count, fps, TAR's σ and
// `until`, keep-layout, the track of prompt stages (DgTimelineTrack) with the playhead, the selected
// stage's prompt, play/pause/loop of the generated video, the frame at the playhead (while a video is
// generated: the predicted frame there, from the runner's preview), the temporal attention matrix as a
// picture (the chosen layer and step's: the running job's as soon as that step has run, else the video's), a strip of the video's frames, and the export's progress. Edits go through the document's
// timeline commands (app/dg_timeline_edit.h). Properties: playhead, playing, loop.
#pragma once
#include "dg_document_view.h"
#include "dg_job_runner.h"
#include "dg_video_exporter.h"

G_BEGIN_DECLS

#define DG_TYPE_TIMELINE_PANEL (dg_timeline_panel_get_type())
G_DECLARE_FINAL_TYPE(DgTimelinePanel, dg_timeline_panel, DG, TIMELINE_PANEL, DgDocumentView)

// The runner whose video jobs preview the playhead's frame, and the exporter whose progress it shows.
void dg_timeline_panel_show_runner(DgTimelinePanel *self, DgJobRunner *runner);
void dg_timeline_panel_show_exporter(DgTimelinePanel *self, DgVideoExporter *exporter);
int dg_timeline_panel_get_playhead(DgTimelinePanel *self);
void dg_timeline_panel_set_playhead(DgTimelinePanel *self, int frame); // clamped to the clip
gboolean dg_timeline_panel_get_playing(DgTimelinePanel *self);
// Plays the document's video from the playhead at the timeline's fps (needs a video); stops at the end
// unless looping.
void dg_timeline_panel_set_playing(DgTimelinePanel *self, gboolean playing);
gboolean dg_timeline_panel_get_loop(DgTimelinePanel *self);
void dg_timeline_panel_set_loop(DgTimelinePanel *self, gboolean loop);
int dg_timeline_panel_get_selected(DgTimelinePanel *self); // the selected stage, -1 for none
void dg_timeline_panel_set_selected(DgTimelinePanel *self, int stage);
// What the viewer shows ("" for nothing, else "WxH SHA-256 of the RGBA pixels") and the attention
// picture's size in frames (0: none), for dump-state.
char *dg_timeline_panel_describe_viewer(DgTimelinePanel *self);
int dg_timeline_panel_get_attention_frames(DgTimelinePanel *self);
// Whether the attention picture is the running video job's (sent once its capture step ran), not the video's.
gboolean dg_timeline_panel_get_attention_live(DgTimelinePanel *self);
// The attn layer and attn step spins' ranges: 0 .. layers - 1 (the model's video UNet's temporal layers, or the
// timeline's bound when it has none) and 0 .. steps - 1 (the document's steps).
void dg_timeline_panel_get_attention_range(DgTimelinePanel *self, int *layers, int *steps);
int dg_timeline_panel_get_strip_frames(DgTimelinePanel *self);
GtkWidget *dg_timeline_panel_get_track(DgTimelinePanel *self); // the DgTimelineTrack

G_END_DECLS
