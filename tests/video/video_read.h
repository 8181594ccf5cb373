// Test helper: decodes a video file back with libavformat/libavcodec into RGB frames (tests only).
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct video_read {
  int frames, width, height;
  double fps;      // the stream's average frame rate
  int fps_num, fps_den; // ... as libavformat gives it (a rational)
  double duration; // seconds, from the first frame's start to the last frame's end
  char *comment;   // the container's `comment` tag (GIF: its first comment block), or NULL
  uint8_t *rgb;    // frames * height * width * 3
} video_read;

// False (with a message on stderr) when the file cannot be read.
bool video_read_file(const char *path, video_read *out);
void video_read_clear(video_read *v);
// Mean over frames of the RGB PSNR (dB) of `v` against `src` (frames of src_w x src_h x 3, compared on
// that top-left part of v's frames); 99 for identical frames.
double video_psnr(const video_read *v, const uint8_t *src, int src_w, int src_h, int frames);
