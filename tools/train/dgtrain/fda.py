"""Fourier domain adaptation (Yang & Soatto 2020) as the engine's stylize task does it (render/pipelines/
dg_stylize, docs/architecture.md): per channel, inside the square |ky|, |kx| <= b = floor(min(H, W) beta) of
the centred spectrum, the amplitude becomes (1 - strength)|C| + strength|S| with the content's phase kept;
beta 0 gives the content back. The style image must already have the content's size. Used as the style-mixing
baseline and as an augmentation."""
import math

import torch

BETA, STRENGTH = 0.05, 0.8  # the engine's defaults (DG_STYLIZE_DEFAULT_BETA, _STRENGTH)


def window(h, w, b):
    """[h, w] bool: frequencies (torch.fft order) with |ky| <= b and |kx| <= b."""
    ky = torch.fft.fftfreq(h, 1.0 / h).abs()
    kx = torch.fft.fftfreq(w, 1.0 / w).abs()
    return (ky[:, None] <= b) & (kx[None, :] <= b)


def fda(content, style, beta=BETA, strength=STRENGTH):
    """content, style [N,3,H,W] in [-1,1] -> content with the style's low-frequency amplitude (not clamped).
    The swap is done on pixels in [0, 1] as the engine does (the DC amplitude depends on the offset)."""
    if beta <= 0:
        return content.clone()
    h, w = content.shape[-2:]
    b = math.floor(min(h, w) * beta)
    fc, fs = (torch.fft.fft2((x.double() + 1) / 2) for x in (content, style))
    amp = torch.where(window(h, w, b), (1 - strength) * fc.abs() + strength * fs.abs(), fc.abs())
    return (torch.fft.ifft2(torch.polar(amp, fc.angle())).real * 2 - 1).to(content.dtype)
