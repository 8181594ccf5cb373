// Test tool: decodes a video file with libavformat/libavcodec and prints "FRAMES WIDTHxHEIGHT FPS SECONDS" and,
// on a second line, the container's comment (the job JSON), for shell tests (tests/ui/ui_timeline.sh).
// With a third argument, writes frame N (0-based) as a binary PPM there. Exit 1 when it cannot be read.
#include <stdio.h>
#include <stdlib.h>

#include "video_read.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: video_probe FILE [FRAME OUT.ppm]\n");
    return 2;
  }
  video_read v;
  if (!video_read_file(argv[1], &v)) return 1;
  printf("%d %dx%d %.3f %.3f\n%s\n", v.frames, v.width, v.height, v.fps, v.duration, v.comment ? v.comment : "");
  if (argc >= 4) {
    int f = atoi(argv[2]);
    FILE *o = f >= 0 && f < v.frames ? fopen(argv[3], "wb") : NULL;
    if (!o) return 1;
    fprintf(o, "P6\n%d %d\n255\n", v.width, v.height);
    fwrite(v.rgb + (size_t)f * v.width * v.height * 3, 1, (size_t)v.width * v.height * 3, o);
    fclose(o);
  }
  video_read_clear(&v);
  return 0;
}
