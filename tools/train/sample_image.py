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
from train_controlnet import colour_hint  # noqa: E402
from train_unet import load_unet, save_grid  # noqa: E402


def load_controlnet(path):
    """(ControlNet, config, class-embedding table or None) from an exported ControlNet."""
    sd, _ = C.load_prefixed(path, "control_model.")
    cfg = C.load_json_beside(path)
    cn = controlnet.ControlNet({k: v for k, v in cfg.items() if k in controlnet.SD15_ID}).eval()
    cn.load_state_dict(sd)
    for p in cn.parameters():
        p.requires_grad_(False)
    table = C.load_prefixed(path, "dirigent.")[0]["class_embeddings"].float() if cfg["hint_mode"] == "id" else None
    return cn, cfg, table


class Generator:
    """Exported UNet + VAE + text encoder (+ optional ControlNet): prompts (and label maps) -> images in [-1,1]."""

    def __init__(self, unet, vae, text_encoder, tokenizer, text_config=None, controlnet_path=None):
        self.unet, _ = load_unet(unet, "cpu")
        self.vae = C.load_vae(vae, "cpu")
        self.text = C.TextCond(text_encoder, tokenizer, text_config, "cpu")
        self.f = 2 ** (len(self.vae.cfg["ch_mult"]) - 1)
        self.cn = None
        if controlnet_path:
            self.cn, self.cn_cfg, self.table = load_controlnet(controlnet_path)

    def hint(self, labels, lh, lw):
        if self.cn_cfg["hint_mode"] == "id":
            return controlnet.id_hint(labels, self.table, (2 * lh, 2 * lw))
        from dgtrain.world_data import load_palette
        return colour_hint(labels, torch.as_tensor(load_palette()["colors"]))

    @torch.no_grad()
    def __call__(self, prompts, labels=None, seed=0, negative="", sampler="ddim", steps=25, eta=0.0, cfg=7.5,
                 latent=(16, 32)):
        """prompts: list of B strings; labels: int64 [B,H,W] class ids (needs a ControlNet). Returns [B,3,H,W]."""
        b = len(prompts)
        cond, uncond = self.text(prompts), self.text([negative] * b)
        lh, lw = latent
        control_fn = None
        if labels is not None:
            if self.cn is None:
                raise ValueError("a layout needs a ControlNet")
            lh, lw = labels.shape[1] // self.f, labels.shape[2] // self.f
            hint = self.hint(labels, lh, lw)

            def control_fn(x, t, c):
                return self.cn(x, torch.cat([hint] * (x.shape[0] // b)), t, c)

        def fn(x, t, c):
            return self.unet(x, t, c, control_fn(x, t, c) if control_fn else None)

        sched = diffusion.Schedule()
        smp = diffusion.DDIM(sched, steps, eta) if sampler == "ddim" else diffusion.PLMS(sched, steps)
        z, _ = smp.sample(fn, (b, self.unet.cfg["in_channels"], lh, lw), seed, cond, uncond, cfg)
        return self.vae.decode(z / self.vae.scale_factor)


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
    if args.controlnet and not args.label:
        raise SystemExit("--controlnet needs --label")
    gen = Generator(args.unet, args.vae, args.text_encoder, args.tokenizer, args.text_config, args.controlnet)
    b = len(args.prompt)
    labels = None
    if args.label:
        from dgtrain.world_data import load_label
        labels = load_label(args.label)[None].expand(b, -1, -1)
    img = gen(args.prompt, labels, args.seed, args.negative, args.sampler, args.steps, args.eta, args.cfg,
              tuple(int(v) for v in args.latent.lower().split("x")))
    save_grid(img, args.out, cols=min(4, b))
    print(f"wrote {args.out}: {b} image(s) {tuple(img.shape[2:])}, {args.sampler} {args.steps} steps, CFG {args.cfg}, "
          f"seed {args.seed}")
    return img


if __name__ == "__main__":
    main()
