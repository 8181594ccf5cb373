#!/usr/bin/python3
"""Exports the EMA weights of a train_unet.py run from its checkpoint, for a run stopped before its planned
step count (train_unet.py exports by itself when it reaches --steps).

    /usr/bin/python3 tools/train/export_unet_checkpoint.py runs/unet assets/models/unet.safetensors "COMMAND"
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from dgtrain import ldm_unet  # noqa: E402
from dgtrain import train_common as C  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        raise SystemExit(__doc__)
    run, out, command = argv
    state = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")
    unet = ldm_unet.UNetModel(state["config"])
    unet.load_state_dict({k: v.to(unet.state_dict()[k].dtype) for k, v in state["ema"].items()})
    path = C.export(out, unet.state_dict(), "model.diffusion_model.", state["config"],
                    {"training": f"{command} | stopped at step {state['step']} | EMA weights"})
    print(f"exported step {state['step']} EMA weights to {out} and {path}")


if __name__ == "__main__":
    main()
