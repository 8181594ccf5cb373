// Live mode's scheduling (app/dg_live_session) with a driver that only records what it is asked: a stroke
// applied at once (its segments several layout signals) is one edit that starts its frame at once; typing
// starts one at its first key and then waits for the pause; a stroke being drawn waits and its release starts the
// frame at once; a timeline edit starts nothing; a layout strength edit starts a frame.
#include <glib.h>

#include "dg_check.h"
#include "dg_document_object.h"
#include "dg_live_session.h"

typedef struct driver {
  int frames, fulls, cancels;
  bool running;
} driver;

static gboolean start(void *user, DgDocument *doc, dg_live_job_kind kind, uint64_t seed, GError **error) {
  (void)doc, (void)seed, (void)error;
  driver *d = user;
  if (kind == DG_LIVE_JOB_FRAME) d->frames++;
  else d->fulls++;
  d->running = true;
  return TRUE;
}
static gboolean busy(void *user) { return ((driver *)user)->running; }
static void cancel(void *user) { ((driver *)user)->cancels++; }

// Runs the main context for ms milliseconds.
static void run_for(int ms) {
  gint64 end = g_get_monotonic_time() + ms * (gint64)1000;
  while (g_get_monotonic_time() < end)
    if (!g_main_context_iteration(NULL, FALSE)) g_usleep(1000);
}
// The running job stops (as cancelled, when it was asked to).
static void job_ends(dg_live_session *s, driver *d, dg_live_end end) {
  d->running = false;
  dg_live_session_job_ended(s, end, NULL);
}
static void run_pending(void) {
  while (g_main_context_iteration(NULL, FALSE)) {
  }
}

int main(void) {
  static const dg_live_driver drv = {.start = start, .busy = busy, .cancel = cancel};
  driver d = {0};
  dg_document *m = dg_document_new(32, 64);
  DgDocument *doc = dg_document_object_new(m);
  dg_live_session *s = dg_live_session_new(&drv, &d);
  dg_live_session_set_document(s, doc);
  dg_document_set_live(m, true);
  run_pending();
  dg_check(d.frames == 1, "live mode on: the document's first frame at once (%d frames)", d.frames);
  job_ends(s, &d, DG_LIVE_END_DONE);
  run_for(2 * DG_LIVE_DEBOUNCE_MS);

  // A stroke applied in one go (the CLI replay, the paint-stroke action): many layout signals, one edit.
  static const int xy[] = {2, 2, 30, 2, 30, 20, 60, 20};
  dg_live_counts c0, c1;
  dg_live_session_counts(s, &c0);
  dg_document_paint_stroke(m, xy, 4, 2.0, 3);
  run_pending();
  dg_live_session_counts(s, &c1);
  dg_check(d.frames == 2, "a whole stroke starts its frame at once, not after the debounce (%d frames)", d.frames);
  dg_check(c1.edits - c0.edits == 1, "a whole stroke is one edit (%d)", c1.edits - c0.edits);
  job_ends(s, &d, DG_LIVE_END_DONE);
  run_for(2 * DG_LIVE_DEBOUNCE_MS);

  // Typing: keys 50 ms apart wait for the pause, then one frame.
  const char *keys[] = {"a", "a r", "a re", "a red"};
  for (int i = 0; i < 4; i++) {
    g_object_set(doc, "prompt", keys[i], NULL);
    run_for(50);
  }
  dg_check(d.frames == 3, "typing: the first key starts a frame, the next ones wait (%d frames)", d.frames);
  job_ends(s, &d, DG_LIVE_END_CANCELLED); // stopped by the second key
  run_pending();
  dg_check(d.frames == 3, "typing: no frame before the pause (%d frames)", d.frames);
  run_for(DG_LIVE_DEBOUNCE_MS + 100);
  dg_check(d.frames == 4, "typing: one frame after the pause (%d frames)", d.frames);

  // A stroke drawn by hand while that frame runs: each motion cancels it, none starts a frame while the
  // button is down (the pointer keeps moving); the release starts one at once.
  int cancels = d.cancels;
  dg_document_edit_begin(m);
  for (int i = 0; i < 6; i++) {
    dg_document_paint_line(m, 5 + 5 * i, 10, 10 + 5 * i, 12, 2.0, 5);
    run_for(30);
  }
  dg_check(d.cancels > cancels, "drawing cancels the stale frame");
  job_ends(s, &d, DG_LIVE_END_CANCELLED);
  run_pending();
  dg_check(d.frames == 4, "no frame while the stroke is drawn (%d frames)", d.frames);
  dg_document_edit_end(m);
  run_pending();
  dg_check(d.frames == 5, "the release starts the frame at once (%d frames)", d.frames);
  job_ends(s, &d, DG_LIVE_END_DONE);

  // A timeline edit (an undo step that does not change the image) starts nothing.
  run_for(2 * DG_LIVE_DEBOUNCE_MS);
  dg_timeline t = *dg_document_timeline(m);
  t.frames = t.frames == 16 ? 32 : 16;
  dg_check_status(dg_document_set_timeline(m, &t, false), "timeline edit");
  run_for(2 * DG_LIVE_DEBOUNCE_MS);
  dg_check(d.frames == 5, "a timeline edit starts no frame (%d frames)", d.frames);

  // The layout strength changes the image: after a pause, a frame at once.
  dg_check_status(dg_document_set_control_scale(m, 2), "layout strength 2");
  run_pending();
  dg_check(d.frames == 6, "a layout strength edit starts a frame (%d frames)", d.frames);
  job_ends(s, &d, DG_LIVE_END_DONE);

  dg_live_session_free(s);
  g_object_unref(doc);
  return dg_check_finish("test_live_session");
}
