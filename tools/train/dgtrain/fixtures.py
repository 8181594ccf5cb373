"""The tiny random models of the golden fixtures (make_fixtures_image) and of the pipeline test's model folder
(tests/pipeline/make_tiny_model.py): their configs, and how their weights are made and stored."""
import torch

UNET = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 1], "num_res_blocks": 1,
        "attention_resolutions": [1, 2], "num_heads": 2, "num_head_channels": -1, "context_dim": 16,
        "transformer_depth": 1, "use_linear": False}
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
