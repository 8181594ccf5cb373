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
from .mne import psnr
from . import stylegan2 as S
from .perceptual import Perceptual
from .world_data import WorldTensors


@torch.no_grad()
def encode(e, images, batch=16):
    """(ws [N, num_ws, w_dim], [the two noise maps [N, C, h, w]] or [] for a W+ only encoder) of images [N,3,H,W]."""
    ws, noises = [], []
    for i in range(0, len(images), batch):
        w, n = e(images[i:i + batch])
        ws.append(w)
        noises.append(n)
    return torch.cat(ws), [torch.cat(m) for m in zip(*noises)]


@torch.no_grad()
def synthesize(e, g, ws, noises, batch=16):
    """G(ws, noise maps) as at inference (const noise elsewhere), clamped to [-1, 1]."""
    out = []
    for i in range(0, len(ws), batch):
        nz = e.noise_dict([n[i:i + batch] for n in noises])
        out.append(g.synthesis(ws[i:i + batch], noise_mode="const", noises=nz).clamp(-1, 1))
    return torch.cat(out)


@torch.no_grad()
def distances(rec, img, perc=None, batch=16):
    """Per-image {"psnr", "mse" (pixels in [0, 1]), "perceptual" (with perc)} of reconstructions rec of img."""
    out = {"psnr": psnr(rec, img), "mse": ((rec.clamp(-1, 1) - img) / 2).square().mean(dim=(1, 2, 3))}
    if perc is not None:
        out["perceptual"] = torch.cat([perc(rec[i:i + batch], img[i:i + batch]) for i in range(0, len(img), batch)])
    return out


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
