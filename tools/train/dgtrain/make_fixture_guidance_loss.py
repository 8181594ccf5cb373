"""Writes tests/golden/grad/guidance_loss.safetensors: the Attend-and-Excite and Divide & Bind losses of
render/pipelines/dg_guidance_loss.h and their gradients by torch autograd (float64), on random aggregated
attention probabilities with a few blobs: the reference pipeline's arithmetic (boschresearch/Divide-and-Bind,
pipeline_divide_and_bind_latest.py, docs/methods.md §3) with the vertical TV term between neighbouring rows.
Per case i: avg.i, davg.i (inter.i, dinter.i), eval.i = [loss, indicator, worst object]; the cases
(also in the metadata "cases", JSON, and mirrored in tests/golden/test_guidance_loss.c): kind, map size, tokens, objects with their tokens and attribute tokens, the
bind weight, whether an intermediate (attribute) aggregation is given.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixture_guidance_loss
"""
import json
import os

import torch

from . import REPO
from .guidance_ref import loss_of
from .safetensors_io import save

CASES = [
    dict(kind="attend-excite", h=8, w=16, n=6, objects=[dict(t=[2]), dict(t=[5])], coef=1.0, inter=False),
    dict(kind="divide-bind", h=8, w=16, n=6, objects=[dict(t=[2]), dict(t=[5])], coef=1.0, inter=False),
    dict(kind="divide-bind", h=8, w=16, n=7, objects=[dict(t=[3, 4], a=[2]), dict(t=[7], a=[6])], coef=5.0,
         inter=False),
    dict(kind="divide-bind", h=16, w=16, n=9, objects=[dict(t=[3], a=[2]), dict(t=[6]), dict(t=[9], a=[8])],
         coef=10.0, inter=True),
    dict(kind="attend-excite", h=16, w=16, n=4, objects=[dict(t=[1, 2]), dict(t=[4])], coef=1.0, inter=False),
]


def probs(g, hw, n, h, w):
    """Aggregated probabilities of n tokens: small noise with a blob per token at a random place."""
    a = torch.rand(hw, n, generator=g, dtype=torch.float64) * 0.02
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    for j in range(n):
        cy, cx = torch.rand(2, generator=g, dtype=torch.float64) * torch.tensor([h, w])
        blob = torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * (1 + 2 * torch.rand(1, generator=g).item()) ** 2))
        a[:, j] += 0.06 * torch.rand(1, generator=g, dtype=torch.float64).item() * blob.reshape(-1)
    return a


def main():
    g = torch.Generator().manual_seed(5)
    out = {}
    for i, case in enumerate(CASES):
        hw, n = case["h"] * case["w"], case["n"]
        avg = probs(g, hw, n, case["h"], case["w"]).float().double().requires_grad_(True)
        inter = probs(g, hw, n, case["h"], case["w"]).float().double().requires_grad_(True) if case["inter"] else None
        loss, ind, worst = loss_of(case, avg, inter)
        loss.backward()
        case["loss"], case["indicator"], case["worst"] = loss.item(), ind.item(), worst
        out[f"avg.{i}"] = avg.detach().float()
        out[f"davg.{i}"] = avg.grad.float()
        out[f"eval.{i}"] = torch.tensor([loss.item(), ind.item(), worst], dtype=torch.float32)
        if inter is not None:
            out[f"inter.{i}"] = inter.detach().float()
            out[f"dinter.{i}"] = inter.grad.float()
    path = os.path.join(REPO, "tests", "golden", "grad", "guidance_loss.safetensors")
    save(out, path, metadata={"fixture": "guidance_loss", "cases": json.dumps(CASES)})
    for i, c in enumerate(CASES):
        print(f"case {i} {c['kind']}: loss {c['loss']:.6f} indicator {c['indicator']:.6f} worst {c['worst']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
