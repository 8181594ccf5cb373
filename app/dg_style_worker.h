// The style panel's engine thread: one worker that owns a device and the stylize task
// (render/pipelines/dg_stylize: FDA, the Masked Noise Encoder loaded on first use and kept), runs requests in
// order and hands each result back on its creator's main context (an idle source there, never a call on the
// worker). A preview request replaces any preview still queued (the slider moved on; only the newest is worth
// computing), and the caller drops a preview whose serial is not its newest. The thread runs as nice as
// generation's workers (dg_job_lower_this_thread). GLib only: the editor's panel and tests use it.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_style.h"

typedef struct dg_style_worker dg_style_worker;

// The radial power spectra (log10, dg_stylize_spectrum) a preview comes with: the content's, the exemplar's
// and the preview's own, for the panel's plot.
typedef struct dg_style_spectra {
  dg_spectrum content, exemplar, result;
} dg_style_spectra;

// Called on the main context. rgb (the content's size, RGB) belongs to the callee (dg_media_clear) when
// status is DG_OK, and so do a preview's spectra (NULL for an apply; dg_spectrum_clear); otherwise error says
// why (the file or value named). seconds: the engine's time.
typedef void (*dg_style_done_fn)(void *user, uint64_t serial, bool preview, dg_status status, const char *error,
                                 dg_media *rgb, dg_style_spectra *spectra, double seconds);

// encoder, generator: the MNE pair's files (copied).
dg_style_worker *dg_style_worker_new(const char *encoder, const char *generator, dg_style_done_fn fn, void *user);
// Stops the worker after its current request (waiting for it); no callback comes afterwards, even for
// requests finished but not yet delivered.
void dg_style_worker_free(dg_style_worker *w);
// Queues the stylization of content in the style of exemplar (references taken) with `method` and `strength`;
// returns its serial (> 0, increasing). exemplar NULL: a warm-up that opens the device and builds the FFT plans
// of the content's size (its spectrum, dropped), so the first preview does not wait for them; no callback.
uint64_t dg_style_worker_submit(dg_style_worker *w, bool preview, dg_style_image *content, dg_style_image *exemplar,
                                dg_stylize_method method, double strength);
// Requests queued or running.
int dg_style_worker_pending(dg_style_worker *w);
