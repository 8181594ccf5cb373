"""Generates images with exported weights (the reference of what the engine computes): text-to-image, or
layout-to-image with a ControlNet and a label PNG. Noise from the Philox RNG (docs/rng.md), so a seed gives the
same latents as the engine.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.sample_image \
        --unet ../../assets/models/unet.safetensors --vae ../../assets/models/vae.safetensors \
        --text-encoder ../../assets/models/text_encoder.safetensors --tokenizer ../../assets/tokenizer \
        --prompt "a red car on a road" --seed 1 --out out.png \
        [--controlnet ../../assets/models/controlnet_aldm.safetensors --label layout.png] [--sampler plms --steps 50]
"""
import argparse

import torch

from . import plumbing as P
from .generate import Generator, save_grid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--unet", required=True)
    P.add_vae_args(ap)
    P.add_text_args(ap)
    ap.add_argument("--prompt", action="append", required=True, help="repeat for a batch")
    ap.add_argument("--negative", default="", help="negative / unconditional prompt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sampler", choices=["ddim", "plms"], default="ddim")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--eta", type=float, default=0.0)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--controlnet", help="ControlNet safetensors (control_model.*), .json beside")
    ap.add_argument("--label", help="layout: 8-bit label PNG (class ids, 255 unlabelled) at image size")
    ap.add_argument("--latent", default="16x32", help="latent HxW when there is no --label")
    ap.add_argument("--out", required=True, help="PNG (a grid when several prompts)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.controlnet and not args.label:
        raise SystemExit("--controlnet needs --label")
    gen = Generator(args.unet, args.vae, args.text_encoder, args.tokenizer, args.text_config, args.controlnet)
    b = len(args.prompt)
    labels = None
    if args.label:
        from .world_data import load_label
        labels = load_label(args.label)[None].expand(b, -1, -1)
    img = gen(args.prompt, labels, args.seed, args.negative, args.sampler, args.steps, args.eta, args.cfg,
              tuple(int(v) for v in args.latent.lower().split("x")))
    save_grid(img, args.out, cols=min(4, b))
    print(f"wrote {args.out}: {b} image(s) {tuple(img.shape[2:])}, {args.sampler} {args.steps} steps, CFG {args.cfg}, "
          f"seed {args.seed}")
    return img


if __name__ == "__main__":
    main()
