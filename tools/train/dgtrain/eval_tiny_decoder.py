"""PSNR of an exported tiny decoder (as shipped: its float16 weights) against the VAE decoder's output and
against the real image, on held-out world images the trainer never selected on: --skip the first images of
--val (train_tiny_decoder --export-best chose by its first --val-count), then --count of them. Latents are the
VAE encoder's posterior means. Prints one JSON line (also --out FILE).

    cd tools/train && nice -n 19 /usr/bin/python3 -m dgtrain.eval_tiny_decoder --threads 1 \
        --vae ../../assets/models/vae.safetensors --tiny ../../assets/models/tiny_decoder.safetensors \
        --val ../../data/world/val --skip 32 --count 200
"""
import argparse
import json
import time

import torch

from .ldm_vae import load_vae, psnr_each
from .tiny_decoder import load_tiny_decoder
from .world_data import WorldTensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vae", required=True)
    ap.add_argument("--tiny", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--skip", type=int, default=32)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    vae, tiny = load_vae(args.vae), load_tiny_decoder(args.tiny)
    data = WorldTensors(args.val, args.skip + args.count)
    p_t, p_r, p_vr = [], [], []
    with torch.no_grad():
        for s in range(args.skip, len(data), 8):
            x = data.images[s:min(len(data), s + 8)].float() / 127.5 - 1.0
            z = vae.encode(x)
            t = vae.decode(z).clamp(-1, 1)
            y = tiny(z).clamp(-1, 1)
            p_t += psnr_each(t, y)
            p_r += psnr_each(x, y)
            p_vr += psnr_each(x, t)
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    out = {"images": len(p_t), "val": args.val, "skip": args.skip, "tiny": args.tiny,
           "psnr_tiny_vs_vae_db": mean(p_t), "psnr_tiny_vs_real_db": mean(p_r), "psnr_vae_vs_real_db": mean(p_vr),
           "seconds": time.time() - t0}
    text = json.dumps(out)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
