// The stylize task's MNE method (issue #20): a Masked Noise Encoder (render/models/dg_mne) over the StyleGAN2
// generator it was trained for (dg_stylegan2). The content and every exemplar are resized to the generator's
// size (bilinear) and encoded in one batch; the image is G(lerp(ws_content, mean of the exemplars' ws,
// strength), the content's noise maps) with the generator's const noise elsewhere, resized back to the content's
// size (ISSA's style mixing with a strength slider).
#pragma once
#include "dg_arena.h"
#include "dg_device.h"
#include "dg_media.h"
#include "dg_stream.h"

#define DG_STYLIZE_MAX_STYLES 16

typedef struct dg_stylize_mne dg_stylize_mne;

// Loads both models (f32) into their own arena. The encoder must fit the generator (ws count and width, the
// noise block's size and channels, the image size); a mismatch names both files.
dg_status dg_stylize_mne_open(dg_device *device, const char *encoder, const char *generator, dg_stylize_mne **out);
void dg_stylize_mne_close(dg_stylize_mne *m);
// True when m was opened from these two paths.
bool dg_stylize_mne_is(const dg_stylize_mne *m, const char *encoder, const char *generator);
// content and n_styles exemplars (RGB, one frame, checked by the caller) -> out, RGB of the content's size.
// Scratch comes from `arena` (released by the caller) and the work runs on `stream`.
dg_status dg_stylize_mne_run(dg_stylize_mne *m, dg_stream *stream, dg_arena *arena, const dg_media *content,
                             const dg_media *const *styles, int n_styles, float strength, dg_media *out);
