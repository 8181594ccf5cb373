"""Writes tests/golden/tiny_decoder/: a small random tiny decoder (dgtrain.tiny_decoder; widths 16/12/8/8, blocks
1/2/0/1, so every kind of layer and a block at the last level show) with its engine names under `tiny_decoder.`
(weights.safetensors, F32, config in its metadata), fixture.safetensors (F32): z [2, 4, 4, 8] and image =
decoder(z) [2, 3, 32, 64]; bad_missing.safetensors (level.1.block.1.conv2.bias left out) and bad_shape.safetensors
(up.1.weight [8, 10, 3, 3] where the widths give [8, 12, 3, 3]) for the loader's errors. Deterministic.

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_tiny_decoder
"""
import argparse
import json
import os

import torch

from .safetensors_io import save
from .tiny_decoder import TinyDecoder

CONFIG = {"latent_channels": 4, "channels": [16, 12, 8, 8], "blocks": [1, 2, 0, 1]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden",
                                                  "tiny_decoder"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(22)
    m = TinyDecoder(CONFIG).eval()
    with torch.no_grad():  # He-scaled weights and non-zero biases: activations neither vanish nor all pass ReLU
        for k, v in m.state_dict().items():
            if k.endswith(".bias"):
                v.copy_(0.1 * torch.randn(v.shape, generator=gen))
            else:
                v.copy_(torch.randn(v.shape, generator=gen) * (2.0 / (v.shape[1] * 9)) ** 0.5)
    sd = {"tiny_decoder." + k: v.float().contiguous() for k, v in m.state_dict().items()}
    save(sd, os.path.join(args.out, "weights.safetensors"), {"config": json.dumps(CONFIG)})
    bad = dict(sd)
    del bad["tiny_decoder.level.1.block.1.conv2.bias"]
    save(bad, os.path.join(args.out, "bad_missing.safetensors"))
    bad = dict(sd, **{"tiny_decoder.up.1.weight": sd["tiny_decoder.up.1.weight"][:, :10].contiguous()})
    save(bad, os.path.join(args.out, "bad_shape.safetensors"))
    out = {"z": 1.5 * torch.randn(2, 4, 4, 8, generator=gen)}
    with torch.no_grad():
        out["image"] = m(out["z"])
    save({k: v.float().contiguous() for k, v in out.items()}, os.path.join(args.out, "fixture.safetensors"),
         {"what": __doc__.split("\n")[1]})
    for k, v in out.items():
        print(k, list(v.shape), f"max {v.abs().max().item():.3g}, std {v.std().item():.3g}")


if __name__ == "__main__":
    main()
