// The libavcodec/libavformat half of dg_video_export (not for other callers): encodes MP4, WebM or GIF
// into an existing file `path` (truncated), naming `shown` (the destination) in messages.
#pragma once
#include "dg_video_export.h"

dg_status dg_video_encode(const char *path, const char *shown, const dg_media *m, const dg_video_export_opts *o,
                          dg_video_export_info *info);
// The libavcodec encoder a format uses ("libx264", "libvpx-vp9", "gif"); NULL for PNG.
const char *dg_video_encoder_name(dg_video_format format);
// DG_ERR_CANCELLED naming the frame when opts->cancel is raised before frame i of n; else DG_OK.
dg_status dg_video_cancel_check(const char *shown, const dg_video_export_opts *o, int i, int n);
