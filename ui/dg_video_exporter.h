// Video export from the editor: the document's video (dg_video_result) written by app/video's exporter
// (MP4, WebM, GIF or a PNG sequence, chosen by the destination's name) on a worker thread, with the job's
// JSON inside, progress per frame and cancel. The exporter writes a temporary file and renames it, so a
// failed or cancelled export leaves nothing behind. Properties: running, fraction, text. "finished"
// (DgVideoExportOutcome, message) when it ends.
#pragma once
#include <gtk/gtk.h>

#include "dg_video_result.h"

G_BEGIN_DECLS

typedef enum {
  DG_VIDEO_EXPORT_DONE,      // message: what was written
  DG_VIDEO_EXPORT_CANCELLED, // nothing was written
  DG_VIDEO_EXPORT_FAILED,    // message: why
} DgVideoExportOutcome;

#define DG_TYPE_VIDEO_EXPORTER (dg_video_exporter_get_type())
G_DECLARE_FINAL_TYPE(DgVideoExporter, dg_video_exporter, DG, VIDEO_EXPORTER, GObject)

DgVideoExporter *dg_video_exporter_new(void);
// Starts writing a copy of `video` to `path` (.mp4, .webm, .gif, or a folder for PNG frames); FALSE and
// *error (naming the path) when it cannot start: one is running, a name of no known format, a missing
// encoder, no memory for the copy.
gboolean dg_video_exporter_start(DgVideoExporter *self, const dg_video_result *video, const char *path,
                                 GError **error);
void dg_video_exporter_cancel(DgVideoExporter *self);
gboolean dg_video_exporter_get_running(DgVideoExporter *self);
const char *dg_video_exporter_get_text(DgVideoExporter *self);
double dg_video_exporter_get_fraction(DgVideoExporter *self);
// Waits for a running export to end (the window is closing); the file is written or removed.
void dg_video_exporter_wait(DgVideoExporter *self);

G_END_DECLS
