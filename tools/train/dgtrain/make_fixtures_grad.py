"""Writes the golden fixture of the engine's gradient tape under tests/golden/grad/: d loss / d latent of
the tiny golden UNet (tests/golden/image/unet_weights.safetensors, config fixtures.UNET) by torch autograd,
for a loss over the cross-attention probabilities of chosen context tokens at the transformers of the finest
resolution (Divide & Bind's kind of loss). Deterministic: rerunning gives the same file.

Transformers are numbered in forward order (input blocks, middle, output blocks), as the engine's
dg_nn_transformer.index. For each selected transformer l, P_l = softmax(q k^T / sqrt(d))[..., tokens] of its
cross-attention (attn2), shape [N*heads, H*W, n_tokens] (batch index n*heads + head), and

    L = sum_l mean(P_l * R_l + 0.5 * P_l^2),   so   dL/dP_l = (R_l + P_l) / numel(P_l)

with fixed random R_l. The gradient reaches every op of the UNet before the last selected transformer (both
convolution strides, group norm + SiLU, layer norm, self- and cross-attention, GEGLU, upsampling, the skip
concatenations, the residual adds).

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_grad [--out DIR]
"""
import json
import os

import torch

from . import REPO, ldm_unet
from .fixtures import UNET, FixtureSet
from .guidance_ref import loss_of
from .safetensors_io import load

LAT = (4, 8, 16)
CTX_LEN = 7
TOKENS = [1, 3, 4]


def transformers(unet):
    """The SpatialTransformers in forward order."""
    out = []
    for part in (unet.input_blocks, [unet.middle_block], unet.output_blocks):
        for block in part:
            out += [m for m in block.modules() if isinstance(m, ldm_unet.SpatialTransformer)]
    return out


def capture_probs(attn, store, tokens=TOKENS):
    """Replaces attn.forward by the same computation that also appends the probabilities to store."""
    def forward(x, context=None):
        context = x if context is None else context
        b, n, _ = x.shape
        h = attn.heads
        q, k, v = attn.to_q(x), attn.to_k(context), attn.to_v(context)
        q, k, v = (t.reshape(b, t.shape[1], h, -1).transpose(1, 2) for t in (q, k, v))
        p = (torch.matmul(q, k.transpose(-1, -2)) * attn.scale).softmax(dim=-1)
        store.append(p.reshape(b * h, n, -1)[..., tokens])
        return attn.to_out(torch.matmul(p, v).transpose(1, 2).reshape(b, n, -1))
    attn.forward = forward


def load_unet():
    weights, _ = load(os.path.join(REPO, "tests", "golden", "image", "unet_weights.safetensors"))
    unet = ldm_unet.UNetModel(UNET).eval()
    prefix = "model.diffusion_model."
    unet.load_state_dict({k[len(prefix):]: v.float() for k, v in weights.items()})
    return unet


def finest_layers(unet, x, t, ctx):
    """Indices (forward order) of the transformers at the latent's own size: the finest resolution with
    cross-attention."""
    sts, sizes = transformers(unet), {}
    hooks = [st.register_forward_hook(lambda m, i, o, j=j: sizes.__setitem__(j, tuple(o.shape[2:])))
             for j, st in enumerate(sts)]
    with torch.no_grad():
        unet(x, t, ctx)
    for hk in hooks:
        hk.remove()
    return [j for j in range(len(sts)) if sizes[j] == tuple(x.shape[2:])]


def loss_grad(unet, x, t, ctx, layers, rs):
    """(loss, dL/dx, [P_l]) for L = sum_l mean(P_l * R_l + 0.5 P_l^2); rs: the R_l, or a generator to draw
    them from (then returned as the fourth value)."""
    sts, store = transformers(unet), []
    saved = []
    for j in layers:
        for blk in sts[j].transformer_blocks:
            saved.append((blk.attn2, blk.attn2.forward))
            capture_probs(blk.attn2, store)
    xg = x.clone().requires_grad_(True)
    unet(xg, t, ctx)
    for attn, fwd in saved:
        attn.forward = fwd
    if isinstance(rs, torch.Generator):
        rs = [torch.randn(p.shape, generator=rs) for p in store]
    loss = sum((p * r + 0.5 * p * p).mean() for p, r in zip(store, rs))
    loss.backward()
    return loss.detach(), xg.grad, [p.detach() for p in store], rs


# The guided step (render/pipelines/dg_guidance): one update x - step * d loss / d x before evaluation 1 of 25
# (no refinement there; D&B's bind weight 1), the loss of dgtrain.make_fixture_guidance_loss on the maps of
# tokens 1..5 averaged over the finest transformers and their heads. Objects: token 2 bound to attribute 1,
# and the two-token word 4-5.
GUIDED_TOKENS = [1, 2, 3, 4, 5]
GUIDED_OBJECTS = [dict(t=[2], a=[1]), dict(t=[4, 5])]


def guided_step(unet, x, t, ctx, layers, kind):
    sts, store, saved = transformers(unet), [], []
    for j in layers:
        for blk in sts[j].transformer_blocks:
            saved.append((blk.attn2, blk.attn2.forward))
            capture_probs(blk.attn2, store, GUIDED_TOKENS)
    xg = x.clone().requires_grad_(True)
    unet(xg, t, ctx)
    for attn, fwd in saved:
        attn.forward = fwd
    avg = torch.cat(store).mean(0)  # [H*W, n]: every transformer's heads, equal weights
    case = dict(kind=kind, h=x.shape[2], w=x.shape[3], n=len(GUIDED_TOKENS), objects=GUIDED_OBJECTS, coef=1.0)
    loss, indicator, _ = loss_of(case, avg.double(), None)
    loss.backward()
    step = 20 * (1 - 0.5 * 1 / 24) ** 0.5
    return loss.detach().float(), indicator.detach().float(), (x - step * xg.grad).detach()


def main():
    fx = FixtureSet(__doc__, os.path.join(REPO, "tests", "golden", "grad"), 20261205)
    gen, write = fx.gen, fx.write
    unet = load_unet()
    x = torch.randn((1,) + LAT, generator=gen)
    ctx = torch.randn(1, CTX_LEN, UNET["context_dim"], generator=gen)
    t = torch.tensor([501], dtype=torch.int64)
    layers = finest_layers(unet, x, t, ctx)
    loss, dx, ps, rs = loss_grad(unet, x, t, ctx, layers, gen)
    tensors = {"x": x, "t": t, "context": ctx, "loss": loss.reshape(1), "dx": dx}
    tensors.update({f"R.{i}": r for i, r in enumerate(rs)})
    tensors.update({f"P.{i}": p for i, p in enumerate(ps)})
    write("unet_grad", tensors,
          {"weights": "../image/unet_weights.safetensors", "config": UNET, "layers": layers, "tokens": TOKENS,
           "what": "dx = d/dx sum_l mean(P_l * R_l + 0.5 P_l^2), P_l = cross-attention probabilities of `tokens` "
                   "at transformers `layers` (forward order) of UNet(x, t, context)"})
    print("layers", layers, "loss", float(loss), "|dx|max", float(dx.abs().max()), json.dumps(TOKENS))
    guided = {"x": x, "t": t, "context": ctx}
    for kind in ("attend-excite", "divide-bind"):
        gl, gi, gx = guided_step(unet, x, t, ctx, layers, kind)
        guided.update({f"loss.{kind}": gl.reshape(1), f"indicator.{kind}": gi.reshape(1), f"x_new.{kind}": gx})
        print("guided step", kind, "loss", float(gl), "indicator", float(gi), "|dx|", float((gx - x).abs().max()))
    write("guided_step", guided,
          {"weights": "../image/unet_weights.safetensors", "config": UNET, "layers": layers,
           "tokens": GUIDED_TOKENS, "objects": GUIDED_OBJECTS,
           "what": "x_new.KIND = x - 20 sqrt(1 - 0.5/24) d loss/dx: the guidance update before evaluation 1 of 25"})
    fx.finish()


if __name__ == "__main__":
    main()
