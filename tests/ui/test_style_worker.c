// The style panel's engine thread (app/dg_style_worker) on the default device: a burst of previews computes
// the first and the newest only (the queued ones in between dropped), applies are never dropped, a warm-up
// delivers nothing, every result has the content's size with its three spectra, a missing encoder fails
// naming the file, and no callback comes after the worker is freed, even for finished requests.
#include <glib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_style_worker.h"

typedef struct seen {
  int previews, applies, failures;
  uint64_t last_preview;
  int width, height, bins;
  char *error;
} seen;

static void done(void *user, uint64_t serial, bool preview, dg_status status, const char *error, dg_media *rgb,
                 dg_style_spectra *spectra, double seconds) {
  (void)seconds;
  seen *s = user;
  if (status != DG_OK) {
    s->failures++;
    g_free(s->error);
    s->error = g_strdup(error);
    return;
  }
  if (preview)
    s->previews++, s->last_preview = serial, s->bins = spectra->result.bins;
  else
    s->applies++;
  s->width = rgb->width, s->height = rgb->height;
}

static void drain(dg_style_worker *w) {
  for (int i = 0; i < 6000 && dg_style_worker_pending(w); i++) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_usleep(5000);
  }
  for (int i = 0; i < 20; i++) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_usleep(2000);
  }
}

static dg_style_image *gradient(int w, int h, int seed, const char *name) {
  uint8_t *px = g_malloc((size_t)w * h * 4);
  for (int i = 0; i < w * h; i++)
    for (int c = 0; c < 4; c++)
      px[4 * i + c] = (uint8_t)(c == 3 ? 255 : (i % w) * (c + seed) + (i / w) * 3 * seed);
  dg_style_image *img = dg_style_image_new(w, h, px, name);
  g_free(px);
  return img;
}

int main(void) {
  dg_style_image *content = gradient(64, 32, 1, "content"), *ex = gradient(48, 40, 5, "exemplar");
  seen s = {0};
  dg_style_worker *w = dg_style_worker_new("/nonexistent/mne.safetensors", "/nonexistent/g.safetensors", done, &s);
  dg_style_worker_submit(w, false, content, NULL, DG_STYLIZE_FDA, 0.5); // a warm-up: nothing comes back
  drain(w);
  dg_check(!s.previews && !s.applies && !s.failures, "a warm-up delivers nothing");
  uint64_t last = 0;
  for (int i = 0; i < 8; i++)
    last = dg_style_worker_submit(w, true, content, ex, DG_STYLIZE_FDA, i / 8.0);
  drain(w);
  dg_check(s.previews >= 1 && s.previews <= 2 && s.last_preview == last,
           "a burst of 8 previews: %d computed, the newest last (%llu of %llu)", s.previews,
           (unsigned long long)s.last_preview, (unsigned long long)last);
  dg_check(s.width == 64 && s.height == 32 && s.bins == 17, "the content's size and its spectra (%dx%d, %d radii)",
           s.width, s.height, s.bins);
  s.previews = 0;
  dg_style_worker_submit(w, true, content, ex, DG_STYLIZE_FDA, 0.1);
  dg_style_worker_submit(w, false, content, ex, DG_STYLIZE_FDA, 0.2);
  dg_style_worker_submit(w, true, content, ex, DG_STYLIZE_FDA, 0.3);
  dg_style_worker_submit(w, false, content, ex, DG_STYLIZE_FDA, 0.4);
  drain(w);
  dg_check(s.applies == 2 && s.previews >= 1, "applies are never dropped (%d applies, %d previews)", s.applies,
           s.previews);
  dg_style_worker_submit(w, false, content, ex, DG_STYLIZE_MNE, 0.5);
  drain(w);
  dg_check(s.failures == 1 && s.error && strstr(s.error, "/nonexistent/"), "a missing encoder fails naming it: %s",
           s.error ? s.error : "(none)");
  int before = s.previews + s.applies + s.failures;
  for (int i = 0; i < 4; i++)
    dg_style_worker_submit(w, false, content, ex, DG_STYLIZE_FDA, 0.5);
  g_usleep(200000); // some finish and wait on the main context
  dg_style_worker_free(w);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration(NULL, FALSE);
  dg_check(s.previews + s.applies + s.failures == before, "no callback after the worker is freed (%d, then %d)", before,
           s.previews + s.applies + s.failures);
  dg_style_image_unref(content), dg_style_image_unref(ex);
  g_free(s.error);
  return dg_check_finish("test_style_worker");
}
