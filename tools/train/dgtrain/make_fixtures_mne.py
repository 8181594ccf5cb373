"""Writes tests/golden/mne/: a tiny random Masked Noise Encoder (dgtrain.mne, the reference's names) for the
generator of tests/golden/stylegan (32x64, 8 ws of 16, noise maps for block b8: 16 channels at 8x16):
weights.safetensors (F32, config in its metadata and weights.json), weights_wplus.safetensors (the same without
noise_net: the W+-only ablation) and fixture.safetensors (F32): images [2, 3, 32, 64]; ws [2, 8, 16], noise.0 and
noise.1 [2, 16, 8, 16] = E(images) in eval mode; image_recon = G.synthesis(ws, those noise maps, const noise
elsewhere); image_mix = the same for item 0 with ws 0 + 0.6 (ws 1 - ws 0) (style mixing, the content's noise);
bad_missing.safetensors (no fine_styles.0.linear.linear.bias) and bad_shape.safetensors (FPN_module.layer2.0.conv2
.weight [4, 4, 1, 1]) for the loader's errors. Deterministic; run make_fixtures_stylegan first.

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_mne
"""
import argparse
import json
import os

import torch

from . import mne as M
from . import stylegan2 as S
from .safetensors_io import save

CONFIG = {"image": [32, 64], "num_ws": 8, "w_dim": 16, "stem": 8, "widths": [4, 4, 8, 8], "blocks": [1, 2, 1, 1],
          "expansion": 2, "fpn_dim": 8, "style_dim": 8, "style_split": [2, 3], "noise_res": 8, "noise_channels": 16,
          "noise_convs": 3, "lrelu": 0.01}


def make(gen):
    e = M.FPNEncoder(CONFIG, "masked")
    with torch.no_grad():  # BatchNorm statistics and affines away from their init, so the folding shows
        for k, v in e.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            if k.endswith("running_var"):
                v.copy_(0.5 + torch.rand(v.shape, generator=gen))
            elif k.endswith("running_mean") or k.endswith(".bias"):
                v.copy_(0.2 * torch.randn(v.shape, generator=gen))
            elif ".bn" in k or "downsample.1" in k:
                v.copy_(1 + 0.2 * torch.randn(v.shape, generator=gen))
            else:
                fan_in = v[0].numel() if v.ndim > 1 else 1
                v.copy_(torch.randn(v.shape, generator=gen) * (1.0 if "weight_orig" in k else 1.5 / fan_in ** 0.5))
    return e.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden")
    ap.add_argument("--out", default=os.path.join(root, "mne"))
    ap.add_argument("--generator", default=os.path.join(root, "stylegan", "weights.safetensors"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(21)
    e = make(gen)
    g = S.load_generator(args.generator).eval()
    cfg = dict(M.config(CONFIG), mode="masked")
    sd = M.state_for_export(e)
    save(sd, os.path.join(args.out, "weights.safetensors"), {"format": "issa-fpn-encoder-names", "config": json.dumps(cfg)})
    with open(os.path.join(args.out, "weights.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    wplus = {k: v for k, v in sd.items() if not k.startswith("noise_net.")}
    save(wplus, os.path.join(args.out, "weights_wplus.safetensors"),
         {"config": json.dumps(dict(cfg, mode="wplus"))})
    save({k: v for k, v in sd.items() if k != "fine_styles.0.linear.linear.bias"},
         os.path.join(args.out, "bad_missing.safetensors"), {"config": json.dumps(cfg)})
    save(dict(sd, **{"FPN_module.layer2.0.conv2.weight": torch.zeros(4, 4, 1, 1)}),
         os.path.join(args.out, "bad_shape.safetensors"), {"config": json.dumps(cfg)})
    out = {}
    with torch.no_grad():
        out["images"] = torch.rand(2, 3, *CONFIG["image"], generator=gen) * 2 - 1
        ws, noises = e(out["images"])
        out["ws"], out["noise.0"], out["noise.1"] = ws, noises[0], noises[1]
        out["image_recon"] = g.synthesis(ws, noise_mode="const", noises=e.noise_dict(noises))
        mixed = S.mix_ws(ws[:1], [ws[1:]], 0.6)
        out["image_mix"] = g.synthesis(mixed, noise_mode="const", noises=e.noise_dict([n[:1] for n in noises]))
    save({k: v.float().contiguous() for k, v in out.items()}, os.path.join(args.out, "fixture.safetensors"),
         {"what": __doc__.split("\n")[1]})
    for k, v in out.items():
        print(k, list(v.shape), f"{v.abs().max().item():.3g}")


if __name__ == "__main__":
    main()
