"""Exports G_ema of a train_stylegan checkpoint (runs/NAME/ckpt.pt) while that run goes on: a frozen snapshot for
train_mne, with StyleGAN2-ADA names, its config and the checkpoint's step in the record.

cd tools/train && /usr/bin/python3 -m dgtrain.export_stylegan_checkpoint ../../runs/stylegan/ckpt.pt ../../runs/g_step
"""
import argparse

import torch

from . import stylegan2 as S
from .exports import export


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("export", help="PATH(.safetensors); PATH.json gets the config and record")
    ap.add_argument("--config", help="the run's --config JSON when it had one")
    args = ap.parse_args(argv)
    state = torch.load(args.ckpt, map_location="cpu")
    cfg = S.config(None)
    if args.config:
        from .exports import load_json_beside
        cfg = S.config(load_json_beside("", args.config))
    g = S.Generator(cfg)
    g.load_state_dict(state["g_ema"])
    export(args.export, S.state_for_export(g), "", cfg,
           {"format": "stylegan2-ada-names", "training": {"checkpoint": args.ckpt, "steps": state["step"],
                                                          "fds": state.get("fds", [])}})
    print(f"exported G_ema of step {state['step']} to {args.export}")


if __name__ == "__main__":
    main()
