#!/usr/bin/python3
"""Generates images with exported weights (the reference of what the engine computes): text-to-image, or
layout-to-image with a ControlNet and a label PNG. Noise from the Philox RNG (docs/rng.md), so a seed gives the
same latents as the engine.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/sample_image.py --unet assets/models/unet.safetensors \
        --vae assets/models/vae.safetensors --text-encoder assets/models/text_encoder.safetensors \
        --tokenizer assets/tokenizer --prompt "a red car on a road" --seed 1 --out out.png \
        [--controlnet assets/models/controlnet_aldm.safetensors --label layout.png] [--sampler plms --steps 50]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from dgtrain import controlnet, diffusion  # noqa: E402
from dgtrain import train_common as C  # noqa: E402
from train_controlnet import colour_hint, load_unet  # noqa: E402
from train_unet import save_grid  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--unet", required=True)
    C.add_vae_args(ap)
    C.add_text_args(ap)
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
    dev = "cpu"
    unet, _ = load_unet(args.unet, dev)
    vae = C.load_vae(args.vae, dev)
    text = C.TextCond(args.text_encoder, args.tokenizer, args.text_config, dev)
    b = len(args.prompt)
    cond, uncond = text(args.prompt), text([args.negative] * b)
    f = 2 ** (len(vae.cfg["ch_mult"]) - 1)
    lh, lw = (int(v) for v in args.latent.lower().split("x"))
    control_fn = None
    if args.controlnet:
        if not args.label:
            raise SystemExit("--controlnet needs --label")
        from dgtrain.world_data import load_label
        sd, _ = C.load_prefixed(args.controlnet, "control_model.")
        cfg = C.load_json_beside(args.controlnet)
        cn = controlnet.ControlNet({k: v for k, v in cfg.items() if k in controlnet.SD15_ID}).eval()
        cn.load_state_dict(sd)
        label = load_label(args.label)[None].expand(b, -1, -1)
        lh, lw = label.shape[1] // f, label.shape[2] // f
        if cfg["hint_mode"] == "id":
            table, _ = C.load_prefixed(args.controlnet, "dirigent.")
            hint = controlnet.id_hint(label, table["class_embeddings"], (2 * lh, 2 * lw))
        else:
            from dgtrain.world_data import load_palette
            hint = colour_hint(label, torch.as_tensor(load_palette()["colors"]))

        def control_fn(x, t, c):
            return cn(x, torch.cat([hint] * (x.shape[0] // b)), t, c)

    def fn(x, t, c):
        with torch.no_grad():
            return unet(x, t, c, control_fn(x, t, c) if control_fn else None)

    sched = diffusion.Schedule()
    sampler = diffusion.DDIM(sched, args.steps, args.eta) if args.sampler == "ddim" else diffusion.PLMS(sched, args.steps)
    z, _ = sampler.sample(fn, (b, unet.cfg["in_channels"], lh, lw), args.seed, cond, uncond, args.cfg)
    with torch.no_grad():
        img = vae.decode(z / vae.scale_factor)
    save_grid(img, args.out, cols=min(4, b))
    print(f"wrote {args.out}: {b} image(s) {tuple(img.shape[2:])}, {args.sampler} {args.steps} steps, CFG {args.cfg}, "
          f"seed {args.seed}")
    return img


if __name__ == "__main__":
    main()
