// The editor's video export (ui/dg_video_exporter): a written GIF with progress to the end; a cancel
// right after the start of a long WebM export ends as cancelled with no file and no temporary left; no
// video and a name of no format refused before anything starts. GObject only: no display needed.
#include <glib/gstdio.h>
#include <string.h>

#include "dg_check.h"
#include "dg_video_exporter.h"

static int outcome = -1;
static char *message;

static void finished(DgVideoExporter *e, int o, const char *msg, gpointer data) {
  (void)e, (void)data;
  outcome = o;
  g_free(message);
  message = g_strdup(msg);
}

static void run_to_end(DgVideoExporter *e) {
  while (dg_video_exporter_get_running(e)) g_main_context_iteration(NULL, TRUE);
}

static void video(dg_video_result *v, int frames, int w, int h) {
  dg_video_result_init(v);
  v->timeline.frames = frames;
  dg_timeline_add_stage(&v->timeline, 0, "a street at day");
  dg_media_alloc(&v->frames, frames, w, h, 4);
  guint32 x = 1;
  for (size_t i = 0; i < dg_media_frame_bytes(&v->frames) * frames; i++) // noise: slow to encode
    v->frames.data[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
  v->steps = 2, v->model = g_strdup("m"), v->negative = g_strdup("");
}

static int leftovers(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  int n = 0;
  for (const char *name; d && (name = g_dir_read_name(d));) n += name[0] == '.';
  if (d) g_dir_close(d);
  return n;
}

int main(void) {
  char *dir = g_dir_make_tmp("dg-video-exporter-XXXXXX", NULL);
  DgVideoExporter *e = dg_video_exporter_new();
  g_signal_connect(e, "finished", G_CALLBACK(finished), NULL);
  dg_video_result small, big;
  video(&small, 4, 64, 32);
  video(&big, 64, 256, 128);

  char *gif = g_build_filename(dir, "clip.gif", NULL);
  GError *err = NULL;
  dg_check(dg_video_exporter_start(e, &small, gif, &err), "a GIF export starts");
  dg_check(!dg_video_exporter_start(e, &small, gif, NULL), "a second export waits for the first");
  run_to_end(e);
  dg_check(outcome == DG_VIDEO_EXPORT_DONE && g_file_test(gif, G_FILE_TEST_IS_REGULAR) &&
               dg_video_exporter_get_fraction(e) == 1 && strstr(message, "Exported 4 frames of 64x32"),
           "the GIF is written (%s)", message ? message : "");

  char *webm = g_build_filename(dir, "clip.webm", NULL);
  outcome = -1;
  dg_check(dg_video_exporter_start(e, &big, webm, &err), "a WebM export starts");
  dg_video_exporter_cancel(e);
  run_to_end(e);
  dg_check(outcome == DG_VIDEO_EXPORT_CANCELLED && !g_file_test(webm, G_FILE_TEST_EXISTS) && leftovers(dir) == 0,
           "a cancelled export leaves no file and no temporary (outcome %d: %s)", outcome, message ? message : "");

  dg_video_result none;
  dg_video_result_init(&none);
  dg_check(!dg_video_exporter_start(e, &none, webm, &err) && strstr(err->message, "no video"),
           "no video: refused (%s)", err ? err->message : "");
  g_clear_error(&err);
  char *avi = g_build_filename(dir, "clip.avi", NULL);
  dg_check(!dg_video_exporter_start(e, &small, avi, &err) && strstr(err->message, "not a video file name"),
           "an unknown name: refused (%s)", err ? err->message : "");
  g_clear_error(&err);

  g_unlink(gif);
  g_rmdir(dir);
  g_free(gif), g_free(webm), g_free(avi), g_free(dir), g_free(message);
  dg_video_result_clear(&small), dg_video_result_clear(&big);
  g_object_unref(e);
  return dg_check_finish("test_video_exporter");
}
