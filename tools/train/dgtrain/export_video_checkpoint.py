"""Exports the text-to-video UNet in VideoCrafter2's checkpoint layout: model.diffusion_model.* keys (the
UNet3D's own names: temopral_conv, init_attn, fps_embedding, temporal transformers at input_blocks.N.2,
middle_block.2, output_blocks.N.2) in one safetensors file with its JSON record beside (dgtrain.exports).

    python3 -m dgtrain.export_video_checkpoint runs/cont/video/ckpt.pt out.safetensors [--raw]
writes a training checkpoint's EMA weights (--raw: the live weights)."""
import argparse

import torch

from .video_common import export_video

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--raw", action="store_true", help="the live weights, not the EMA")
    args = ap.parse_args(argv)
    state = torch.load(args.ckpt, map_location="cpu")
    sd = state["unet"] if args.raw else state["ema"]
    print(export_video(args.out, sd, state["config"],
                       {"training": f"{args.ckpt} step {state['step']} ({'live' if args.raw else 'EMA'})"}))


if __name__ == "__main__":
    main()
