// The timeline's track: a ruler of frames with the playhead, and the prompt stages as blocks from their
// first frame to the next stage's (drawn in snapshot()). Press on the ruler (or outside the blocks) and
// drag to scrub; drag a block to move its stage, its right edge to resize it (the next stage starts
// after it); double-click to add a stage there. Every edit is a timeline command on the document
// (app/dg_timeline_edit.h); a drag is one undo step. Properties: playhead (frame), selected (stage, -1).
// "status" (text) for messages.
#pragma once
#include <gtk/gtk.h>

#include "dg_document_object.h"

G_BEGIN_DECLS

#define DG_TYPE_TIMELINE_TRACK (dg_timeline_track_get_type())
G_DECLARE_FINAL_TYPE(DgTimelineTrack, dg_timeline_track, DG, TIMELINE_TRACK, GtkWidget)

// The document shown (not referenced: the panel holding the track holds it); NULL for none.
void dg_timeline_track_set_document(DgTimelineTrack *self, DgDocument *doc);
int dg_timeline_track_get_playhead(DgTimelineTrack *self);
void dg_timeline_track_set_playhead(DgTimelineTrack *self, int frame);
int dg_timeline_track_get_selected(DgTimelineTrack *self);
void dg_timeline_track_set_selected(DgTimelineTrack *self, int stage);
// The document's timeline changed: redraw, and keep the playhead and the selection inside it.
void dg_timeline_track_refresh(DgTimelineTrack *self);

G_END_DECLS
