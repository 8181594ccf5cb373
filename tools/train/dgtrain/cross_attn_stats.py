"""How spatial a UNet's text attention is (docs/evaluation.md, "Attention guidance"): for one prompt and a
fixed noise latent, the cross-attention probabilities at the finest level that has cross-attention, averaged
over its heads and layers; per prompt token (start token excluded) the max over pixels / mean over pixels,
before and after Divide & Bind's softmax(100 p) over the prompt's tokens, and the share of the attention the
prompt's tokens get. A token attended everywhere alike scores 1.
usage: python3 -m dgtrain.cross_attn_stats UNET.safetensors... [--prompt TEXT] [--t 999,801,601]"""
import argparse
import os

import torch

from . import REPO, ldm_unet
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
    maps = []

    def probs(mod, inp, _out):
        x, context = inp
        b, n, _ = x.shape
        q = mod.to_q(x).reshape(b, n, mod.heads, -1).transpose(1, 2)
        k = mod.to_k(context).reshape(b, context.shape[1], mod.heads, -1).transpose(1, 2)
        maps.append((q @ k.transpose(-1, -2) * mod.scale).softmax(-1).mean(1)[0])  # [pixels, 77]

    for path in args.unets:
        unet = ldm_unet.load_unet(path)[0]
        hooks = [m.register_forward_hook(probs) for name, m in unet.named_modules() if name.endswith("attn2")]
        x = torch.randn(1, *unet.cfg.get("latent_shape", [4, 16, 32]), generator=torch.Generator().manual_seed(0))
        for t in (int(v) for v in args.t.split(",")):
            maps.clear()
            with torch.no_grad():
                unet(x, torch.tensor([t]), ctx)
            pixels = max(m.shape[0] for m in maps)
            p = torch.stack([m for m in maps if m.shape[0] == pixels]).mean(0)[:, 1:1 + n_prompt]
            sm = (100 * p).softmax(-1)
            fmt = lambda r: " ".join(f"{v:.2f}" for v in r.tolist())  # noqa: E731
            print(f"{os.path.basename(path)} t={t} pixels={pixels} prompt share {p.sum(1).mean():.3f} "
                  f"max/mean {fmt(p.max(0).values / p.mean(0))} | softmax(100p) {fmt(sm.max(0).values / sm.mean(0))}")
        for h in hooks:
            h.remove()


if __name__ == "__main__":
    main()
