"""VSTAR's inference (../shared/docs/methods.md section 4) on the reference UNet3D (video_unet.py), as the engine's
video task (render/pipelines/dg_video.c) runs it: Video Synopsis Prompting (per-frame text contexts interpolated
between the stages' encodings), Temporal Attention Regularisation for steps 0..until on both CFG passes, DDIM as
diffusion.DDIM with x_T = randn(seed, stream 0) of the folded latent [F, 4, h, w], frames decoded one by one.

Run as a module it writes the tiny video UNet of the engine's video tests, tests/pipeline/tiny_video_unet.safetensors
(a random UNet3D of config fixtures.UNET3D: context 16 and 4 latent channels as the tiny model folder's, the input
blocks of its ControlNet; F16 under `model.diffusion_model.`, the config in the metadata), and the golden frames
tests/golden/video/generate.safetensors that the tiny model folder (tests/pipeline/tiny_model) gives with it.
Deterministic:

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.vstar_ref
"""
import json
import os

import torch

from . import REPO, diffusion, video_unet
from .clip_text import load_text_encoder
from .exports import load_json_beside, load_prefixed
from .fixtures import UNET3D, perturb, prefixed
from .ldm_vae import load_vae
from .safetensors_io import save
from .tokenizer import Tokenizer

LINEAR, SAME, OFF = "linear", "same", "off"


def key_frames(stage_frames, n, frames):
    """The stages' own frames, or linspace(0, F - 1, M) truncated when they have none."""
    if stage_frames is not None:
        return list(stage_frames)
    return [0] if n == 1 else [int(i * (frames - 1) / (n - 1)) for i in range(n)]


def vsp_weights(stage_frames, n, frames, mode=LINEAR):
    """Per frame (lo, hi, w): the frame's context is (1 - w) E[lo] + w E[hi] (w = 0 for SAME and OFF)."""
    keys = key_frames(stage_frames, n, frames)
    out = []
    for f in range(frames):
        if mode == OFF:
            out.append((0, 0, 0.0))
            continue
        i = 0
        while i + 1 < n and keys[i + 1] <= f:
            i += 1
        lo = hi = i
        w = 0.0
        if i + 1 < n and f >= keys[i]:
            hi = i + 1
            if mode == LINEAR:
                w = (f - keys[i]) / (keys[i + 1] - keys[i])
        if f < keys[i]:
            hi = lo
        out.append((lo, hi, w))
    return out


def frame_contexts(stage_ctx, weights):
    """stage_ctx [M, L, D] -> [F, L, D] by the VSP weights."""
    return torch.stack([(1 - w) * stage_ctx[lo] + w * stage_ctx[hi] for lo, hi, w in weights])


def sample(model, cond, uncond, frames, h, w, steps, cfg, seed, eta=0.0, tar=None, until=-1, fps=8.0):
    """The folded final latent [F, 4, h, w]. cond/uncond: [F, L, D] (per frame) or [1, L, D]; tar: {latent width:
    sigma} or None, applied for steps 0..until."""
    sched = diffusion.Schedule()
    ddim = diffusion.DDIM(sched, steps, eta)
    shape = (frames, 4, h, w)
    x = diffusion.randn_torch(seed, shape, 0)
    for i, idx in enumerate(reversed(range(len(ddim.ts)))):
        controls = video_unet.TemporalControls(tar={"sigma": tar, "scale": 1.0} if tar and i <= until else None)
        t = torch.full((2,), int(ddim.ts[idx]), dtype=torch.long)
        ctx = torch.cat([uncond, cond])  # [2F, L, D] per frame or [2, L, D]
        with torch.no_grad():
            e = video_unet.to_frames(model(video_unet.to_video(torch.cat([x, x]), frames), t, ctx,
                                           fps=torch.tensor([fps, fps]), controls=controls))
        eu, ec = e.chunk(2)
        eps = eu + cfg * (ec - eu)
        noise = diffusion.randn_torch(seed, shape, 1 + i) if ddim.sigma[idx] > 0 else None
        x, _ = ddim.step(x, eps, idx, noise)
    return x


def to_rgb8(img):
    """[3, H, W] in [-1, 1] -> [H, W, 3] uint8, rounded as the engine does."""
    v = ((img + 1) * 127.5).clamp(0, 255) + 0.5
    return v.clamp(max=255).to(torch.uint8).permute(1, 2, 0)


# ---- the golden fixture ---------------------------------------------------------------------------

PIPE = os.path.join(REPO, "tests", "pipeline")
STAGES = [(0, "a red car on a snowy street at night"), (3, "a blue car on a road in autumn")]
NEGATIVE = "blurry"
CASES = [
    # name, frames, VSP mode, TAR {latent width: sigma}, until
    ("vstar", 4, LINEAR, {16: 1.0}, 1),
    ("plain", 4, OFF, None, -1),
]
H, W, STEPS, CFG, SEED, FPS = 32, 32, 3, 5.0, 11, 8.0


def write_tiny_video_unet(path):
    gen = torch.Generator().manual_seed(1919)
    torch.manual_seed(19)
    model = video_unet.UNet3DModel(UNET3D).eval()
    perturb(model, gen)
    save(prefixed(model, "model.diffusion_model."), path, metadata={"config": json.dumps(UNET3D)})


def load_tiny():
    folder = os.path.join(PIPE, "tiny_model")
    text_path = os.path.join(folder, "text_encoder.safetensors")
    text = load_text_encoder(text_path, load_json_beside(text_path)).eval()
    vae = load_vae(os.path.join(folder, "vae.safetensors"))
    vpath = os.path.join(PIPE, "tiny_video_unet.safetensors")
    sd, meta = load_prefixed(vpath, "model.diffusion_model.")
    model = video_unet.UNet3DModel(json.loads(meta["config"])).eval()
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    return Tokenizer.from_dir(os.path.join(folder, "tokenizer")), text, vae, model


def encode(tok, text, prompts):
    with torch.no_grad():
        hidden, _ = text(torch.tensor([tok.encode(p) for p in prompts]))
    return hidden


def run_case(tok, text, vae, model, frames, mode, tar, until):
    if mode == OFF:
        cond = encode(tok, text, ["; ".join(p for _, p in STAGES)])
        uncond = encode(tok, text, [NEGATIVE])
    else:
        weights = vsp_weights([f for f, _ in STAGES], len(STAGES), frames, mode)
        cond = frame_contexts(encode(tok, text, [p for _, p in STAGES]), weights)
        uncond = encode(tok, text, [NEGATIVE]).expand(frames, -1, -1)
    z = sample(model, cond, uncond, frames, H // 2, W // 2, STEPS, CFG, SEED, 0.0, tar, until, FPS)
    with torch.no_grad():
        rgb = torch.stack([to_rgb8(vae.decode(z[f:f + 1] / vae.scale_factor)[0]) for f in range(frames)])
    return z, rgb


def main():
    torch.set_num_threads(1)
    write_tiny_video_unet(os.path.join(PIPE, "tiny_video_unet.safetensors"))
    tok, text, vae, model = load_tiny()
    out, meta = {}, {"stages": json.dumps(STAGES), "negative": NEGATIVE, "size": f"{W}x{H}", "steps": str(STEPS),
                     "cfg": str(CFG), "seed": str(SEED), "fps": str(FPS), "eta": "0",
                     "cases": json.dumps([[n, f, m, {str(k): v for k, v in (t or {}).items()}, u]
                                          for n, f, m, t, u in CASES])}
    for name, frames, mode, tar, until in CASES:
        z, rgb = run_case(tok, text, vae, model, frames, mode, tar, until)
        out[name + "_frames"] = rgb
        print(name, "latent |max|", float(z.abs().max()), "frames", tuple(rgb.shape))
    save(out, os.path.join(REPO, "tests", "golden", "video", "generate.safetensors"), metadata=meta)


if __name__ == "__main__":
    main()
