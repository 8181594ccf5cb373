"""Exports the text-to-video UNet in VideoCrafter2's checkpoint layout: model.diffusion_model.* keys (the
UNet3D's own names: temopral_conv, init_attn, fps_embedding, temporal transformers at input_blocks.N.2,
middle_block.2, output_blocks.N.2) in one safetensors file with its JSON record beside (dgtrain.exports).

    python3 -m dgtrain.export_video_checkpoint runs/cont/video/ckpt.pt|EXPORT.safetensors out.safetensors [--raw]
writes a training checkpoint's EMA weights (or re-exports an earlier export with its record) (--raw: the live weights); --over UNET writes only the layers the
image UNet file lacks (the shipped default: assets/models/video_unet.safetensors over unet.safetensors)."""
import argparse

import torch

from .exports import RECORD_KEYS, load_json_beside
from .video_common import export_video, load_video_export

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--raw", action="store_true", help="the live weights, not the EMA")
    ap.add_argument("--over", help="the image UNet safetensors the spatial layers came from (written beside it)")
    args = ap.parse_args(argv)
    if args.ckpt.endswith(".safetensors"):  # an earlier export: its weights, config and record as they are
        sd, _ = load_video_export(args.ckpt)
        cfg = load_json_beside(args.ckpt)
        record = {k: cfg[k] for k in RECORD_KEYS if k in cfg}
    else:
        state = torch.load(args.ckpt, map_location="cpu")
        sd, cfg = state["unet"] if args.raw else state["ema"], state["config"]
        record = {"training": f"{args.ckpt} step {state['step']} ({'live' if args.raw else 'EMA'})"}
    print(export_video(args.out, sd, cfg, record, over=args.over))


if __name__ == "__main__":
    main()
