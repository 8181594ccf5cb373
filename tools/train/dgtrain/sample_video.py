"""Samples clips from the text-to-video UNet in PyTorch (DDIM, classifier-free guidance, Philox noise as the
engine draws it; independent noise per frame) and measures temporal coherence: the mean adjacent-frame L1
(0..255) of generated clips against the real clips of the same captions.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.sample_video \
        --model ../../runs/cont/video.safetensors --vae ../../assets/models/vae.safetensors \
        --text-encoder ../../assets/models/text_encoder.safetensors --tokenizer ../../assets/tokenizer \
        --val ../../data/video/val --clips 4 --steps 25 --out ../../runs/video_samples.png
--model takes an export (.safetensors), a training checkpoint (ckpt.pt: its EMA weights) or, with --image, the
image UNet inflated (the untrained start: the image model on every frame)."""
import argparse

import torch

from . import diffusion, video_common, video_unet
from .generate import save_grid


def load_video(path, image=False):
    """(UNet3D in eval mode, config) from an export, a ckpt.pt (EMA weights) or (image) an image UNet inflated."""
    if image:
        model, cfg = video_common.inflated_from_image(path)
    elif path.endswith(".pt"):
        state = torch.load(path, map_location="cpu")
        cfg = state["config"]
        model = video_unet.UNet3DModel(cfg)
        model.load_state_dict(state["ema"])
    else:
        sd, cfg = video_common.load_video_export(path)
        model = video_unet.UNet3DModel(cfg)
        model.load_state_dict(sd)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, dict(model.cfg)


@torch.no_grad()
def sample(model, cond, uncond, shape, seed=0, steps=25, scale=7.5, fps=8.0):
    """Latents [B, C, F, h, w] of DDIM with CFG; cond/uncond [B, L, D]; shape (C, F, h, w)."""
    sched = diffusion.Schedule()

    def fn(x, t, c):
        return model(x, t, c, fps=fps)
    z, _ = diffusion.DDIM(sched, steps).sample(fn, (len(cond),) + tuple(shape), seed, cond, uncond, scale)
    return z


@torch.no_grad()
def decode(vae, z):
    """Latents [B, C, F, h, w] -> frames [B, F, 3, H, W] in [-1, 1]."""
    b, f = z.shape[0], z.shape[2]
    x = vae.decode(video_unet.to_frames(z) / vae.scale_factor).clamp(-1, 1)
    return x.reshape((b, f) + tuple(x.shape[1:]))


def main(argv=None):
    from . import plumbing as P
    from .clip_text import TextCond
    from .ldm_vae import load_vae
    from .world_data import WorldClips
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--image", action="store_true", help="--model is an image UNet: inflate it (the start)")
    P.add_vae_args(ap)
    P.add_text_args(ap)
    ap.add_argument("--val", required=True, help="video dataset whose first --clips captions are sampled")
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--fps", type=float, default=8.0)
    ap.add_argument("--out", help="PNG: one row of frames per clip")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, cfg = load_video(args.model, args.image)
    vae = load_vae(args.vae)
    text = TextCond(args.text_encoder, args.tokenizer, args.text_config)
    real = WorldClips(args.val, args.clips)
    n, f, _, h, w = real.frames.shape
    lat = (cfg["in_channels"], f, h // 8, w // 8)
    clips = []
    for i in range(n):  # one at a time: one clip's CFG batch is what the CPU holds comfortably
        z = sample(model, text([real.captions[i]]), text([""]), lat, args.seed + i, args.steps, args.cfg, args.fps)
        clips.append(decode(vae, z))
    clips = torch.cat(clips)
    gen_l1, real_l1 = video_common.adjacent_l1(clips), video_common.adjacent_l1(real.frames)
    print(f"{args.model}: {n} clips of {f} frames, DDIM {args.steps} CFG {args.cfg} fps {args.fps:g}: adjacent-frame "
          f"L1 generated {gen_l1:.2f}, real {real_l1:.2f} (0..255)")
    if args.out:
        save_grid(clips.reshape((-1,) + tuple(clips.shape[2:])), args.out, cols=f)
    return gen_l1, real_l1


if __name__ == "__main__":
    main()
