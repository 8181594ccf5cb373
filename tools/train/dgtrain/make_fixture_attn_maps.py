"""Writes tests/golden/image/attn_maps.safetensors: the aggregated cross-attention maps (Attend-and-Excite /
Divide & Bind, docs/methods.md §3) of the tiny golden UNet (unet_weights.safetensors) on the `unet` fixture's
inputs, as the engine's dg_attn_maps builds them: the cond item (the batch's last) of every transformer at the
chosen resolution (downsampling 1 on the 8x16 latents: the finest whose maps are at most 16 on the shorter
side), averaged over those transformers and their heads, tokens 1..5 of the 7 context positions, softmax of
100 p over them, then A&E's GaussianSmoothing (3x3, sigma 0.5, exp(-((x - mu) / (2 sigma))^2)) with reflect
padding. Deterministic (inputs and weights are the existing fixtures').

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixture_attn_maps
"""
import os

import torch
import torch.nn.functional as F

from . import REPO, ldm_unet
from .fixtures import UNET
from .guidance_ref import gaussian_3x3
from .safetensors_io import load, save

N_TOKENS = 5  # positions 1..5 of 7: the start token and the last position left out


def main():
    folder = os.path.join(REPO, "tests", "golden", "image")
    torch.set_num_threads(1)
    weights, _ = load(os.path.join(folder, "unet_weights.safetensors"))
    unet = ldm_unet.UNetModel(UNET).eval()
    prefix = "model.diffusion_model."
    unet.load_state_dict({k[len(prefix):]: v.float() for k, v in weights.items()})
    fx, _ = load(os.path.join(folder, "unet.safetensors"))
    x, t, ctx = fx["x"], fx["t"], fx["context"]
    h, w = x.shape[2], x.shape[3]
    captured = []
    plain = ldm_unet.CrossAttention.forward

    def capture(self, xx, context=None):
        if context is not None and xx.shape[1] == h * w:
            b, n, _ = xx.shape
            q = self.to_q(xx).reshape(b, n, self.heads, -1).transpose(1, 2)
            k = self.to_k(context).reshape(b, context.shape[1], self.heads, -1).transpose(1, 2)
            captured.append((torch.matmul(q, k.transpose(-1, -2)) * self.scale).softmax(dim=-1)[-1])  # cond item
        return plain(self, xx, context)

    ldm_unet.CrossAttention.forward = capture
    try:
        with torch.no_grad():
            unet(x, t, ctx)
    finally:
        ldm_unet.CrossAttention.forward = plain
    probs = torch.cat(captured)  # [layers * heads, HW, L]
    avg = probs.mean(0)[:, 1:1 + N_TOKENS]
    soft = (avg * 100).softmax(-1)  # [HW, n]
    planes = soft.T.reshape(N_TOKENS, 1, h, w)
    maps = F.conv2d(F.pad(planes, (1, 1, 1, 1), mode="reflect"), gaussian_3x3()).reshape(N_TOKENS, h, w)
    out = os.path.join(folder, "attn_maps.safetensors")
    save({"x": x, "t": t, "context": ctx, "avg": avg.contiguous(), "maps": maps.contiguous(),
          "kernel": gaussian_3x3().reshape(3, 3).contiguous()}, out, metadata={"fixture": "attn_maps",
         "layers": str(len(captured)), "n_tokens": str(N_TOKENS)})
    print(f"wrote {out}: {len(captured)} transformers at {h}x{w}, maps {list(maps.shape)}")


if __name__ == "__main__":
    main()
