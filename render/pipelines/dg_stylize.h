// The stylize task (issue #20, style exemplars): the content of one image in the style of another, and
// an image's radial power spectrum for the style panel.
//
// Methods: FDA (Fourier domain adaptation, Yang & Soatto 2020), on the engine's FFT (render/gpu/dg_fft,
// VkFFT): per RGB channel the content's amplitude spectrum inside a centred low-frequency square of
// half-size b = floor(min(H, W) beta) becomes (1 - strength) |C| + strength |S| of the style image
// (bilinearly resized to the content's size first, torch's rule without antialiasing), the content's
// phase is kept, and the inverse FFT is rounded and clamped to 8 bits. beta 0 leaves the image as it is;
// any beta > 0 swaps at least the mean colour (DC), as FDA's reference code does. It is the instant
// preview and the evaluation's baseline; it takes one style image. MNE: the Masked Noise Encoder over the
// StyleGAN2 generator it was trained for (dg_stylize_mne.h): G(lerp(ws_content, mean of the exemplars' ws,
// strength), the content's noise maps), loaded from the params' files on first use and kept while they stay
// the same.
#pragma once
#include <stdbool.h>

#include "dg_device.h"
#include "dg_media.h"

typedef enum dg_stylize_method { DG_STYLIZE_FDA = 0, DG_STYLIZE_MNE } dg_stylize_method;

#define DG_STYLIZE_DEFAULT_STRENGTH 0.8
#define DG_STYLIZE_DEFAULT_BETA 0.05
#define DG_STYLIZE_MAX_BETA 0.5

typedef struct dg_stylize_params {
  dg_stylize_method method;
  double strength; // 0 (the content) .. 1 (the style's amplitude)
  double beta;     // FDA's window: 0 .. DG_STYLIZE_MAX_BETA
  const char *encoder, *generator; // MNE: the encoder's and the generator's safetensors (config JSON beside)
} dg_stylize_params;

// "fda" / "mne"; parse returns false for another name.
const char *dg_stylize_method_name(dg_stylize_method m);
bool dg_stylize_method_parse(const char *name, dg_stylize_method *out);

// The task's device resources: FFT plans cached per size (the first image of a size pays for VkFFT's
// shader compile), a stream and an arena. One thread at a time.
typedef struct dg_stylize dg_stylize;
dg_status dg_stylize_create(dg_device *device, dg_stylize **out);
void dg_stylize_destroy(dg_stylize *st);

// content, style: RGB images (3 channels, one frame); out receives an RGB image of the content's size
// (cleared first). Errors name the bad value or size.
dg_status dg_stylize_run(dg_stylize *st, const dg_media *content, const dg_media *style, const dg_stylize_params *p,
                         dg_media *out);
// The same with n_styles exemplars (MNE averages their ws; FDA takes exactly one).
dg_status dg_stylize_run_styles(dg_stylize *st, const dg_media *content, const dg_media *const *styles, int n_styles,
                                const dg_stylize_params *p, dg_media *out);

// The radial power spectrum of an RGB image with values in [0, 1]: power[r] is the mean over the
// channels and over the frequencies k = (ky, kx) with round(|k|) = r of |X(k)|^2 / (H W) (so the mean
// over all k is the mean square pixel value), for r = 0 .. min(H, W) / 2; log10 of it when `log`.
typedef struct dg_spectrum {
  int bins;
  double *power; // malloc'd; dg_spectrum_clear frees it
  bool log;
} dg_spectrum;
dg_status dg_stylize_spectrum(dg_stylize *st, const dg_media *image, bool log, dg_spectrum *out);
void dg_spectrum_clear(dg_spectrum *s);
