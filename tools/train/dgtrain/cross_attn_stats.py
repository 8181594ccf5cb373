"""How spatial a UNet's text attention is (docs/evaluation.md, "Attention guidance"): for one prompt and a
fixed noise latent, the cross-attention probabilities at the finest level that has cross-attention, averaged
over its heads and layers; per prompt token (start token excluded) the max over pixels / mean over pixels,
before and after Divide & Bind's softmax(100 p) over the prompt's tokens, and the share of the attention the
prompt's tokens get. A token attended everywhere alike scores 1.
usage: python3 -m dgtrain.cross_attn_stats UNET.safetensors... [--prompt TEXT] [--t 999,801,601]"""
import argparse
import os

import torch

from . import REPO, attn_loss, ldm_unet
from .clip_text import TextCond


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unets", nargs="+")
    ap.add_argument("--prompt", default="a red car and a blue car on a street")
    ap.add_argument("--t", default="999,801,601")
    ap.add_argument("--text-encoder", default=os.path.join(REPO, "assets/models/text_encoder.safetensors"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    tc = TextCond(args.text_encoder, os.path.join(REPO, "assets/tokenizer"))
    ids = tc.tok([args.prompt])[0].tolist()
    n_prompt = ids.index(ids[-1], 1) - 1  # the prompt's tokens: between the start token and the end token (the padding)
    ctx = tc([args.prompt])
    fmt = lambda r: " ".join(f"{v:.2f}" for v in r.tolist())  # noqa: E731
    for path in args.unets:
        unet = ldm_unet.load_unet(path)[0]
        shape = unet.cfg.get("latent_shape", [4, 16, 32])
        layers, size = attn_loss.chosen_layers(unet, shape, ctx.shape[-1], "cpu")  # the finest level's attn2
        x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
        for m in layers:
            m.keep_attn = True
        for t in (int(v) for v in args.t.split(",")):
            with torch.no_grad():
                unet(x, torch.tensor([t]), ctx)
            p = attn_loss.mean_attention(layers, size)[0, :, 1:1 + n_prompt]
            sm = (100 * p).softmax(-1)
            print(f"{os.path.basename(path)} t={t} pixels={p.shape[0]} prompt share {p.sum(1).mean():.3f} "
                  f"max/mean {fmt(p.max(0).values / p.mean(0))} | softmax(100p) {fmt(sm.max(0).values / sm.mean(0))}")

if __name__ == "__main__":
    main()
