"""The tiny random models of the golden fixtures (make_fixtures_image) and of the pipeline test's model folder
(tests/pipeline/make_tiny_model.py): their configs, and how their weights are made and stored."""
import argparse
import json
import os

import torch

from .safetensors_io import save

UNET = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 1], "num_res_blocks": 1,
        "attention_resolutions": [1, 2], "num_heads": 2, "num_head_channels": -1, "context_dim": 16,
        "transformer_depth": 1, "use_linear": False}
# The tiny VideoCrafter2-style UNet3D of tests/golden/video (make_fixtures_video): 32 channels on both levels
# (GroupNorm 32), attention at ds 2 and in the middle only, 8 heads of 4 (init_attn: 8 of 4, so 32 wide), a Conv1d
# proj_in/proj_out in the temporal transformers (as VideoCrafter2 has them without use_linear): 0.58M parameters.
UNET3D = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 1], "num_res_blocks": 1,
          "attention_resolutions": [2], "num_heads": -1, "num_head_channels": 4, "context_dim": 16,
          "transformer_depth": 1, "use_linear": False, "fps_cond": True, "init_attn": True}
# ch_mult [2, 1] keeps the file small and still has a channel change (nin_shortcut) in encoder and decoder.
VAE = {"in_channels": 3, "out_ch": 3, "ch": 32, "ch_mult": [2, 1], "num_res_blocks": 1, "attn_resolutions": [],
       "resolution": 32, "z_channels": 4, "embed_dim": 4, "double_z": True, "scale_factor": 0.18215}


def perturb(module, gen, std=0.05):
    """Random weights everywhere (the zero-initialised convs too), so every path reaches the outputs."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias") or p.abs().max() == 0:
                p.add_(std * torch.randn(p.shape, generator=gen))
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            p.copy_(p.half().float())  # stored as F16; the reference runs in f32 on these exact values


def prefixed(module, prefix):
    return {prefix + k: v.detach().half().contiguous() for k, v in module.state_dict().items()}


class FixtureSet:
    """A folder of golden fixtures (--out, default `default_out`): NAME.safetensors each, described in
    manifest.json by finish(); `gen` is the set's seeded generator."""

    def __init__(self, description, default_out, seed):
        ap = argparse.ArgumentParser(description=description)
        ap.add_argument("--out", default=default_out)
        self.args = ap.parse_args()
        os.makedirs(self.args.out, exist_ok=True)
        torch.set_num_threads(1)
        self.gen = torch.Generator().manual_seed(seed)
        self.manifest = {}

    def write(self, name, tensors, meta):
        save(tensors, os.path.join(self.args.out, name + ".safetensors"), metadata={"fixture": name})
        self.manifest[name] = dict(meta, file=name + ".safetensors",
                                   tensors={k: list(v.shape) for k, v in tensors.items()})

    def finish(self):
        out = self.args.out
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(self.manifest, f, indent=1, sort_keys=True)
        total = sum(os.path.getsize(os.path.join(out, p)) for p in os.listdir(out))
        print(f"wrote {len(self.manifest)} fixtures to {out}: {total / 1e6:.2f} MB")
