#!/usr/bin/env python3
"""Compares `dirigent-cli eval l2i` reports against a reference report on the same images and seeds
(docs/evaluation.md, "Live mode"): for each report its dataset mIoU (the report's), the mean per-image mIoU,
CLIP similarity and FD, and the ratio of its mean per-image mIoU to the reference's with a 95% paired
bootstrap interval (images resampled with replacement, 10000 times, seed 0).
usage: tools/eval_ratio.py REFERENCE.json REPORT.json[=LABEL]... (LABEL names a report, e.g. its --control-scale)"""
import json, random, sys


def load(path):
    d = json.load(open(path))
    return d, {p["id"]: p for p in d["per_image"]}


def main():
    ref, ref_items = load(sys.argv[1])
    rng = random.Random(0)
    print(f"{'report':34} {'n':>4} {'mIoU':>6} {'ratio':>6} {'per-image ratio [95% CI]':>26} {'CLIP':>6} {'FD':>6}")
    for arg in sys.argv[1:]:
        path, _, label = arg.partition("=")
        d, items = load(path)
        ids = [i for i in items if i in ref_items]
        a = [items[i]["miou"]["generated"] for i in ids]
        b = [ref_items[i]["miou"]["generated"] for i in ids]
        n = len(ids)
        boot = []
        for _ in range(10000):
            k = [rng.randrange(n) for _ in range(n)]
            boot.append(sum(a[j] for j in k) / max(1e-12, sum(b[j] for j in k)))
        boot.sort()
        lo, hi = boot[int(0.025 * len(boot))], boot[int(0.975 * len(boot)) - 1]
        g = d["generated"]
        name = label or f"{d['sampler']} {d['steps']} steps, CFG {d['cfg']:g}"
        print(f"{name:34} {n:4d} {g['miou']:6.3f} {g['miou'] / ref['generated']['miou']:6.3f} "
              f"{sum(a) / sum(b):9.2f} [{lo:.2f}, {hi:.2f}]      {g['clip_sim']:6.3f} {g['fd']:6.1f}")


if __name__ == "__main__":
    main()
