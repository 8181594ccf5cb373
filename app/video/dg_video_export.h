// Video export: a frame sequence (dg_media, 8-bit RGB or RGBA, alpha ignored) written as MP4 (H.264,
// libx264), WebM (VP9, libvpx-vp9), animated GIF (one median-cut palette for the clip, dithered) or a
// PNG sequence, through libavformat/libavcodec (PNG: app/image). The file is written under a temporary
// name in the destination's folder and renamed when complete: on an error or a cancel the temporary is
// removed and a file already at the destination is left as it was. The caller's job JSON travels in the
// file: MP4 and WebM as the container's `comment` tag, GIF as a comment extension block, each PNG as its
// `dirigent` text chunk. Errors name the file, the format and libav's message.
#pragma once
#include <stdatomic.h>
#include <stdbool.h>

#include "dg_media.h"
#include "dg_quantize.h"
#include "dg_status.h"

typedef enum { DG_VIDEO_MP4, DG_VIDEO_WEBM, DG_VIDEO_GIF, DG_VIDEO_PNG, DG_VIDEO_FORMAT_COUNT } dg_video_format;
extern const char *const dg_video_format_names[DG_VIDEO_FORMAT_COUNT]; // "mp4", "webm", "gif", "png"

// The format a destination names: `.mp4`, `.webm`, `.gif` (any case), or a folder (a path ending in '/'
// or an existing directory) for a PNG sequence. DG_ERR_ARG naming the path otherwise.
dg_status dg_video_format_from_path(const char *path, dg_video_format *out);
// The format by its name (dg_video_format_names); DG_ERR_ARG listing the names otherwise.
dg_status dg_video_format_from_name(const char *name, dg_video_format *out);

typedef struct dg_video_export_opts {
  dg_video_format format;
  double fps;           // frames per second, 0.01..240, fractional too (7.5, 23.976: dg_video_fps_rational)
  int crf;              // H.264 / VP9 constant quality (lower is better); < 0: 18 (H.264), 28 (VP9)
  const char *preset;   // libx264 preset; NULL: "medium"
  int vp9_cpu_used;     // libvpx-vp9 speed 0..8 (higher is faster); < 0: 5
  dg_dither dither;     // GIF
  int png_level;        // PNG deflate level 1..9; 0: 6
  const char *job_json; // stored in the file (NULL or "" for none)
  // Called after each frame is encoded (done = 1..total); may be NULL.
  void (*progress)(void *user, int done, int total);
  void *user;
  // Checked before each frame; when it is true the export stops with DG_ERR_CANCELLED. May be NULL.
  const atomic_bool *cancel;
} dg_video_export_opts;
#define DG_VIDEO_EXPORT_DEFAULTS {.fps = 8, .crf = -1, .vp9_cpu_used = -1, .dither = DG_DITHER_ORDERED}

typedef struct dg_video_export_info {
  int width, height;   // as written: H.264 needs even sides, so an odd side gains one copied edge row or column
  const char *encoder; // "libx264", "libvpx-vp9", "gif", "png"
} dg_video_export_info;

// The exact frame rate num/den that `fps` stands for: an NTSC rate (a whole rate times 1000/1001, given to 3 or
// more decimals: 23.976, 29.97, 59.94) as k*1000/1001, any other rate to the nearest thousandth, reduced (7.5:
// 15/2, 8: 8/1). MP4 and WebM streams run on the time base den/num; GIF delays are whole hundredths of a second,
// rounded per frame so that the clip's length stays frames / fps to within 1/100 s.
void dg_video_fps_rational(double fps, int *num, int *den);

// Whether this libavcodec has the encoder a format needs (always true for PNG); if not, a message naming
// the encoder (dg_last_error).
bool dg_video_format_available(dg_video_format format);

// Writes `frames` (at least 1 frame, sides 2..8192; GIF at most 65535) to `path` in opts->format. A PNG
// sequence goes into the folder `path` (created; if it exists it must be empty) as frame_0000.png, ...;
// it is written into a temporary folder beside it and renamed. `info` may be NULL.
dg_status dg_video_export(const char *path, const dg_media *frames, const dg_video_export_opts *opts,
                          dg_video_export_info *info);
