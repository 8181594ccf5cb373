"""Reconstruction of held-out images through an exported Masked Noise Encoder and its generator: G(E(x)) without
masking (the generator's const noise elsewhere), mean PSNR (dB, pixels in [0, 1]) with its 95% interval, MSE and
the perceptual distance of dgtrain.perceptual when --perceptual is given; JSON on stdout.

cd tools/train && /usr/bin/python3 -m dgtrain.eval_mne --encoder ../../runs/mne_masked/mne.safetensors \
    --generator ../../runs/stylegan/g_snap.safetensors --data ../../data/world/val --count 500
"""
import argparse
import json

import torch

from . import mne as M
from .mne import distances, encode, synthesize
from . import stylegan2 as S
from .perceptual import Perceptual
from .world_data import WorldTensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--generator", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--perceptual")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    e, g = M.load_encoder(args.encoder), S.load_generator(args.generator).eval()
    data = WorldTensors(args.data, max_images=args.count)
    perc = Perceptual(args.perceptual) if args.perceptual else None
    img = data.images.float() / 127.5 - 1.0
    d = distances(synthesize(e, g, *encode(e, img)), img, perc)
    p = d["psnr"]
    out = {"images": len(p), "psnr": p.mean().item(), "psnr_ci95": 1.96 * p.std().item() / len(p) ** 0.5,
           "psnr_min": p.min().item(), "mse": d["mse"].mean().item(), "mode": e.mode}
    if perc:
        out["perceptual"] = d["perceptual"].mean().item()
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
