// `build/tests/video/dirigent-bench-video [--runs N] [--frames F] [--seed S] [--preset P] [--cpu-used N] [--crf N]`:
// the export time of a world clip (default 64 frames of 256x128, seed 3) per format, median of N runs (default 3), with
// the file's size and its PSNR decoded back. The floor: MP4 and WebM under 5 s. Run by hand.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dg_video_export.h"
#include "dg_world.h"
#include "video_read.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void rm_tree(const char *path) {
  char *cmd = g_strdup_printf("rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
  g_free(cmd);
}

int main(int argc, char **argv) {
  int runs = 3, frames = 64, w = 256, h = 128;
  unsigned long long seed = 3;
  const char *preset = NULL;
  int cpu_used = -1, crf = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--runs"))
      runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--frames"))
      frames = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed"))
      seed = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--preset"))
      preset = argv[i + 1];
    else if (!strcmp(argv[i], "--cpu-used"))
      cpu_used = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--crf"))
      crf = atoi(argv[i + 1]);
  }
  if (runs < 1 || runs > 99 || frames < 2 || frames > DG_WORLD_MAX_FRAMES) {
    fprintf(stderr,
            "usage: dirigent-bench-video [--runs 1..99] [--frames 2..%d] [--seed S] [--preset P] [--cpu-used N]\n"
            "                            [--crf N]\n",
            DG_WORLD_MAX_FRAMES);
    return 2;
  }
  dg_world_clip *clip = malloc(sizeof *clip);
  dg_world_scene *scene = malloc(sizeof *scene);
  uint8_t *label = malloc((size_t)w * h);
  dg_media m;
  if (dg_world_clip_plan(seed, w, h, frames, clip) != DG_OK || dg_media_alloc(&m, frames, w, h, 3) != DG_OK) {
    fprintf(stderr, "%s\n", dg_last_error());
    return 1;
  }
  gint64 t0 = g_get_monotonic_time();
  for (int f = 0; f < frames; f++) {
    dg_world_clip_frame(clip, f, scene);
    dg_world_render_ex(scene, dg_media_frame(&m, f), label, NULL, false, false);
  }
  printf("world clip %llu (%s), %d frames %dx%d rendered in %.2f s; export, median of %d runs:\n", seed,
         dg_world_clip_names[clip->kind], frames, w, h, (g_get_monotonic_time() - t0) / 1e6, runs);
  char dir[256];
  snprintf(dir, sizeof dir, "%s/bench-video-XXXXXX", g_get_tmp_dir());
  if (!g_mkdtemp(dir)) return 1;
  int rc = 0;
  for (int f = 0; f < DG_VIDEO_FORMAT_COUNT; f++) {
    if (!dg_video_format_available((dg_video_format)f)) {
      printf("  %-5s skipped: %s\n", dg_video_format_names[f], dg_last_error());
      continue;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/clip%s%s", dir, f == DG_VIDEO_PNG ? "" : ".",
             f == DG_VIDEO_PNG ? "" : dg_video_format_names[f]);
    dg_video_export_opts o = DG_VIDEO_EXPORT_DEFAULTS;
    o.format = (dg_video_format)f, o.preset = preset, o.vp9_cpu_used = cpu_used, o.crf = crf;
    double t[99];
    for (int r = 0; r < runs; r++) {
      if (f == DG_VIDEO_PNG) rm_tree(path);
      gint64 s0 = g_get_monotonic_time();
      if (dg_video_export(path, &m, &o, NULL) != DG_OK) {
        fprintf(stderr, "%s\n", dg_last_error());
        return 1;
      }
      t[r] = (g_get_monotonic_time() - s0) / 1e6;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    long long bytes = 0;
    double db = 0;
    struct stat sb;
    if (f == DG_VIDEO_PNG) {
      for (int i = 0; i < frames; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/frame_%04d.png", path, i);
        bytes += stat(p, &sb) == 0 ? sb.st_size : 0;
      }
      db = 99;
    } else {
      video_read v;
      bytes = stat(path, &sb) == 0 ? sb.st_size : 0;
      if (video_read_file(path, &v) && v.frames == frames) db = video_psnr(&v, m.data, w, h, frames);
      video_read_clear(&v);
    }
    bool floor = f == DG_VIDEO_MP4 || f == DG_VIDEO_WEBM;
    printf("  %-5s %6.3f s median (min %.3f, max %.3f), %5.0f frames/s, %8lld bytes, %5.2f dB%s\n",
           dg_video_format_names[f], t[runs / 2], t[0], t[runs - 1], frames / t[runs / 2], bytes, db,
           floor ? (t[runs / 2] < 5 ? "  (floor 5 s: met)" : "  (floor 5 s: MISSED)") : "");
    if (floor && t[runs / 2] >= 5) rc = 1;
  }
  rm_tree(dir);
  dg_media_clear(&m);
  free(label), free(scene), free(clip);
  return rc;
}
