"""Writes the golden fixtures of the video UNet under tests/golden/video/: a tiny random VideoCrafter2-style UNet3D
(dgtrain.video_unet with VideoCrafter2's parameter names, config fixtures.UNET3D; weights stored as F16 under
`model.diffusion_model.` in VideoCrafter2's checkpoint layout, a torch.save zip {"state_dict": {...}},
unet3d_weights.ckpt) and its eps on folded videos, the engine's layout: x [N*F, 4, h, w] frame-major within
an item (video_unet.to_video turns it into VideoCrafter2's [N, 4, F, h, w]). Deterministic: rerunning gives the same
files.

Fixtures (inputs x, t [N], fps [N], context; outputs eps [N*F, 4, h, w]):
- unet3d: N = 2, F = 6, 8x8 latent, one context per item [2, 7, 16] (repeated over the frames);
- unet3d_tar: N = 1, F = 6, 8x8, a per-frame context [6, 7, 16], TAR (sigma 1.5 at latent width 4, scale 1) on
  both attentions of the temporal transformers at 4x4 (level 1: input_blocks.3.2, middle_block.2,
  output_blocks.0.2, 1.2), and `probs` [4*4*8, 6, 6] = softmax(S') of attn1 of temporal transformer 0
  (input_blocks.3.2; batch index pixel * heads + head);
- unet3d_f16: N = 1, F = 16, 4x4; unet3d_f64: N = 1, F = 64, 4x4 with TAR (sigma 8 at width 2, VSTAR's
  long-video setting, at level 1).

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_video [--out DIR]
"""
import json
import os

import torch

from . import REPO, video_unet
from .fixtures import UNET3D, FixtureSet, perturb, prefixed

CTX_LEN = 7
WEIGHTS = "unet3d_weights.ckpt"
CASES = [
    # name, N, F, h, w, per-frame context, TAR {width: sigma}, captured temporal transformer
    ("unet3d", 2, 6, 8, 8, False, None, None),
    ("unet3d_tar", 1, 6, 8, 8, True, {4: 1.5}, 0),
    ("unet3d_f16", 1, 16, 4, 4, False, None, None),
    ("unet3d_f64", 1, 64, 4, 4, False, {2: 8.0}, None),
]


def make_model(gen):
    torch.manual_seed(6)  # the modules' default initialisation
    model = video_unet.UNet3DModel(UNET3D).eval()
    perturb(model, gen)
    return model


def run_case(model, gen, n, frames, h, w, per_frame, sigma, capture):
    """(inputs, eps, probs or None) of one case, inputs drawn from gen."""
    x = torch.randn(n * frames, 4, h, w, generator=gen)
    t = torch.randint(1, 1000, (n,), generator=gen)
    fps = torch.tensor([28.0, 8.0][:n])
    ctx = torch.randn(n * frames if per_frame else n, CTX_LEN, UNET3D["context_dim"], generator=gen)
    controls = video_unet.TemporalControls(tar={"sigma": sigma, "scale": 1.0} if sigma else None, capture=capture)
    with torch.no_grad():
        eps = video_unet.to_frames(model(video_unet.to_video(x, frames), t, ctx, fps=fps, controls=controls))
    return {"x": x, "t": t, "fps": fps, "context": ctx}, eps, controls.captured


def main():
    fx = FixtureSet(__doc__, os.path.join(REPO, "tests", "golden", "video"), 20261206)
    gen = fx.gen
    model = make_model(gen)
    # VideoCrafter2's own layout: a torch.save zip of {"state_dict": {"model.diffusion_model." + name: tensor}}.
    torch.save({"state_dict": prefixed(model, "model.diffusion_model."), "config": json.dumps(UNET3D)},
               os.path.join(fx.args.out, WEIGHTS))
    for name, n, frames, h, w, per_frame, sigma, capture in CASES:
        inputs, eps, probs = run_case(model, gen, n, frames, h, w, per_frame, sigma, capture)
        tensors = dict(inputs, eps=eps)
        if probs is not None:
            tensors["probs"] = probs
        fx.write(name, tensors, {"weights": WEIGHTS, "config": UNET3D, "frames": frames,
                                 "per_frame_context": per_frame, "tar_sigma": {str(k): v for k, v in (sigma or {}).items()},
                                 "capture": capture,
                                 "what": "eps = UNet3D(x, t, context, fps) folded [N*F, 4, h, w]"
                                         + (", TAR on the temporal logits at the given latent widths" if sigma else "")
                                         + (", probs = attn1 probabilities of temporal transformer 0" if probs is not None else "")})
        print(name, "eps |max|", float(eps.abs().max()))
    fx.finish()


if __name__ == "__main__":
    main()
