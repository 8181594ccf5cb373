"""Writes tests/golden/stylegan/: a tiny random StyleGAN2 generator with StyleGAN2-ADA's names
(weights.safetensors, F32, config in its metadata and weights.json) and fixture.safetensors (F32): z [2, 16],
w = mapping(z, psi 0.7) [2, 16]; ws [2, 8, 16] with a different w per layer; image_const = synthesis(ws) with the
noise_const buffers; noise.0..6 [2, 1, H, W] and image_noise with them; image_none without noise; bad_missing and
bad_shape.safetensors (the mapping only; fc1.weight [16, 8]) for the loader's errors. Deterministic.

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_stylegan
"""
import argparse
import json
import os

import torch

from . import stylegan2 as S
from .safetensors_io import save

CONFIG = {"z_dim": 16, "w_dim": 16, "mapping_layers": 3, "base": [4, 8], "resolution": 32,
          "channels": {"4": 16, "8": 16, "16": 8, "32": 8}, "conv_clamp": 256.0, "lr_multiplier": 0.01}


def make(gen):
    g = S.Generator(CONFIG)
    with torch.no_grad():  # every parameter and buffer away from its init, so each path shows
        for k, v in g.state_dict().items():
            if "resample_filter" in k:
                continue
            if k.endswith("noise_strength"):
                v.copy_(torch.rand([], generator=gen) + 0.3)
            elif k.endswith("affine.bias"):
                v.copy_(1 + 0.3 * torch.randn(v.shape, generator=gen))
            elif k.endswith(".bias") or k.endswith("w_avg"):
                v.copy_(0.2 * torch.randn(v.shape, generator=gen) / (CONFIG["lr_multiplier"] if "mapping.fc" in k else 1))
            else:
                v.copy_(torch.randn(v.shape, generator=gen))
    return g.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden",
                                                  "stylegan"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(20)
    g = make(gen)
    cfg = S.config(CONFIG)
    save(S.state_for_export(g), os.path.join(args.out, "weights.safetensors"),
         {"format": "stylegan2-ada-names", "config": json.dumps(cfg)})
    with open(os.path.join(args.out, "weights.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    sd = S.state_for_export(g)  # broken stores for the loader's errors: the mapping only; fc1 mis-shaped
    mapping = {k: v for k, v in sd.items() if k.startswith("mapping.")}
    save(mapping, os.path.join(args.out, "bad_missing.safetensors"))
    save(dict(mapping, **{"mapping.fc1.weight": mapping["mapping.fc1.weight"][:, :8].contiguous()}),
         os.path.join(args.out, "bad_shape.safetensors"))
    out = {}
    with torch.no_grad():
        out["z"] = torch.randn(2, CONFIG["z_dim"], generator=gen)
        out["w"] = g.mapping(out["z"], truncation_psi=0.7)[:, 0]
        out["ws"] = out["w"][:, None] + 0.5 * torch.randn(2, g.num_ws, CONFIG["w_dim"], generator=gen)
        out["image_const"] = g.synthesis(out["ws"], noise_mode="const")
        out["image_none"] = g.synthesis(out["ws"], noise_mode="none")
        noises = {}
        for i, (name, (h, w)) in enumerate(g.synthesis.noise_shapes()):
            out[f"noise.{i}"] = noises[name] = torch.randn(2, 1, h, w, generator=gen)
        out["image_noise"] = g.synthesis(out["ws"], noise_mode="none", noises=noises)
    save({k: v.float().contiguous() for k, v in out.items()}, os.path.join(args.out, "fixture.safetensors"),
         {"what": __doc__.split("\n")[1]})
    for k, v in out.items():
        print(k, list(v.shape), f"{v.abs().max().item():.3g}")


if __name__ == "__main__":
    main()
