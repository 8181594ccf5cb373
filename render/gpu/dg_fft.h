// 2-D real FFTs of image planes on VkFFT (1.3, Vulkan backend), through the engine's device, queue and
// command stream. A plan is one size (planes x height x width) and owns its two tensors: the planes
// `real` [planes, H, W] f32 and their half spectra `spectrum` [planes, H, W/2 + 1, 2] f32 (complex
// interleaved, row y holds frequency ky = y for y <= H/2 and y - H above; column x holds kx = x). Callers
// fill one, run the transform into the other and read it, with ops or through the mapped memory.
//
// VkFFT generates its shaders for a size and compiles them with glslang when the plan is made (hundreds
// of milliseconds on lavapipe), so plans are cached per size in a dg_fft; its descriptor sets point at
// the plan's own buffers, which therefore never change under a recorded command. A dg_fft and its plans
// serve one stream at a time; making a plan submits VkFFT's table uploads on the engine's queue, under
// the queue's lock (dg_device_submit's).
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

typedef struct dg_fft dg_fft;
typedef struct dg_fft_plan dg_fft_plan;

dg_status dg_fft_create(dg_device *device, dg_fft **out);
// Destroys every plan; their streams must have finished.
void dg_fft_destroy(dg_fft *fft);
// The cached plan for this size, made on first use. DG_ERR_ARG for sizes under 2 or over 16384 (or 256
// planes); DG_ERR_UNSUPPORTED when a plan's tensor would pass the binding limit (VkFFT binds each
// buffer whole), naming the size and the limit. At most DG_FFT_MAX_PLANS sizes are kept: the least
// recently used is destroyed to make room (finish the stream before asking for a new size).
#define DG_FFT_MAX_PLANS 8
dg_status dg_fft_plan_get(dg_fft *fft, int planes, int height, int width, dg_fft_plan **out);
dg_tensor *dg_fft_plan_real(dg_fft_plan *plan);
dg_tensor *dg_fft_plan_spectrum(dg_fft_plan *plan);
// Number of plans made so far (a cache miss each), for tests and benchmarks.
int dg_fft_plans_made(const dg_fft *fft);

// Records real -> spectrum (unnormalised: X(k) = sum_x x e^{-2 pi i k.x / N}).
dg_status dg_fft_forward(dg_stream *s, dg_fft_plan *plan);
// Records spectrum -> real, normalised (1 / (H W)), so forward then inverse gives the planes back. The
// spectrum is overwritten (VkFFT's C2R works in place); the imaginary parts of the columns kx = 0 and,
// for even W, kx = W/2 are taken as Hermitian (their conjugate-symmetric part only).
dg_status dg_fft_inverse(dg_stream *s, dg_fft_plan *plan);
