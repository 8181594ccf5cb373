"""Exports the EMA weights of a train_unet run from its checkpoint, for a run stopped before its planned
step count (train_unet exports by itself when it reaches --steps).

    cd tools/train && /usr/bin/python3 -m dgtrain.export_unet_checkpoint ../../runs/unet ../../assets/models/unet.safetensors "COMMAND"
"""
import os
import sys

import torch

from . import ldm_unet
from .exports import export


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        raise SystemExit(__doc__)
    run, out, command = argv
    state = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")
    unet = ldm_unet.UNetModel(state["config"])
    unet.load_state_dict({k: v.to(unet.state_dict()[k].dtype) for k, v in state["ema"].items()})
    path = export(out, unet.state_dict(), "model.diffusion_model.", state["config"],
                    {"training": f"{command} | stopped at step {state['step']} | EMA weights"})
    print(f"exported step {state['step']} EMA weights to {out} and {path}")


if __name__ == "__main__":
    main()
