// The libavcodec/libavformat half of dg_video_export (not for other callers): encodes MP4, WebM or GIF
// into an existing file `path` (truncated), naming `shown` (the destination) in messages.
#pragma once
#include "dg_video_export.h"

dg_status dg_video_encode(const char *path, const char *shown, const dg_media *m, const dg_video_export_opts *o,
                          dg_video_export_info *info);
// The libavcodec encoder a format uses ("libx264", "libvpx-vp9", "gif"); NULL for PNG.
const char *dg_video_encoder_name(dg_video_format format);
