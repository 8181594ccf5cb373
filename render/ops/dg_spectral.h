// Ops on half spectra in render/gpu/dg_fft's layout ([planes, H, W/2 + 1, 2] f32, complex interleaved).
#pragma once
#include "dg_stream.h"
#include "dg_tensor.h"

// FDA's low-frequency amplitude swap (Yang & Soatto 2020), in place. spectrum [2P, H, W/2 + 1, 2]: planes
// 0..P-1 the content's, P..2P-1 the style's. In the window |ky| <= b, |kx| <= b (signed frequencies,
// the centred (2b + 1)-square of numpy's fftshift), the content's amplitude becomes
// (1 - strength) |C| + strength |S| and its phase stays. b < 0 changes nothing; strength in [0, 1].
dg_status dg_fda_swap(dg_stream *s, dg_tensor *spectrum, int b, float strength);
