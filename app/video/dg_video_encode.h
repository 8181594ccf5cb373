// The libavcodec/libavformat half of dg_video_export (not for other callers), built as the module
// libdirigent-video.so that dg_video_export loads beside libdirigent.so on the first MP4, WebM or GIF
// export (or from $DIRIGENT_VIDEO_MODULE), so that only an export loads libav and its ~120 libraries.
#pragma once
#include <stdbool.h>

#include "dg_video_export.h"

#define DG_VIDEO_MODULE "libdirigent-video.so"

// The module's entry points, looked up by these names.
// Encodes MP4, WebM or GIF into an existing file `path` (truncated), naming `shown` (the destination) in
// messages.
dg_status dg_video_encode(const char *path, const char *shown, const dg_media *m, const dg_video_export_opts *o,
                          dg_video_export_info *info);
// Whether this libavcodec has the encoder `name`.
bool dg_video_encoder_exists(const char *name);

// In libdirigent, for both halves.
// The libavcodec encoder a format uses ("libx264", "libvpx-vp9", "gif"); NULL for PNG.
const char *dg_video_encoder_name(dg_video_format format);
// DG_ERR_CANCELLED naming the frame when opts->cancel is raised before frame i of n; else DG_OK.
dg_status dg_video_cancel_check(const char *shown, const dg_video_export_opts *o, int i, int n);
