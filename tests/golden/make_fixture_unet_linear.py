"""Writes tests/golden/extra/unet_linear*.safetensors: a tiny UNet with Linear proj_in/proj_out (use_linear, as
SD 2.x), one level (no down/upsampling), transformer depth 2 and num_head_channels, random weights everywhere
(the zero-initialised convs too), F16 weights and the f32 reference eps. Deterministic.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools/train /usr/bin/python3 tests/golden/make_fixture_unet_linear.py
"""
import json
import os

import torch

from dgtrain.ldm_unet import UNetModel
from dgtrain.safetensors_io import save

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CFG = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1], "num_res_blocks": 1,
       "attention_resolutions": [1], "num_heads": -1, "num_head_channels": 8, "context_dim": 8,
       "transformer_depth": 2, "use_linear": True}

torch.manual_seed(7)
torch.set_num_threads(1)
m = UNetModel(CFG).eval()
with torch.no_grad():
    for p in m.parameters():
        p.normal_(0, 0.1)
        p.copy_(p.half().float())  # the reference runs on exactly the stored f16 values
out = os.path.join(ROOT, "tests", "golden", "extra")
os.makedirs(out, exist_ok=True)
save({"model.diffusion_model." + k: v.half() for k, v in m.state_dict().items()},
     os.path.join(out, "unet_linear_weights.safetensors"), {"config": json.dumps(CFG)})
g = torch.Generator().manual_seed(3)
x = torch.randn(2, 4, 4, 6, generator=g)
t = torch.tensor([3, 950])
ctx = torch.randn(2, 5, 8, generator=g)
with torch.no_grad():
    eps = m(x, t, ctx)
save({"x": x, "t": t, "context": ctx, "eps": eps}, os.path.join(out, "unet_linear.safetensors"),
     {"what": "eps = UNet(x, t, context), config in the weights' metadata"})
print("eps std", float(eps.std()))
