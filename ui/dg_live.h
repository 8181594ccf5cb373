// Live mode (issue 22): while the document's `live` field is on, every edit that affects the result (the
// layout, prompt, negative prompt, marks, attention guidance, seed, steps, guidance, model, palette)
// schedules a live frame DG_LIVE_DEBOUNCE_MS after the last edit: a running live job is cancelled at
// once (it stops at its next step; its result never reaches the document), and the frame runs
// DG_SETTINGS_LIVE_STEPS steps with the session's seed (the document's, or for a random-seed document
// one seed drawn when live mode went on), its image shown as the preview only. DG_LIVE_SETTLE_MS after
// the last frame with no edit pending, the full-quality render (the document's steps, the same seed)
// runs and lands in the results like Generate. A job the person started (Generate) is never cancelled.
#pragma once
#include <stdint.h>

#include "dg_job_runner.h"

#define DG_LIVE_DEBOUNCE_MS 250
#define DG_LIVE_SETTLE_MS 1500

typedef struct dg_live dg_live;

// Drives `runner` for the document shown (follow it with dg_live_set_document), polling on clock.
dg_live *dg_live_new(DgJobRunner *runner, GtkWidget *clock);
void dg_live_free(dg_live *l);
void dg_live_set_document(dg_live *l, DgDocument *doc);
// Frames started and finished (shown) in this session, and full renders landed: for dump-state and tests.
void dg_live_counts(const dg_live *l, int *frames_started, int *frames_shown, int *full_renders);
uint64_t dg_live_seed(const dg_live *l);
