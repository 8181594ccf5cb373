"""ISSA as augmentation (issue #20, thesis Table 3.2's use): a small segmenter trained on a restricted source
(world training images of clear days only) without augmentation, with FDA, or with ISSA style mixing inside the
source (both exemplars drawn from the source too), the same fixed number of steps, seed and batch order, and
tested on held-out images of other styles (night, fog, rain, snow) and on the source style itself: mIoU per
target with 95% bootstrap intervals over the test images. JSON report and Markdown (docs/evaluation.md).

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.issa_aug \
    --encoder ../../runs/mne_masked_step1841/mne.safetensors --generator ../../runs/stylegan_mne/g_snap1.safetensors \
    --steps 300 --out ../../docs/eval/issa_aug.json

Augmentation (each training item with probability --p): FDA = the engine's swap (beta 0.05, strength 0.8) with a
random other source image; ISSA = G(ws of a random other source image, the item's own noise maps), precomputed
as --bank versions per source image through the encoder (the label stays the item's).
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

from . import REPO
from . import mne as M
from . import plumbing as P
from . import segmenter as SG
from . import stylegan2 as S
from .mne import encode, synthesize
from .fda import fda
from .stats import draw_weights, miou_ci
from .world_data import WorldTensors, read_index

SMALL = {"stem": 16, "channels": [16, 32, 64, 128], "blocks": [1, 1, 1, 1], "fpn_dim": 32}
TARGETS = {"source (day, clear)": ("day", "clear"), "night (clear)": ("night", "clear"),
           "fog (day)": ("day", "fog"), "rain (day)": ("day", "rain"), "snow (day)": ("day", "snow")}


def select(root, time_of_day, weather):
    """Indices of the still images of root with that style."""
    entries = [e for e in read_index(root) if "frames" not in e]
    return [i for i, e in enumerate(entries) if e["style"]["time"] == time_of_day and e["style"]["weather"] == weather]


def partners(n, gen):
    """[n] random j != i."""
    j = torch.randint(0, n - 1, (n,), generator=gen)
    return j + (j >= torch.arange(n)).long()


@torch.no_grad()
def issa_bank(encoder, generator, images, versions, seed):
    """uint8 [versions, N, 3, H, W]: each image's noise maps under the ws of a random other image of the set."""
    e, g = M.load_encoder(encoder), S.load_generator(generator).eval()
    ws, nz = encode(e, images)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(versions):
        mixed = synthesize(e, g, ws[partners(len(images), gen)], nz)
        out.append(((mixed + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))
    return torch.stack(out)


def crops(x, y, size, gen):
    """One random size (h, w) window per item, the same place in image x [B,3,H,W] and label y [B,H,W]."""
    (h, w), (H, W) = size, x.shape[-2:]
    ys = torch.randint(0, H - h + 1, (len(x),), generator=gen).tolist()
    xs = torch.randint(0, W - w + 1, (len(x),), generator=gen).tolist()
    return (torch.stack([x[i, :, a:a + h, b:b + w] for i, (a, b) in enumerate(zip(ys, xs))]),
            torch.stack([y[i, a:a + h, b:b + w] for i, (a, b) in enumerate(zip(ys, xs))]))


def train(data, aug, steps, batch, lr, seed, p, bank=None, crop=(64, 128), log=print):
    """A small UperNet trained `steps` steps on data (WorldTensors) with aug 'none', 'fda' or 'issa' (applied to
    the whole image), on crop-sized windows (full scale; the network is convolutional)."""
    torch.manual_seed(seed)
    k = 14
    model = SG.UperNet(dict(SG.DEFAULT, num_classes=k, **SMALL))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    batches = P.Batches(len(data), batch, seed)
    gen = torch.Generator().manual_seed(seed + 1)  # the same draws for every aug: only the images differ
    model.train()
    for step in range(1, steps + 1):
        idx = batches.next()
        x, y, _ = data.batch(idx, "cpu")
        use = torch.rand(len(idx), generator=gen) < p
        other = torch.randint(0, len(data), (len(idx),), generator=gen)
        version = torch.randint(0, 1 if bank is None else len(bank), (len(idx),), generator=gen)
        flip = torch.rand(len(idx), generator=gen) < 0.5
        if aug == "fda" and use.any():
            x[use] = fda(x[use], data.batch(other[use].tolist(), "cpu")[0]).clamp(-1, 1)
        elif aug == "issa" and use.any():
            x[use] = bank[version[use], torch.tensor(idx)[use]].float() / 127.5 - 1.0
        x[flip], y[flip] = x[flip].flip(-1), y[flip].flip(-1)
        x, y = crops(x, y, crop, gen)
        P.set_lr(opt, P.lr_at(step, steps, lr, warmup=20, decay=True))
        loss = F.cross_entropy(model(x), y, ignore_index=SG.IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            log(f"{aug} step {step} loss {loss.item():.4f}")
    return model.eval()


@torch.no_grad()
def confusions(model, data, batch=16):
    out = []
    for s in range(0, len(data), batch):
        x, y, _ = data.batch(list(range(s, min(s + batch, len(data)))), "cpu")
        pred = model(x).argmax(1)
        out += [SG.confusion(pred[i], y[i], 14) for i in range(len(pred))]
    return torch.stack(out)


def markdown(r):
    heads = list(r["targets"])
    lines = [f"Segmenter ({r['parameters']} parameters) trained {r['steps']} steps (batch {r['batch']}) on "
             f"{r['crop'][0]}x{r['crop'][1]} windows of {r['source_images']} clear-day training images; augmentation probability {r['p']}; test: "
             f"{r['test_data']}; mIoU with 95% bootstrap intervals", "",
             "| augmentation | " + " | ".join(f"{h} ({r['targets'][h]})" for h in heads) + " |",
             "|---|" + "---|" * len(heads)]
    for aug, row in r["results"].items():
        lines.append(f"| {aug} | " + " | ".join(f"{row[h][0]:.3f} [{row[h][1][0]:.3f}, {row[h][1][1]:.3f}]"
                                                for h in heads) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--generator", required=True)
    ap.add_argument("--data", default=os.path.join(REPO, "data", "world", "train"))
    ap.add_argument("--test", default=os.path.join(REPO, "data", "world", "val"))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--bank", type=int, default=2, help="ISSA versions per source image")
    ap.add_argument("--aug", action="append", choices=["none", "fda", "issa"], help="(repeat; default all three)")
    ap.add_argument("--crop", type=int, nargs=2, default=[64, 128], metavar=("H", "W"),
                    help="training windows (tested on whole images)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    log = lambda m: print(f"{time.strftime('%H:%M:%S')} {m}", flush=True)  # noqa: E731
    source = WorldTensors(args.data, indices=select(args.data, "day", "clear"))
    tests = {name: WorldTensors(args.test, indices=select(args.test, *style)) for name, style in TARGETS.items()}
    report = {"steps": args.steps, "batch": args.batch, "crop": args.crop, "p": args.p, "source_images": len(source),
              "test_data": os.path.relpath(args.test, REPO), "targets": {n: len(d) for n, d in tests.items()},
              "encoder": args.encoder, "results": {}}
    bank = None
    for aug in args.aug or ["none", "fda", "issa"]:
        if aug == "issa" and bank is None:
            bank = issa_bank(args.encoder, args.generator, source.images.float() / 127.5 - 1.0, args.bank, args.seed)
            log(f"ISSA bank {tuple(bank.shape)}")
        model = train(source, aug, args.steps, args.batch, args.lr, args.seed, args.p, bank, tuple(args.crop), log)
        report["parameters"] = sum(q.numel() for q in model.parameters())
        report["results"][aug] = {}
        for name, d in tests.items():
            report["results"][aug][name] = miou_ci(confusions(model, d), draw_weights(len(d), 1000, args.seed))
        log(f"{aug}: {report['results'][aug]}")
    report["seconds"] = round(time.time() - t0, 1)
    print(markdown(report))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1)
            fh.write("\n")
        with open(os.path.splitext(args.out)[0] + ".md", "w") as fh:
            fh.write(markdown(report))
    return report


if __name__ == "__main__":
    main()
