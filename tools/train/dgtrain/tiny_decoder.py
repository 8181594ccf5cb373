"""The live frame's tiny latent decoder (TAESD-like): the VAE's unscaled latent z [N, 4, h, w] -> an image
[N, 3, 8h, 8w] in about [-1, 1], as the VAE decoder gives, from a few ReLU convolutions and nearest 2x
upsamples. No normalisation and no attention, so the engine runs it as plain convolutions (render/models/
dg_tiny_decoder.c, the same parameter names under `tiny_decoder.`).

    conv_in (4 -> C0), ReLU
    per level i: n_blocks[i] x (conv 3x3, ReLU, conv 3x3, + input, ReLU);
                 then, except after the last level, nearest 2x, up.i (conv 3x3 Ci -> Ci+1), ReLU
    conv_out (C_last -> 3)

Three upsamples: a latent factor of 8."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# 183k parameters (368 KB as float16); 0.61 GMAC per 128x256 image against the VAE decoder's 2.8.
DEFAULT = {"latent_channels": 4, "channels": [64, 48, 32, 16], "blocks": [1, 1, 1, 0]}


def check_config(cfg):
    ch, bl = cfg["channels"], cfg["blocks"]
    if len(ch) != 4 or len(bl) != 4:
        raise ValueError(f"tiny decoder: 4 levels (3 upsamples, factor 8), got channels {ch} and blocks {bl}")
    return cfg


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class Level(nn.Module):
    def __init__(self, c, n_blocks):
        super().__init__()
        self.block = nn.ModuleList([Block(c) for _ in range(n_blocks)])


class TinyDecoder(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.cfg = check_config(dict(cfg or DEFAULT))
        ch, bl = self.cfg["channels"], self.cfg["blocks"]
        self.conv_in = nn.Conv2d(self.cfg["latent_channels"], ch[0], 3, padding=1)
        self.level = nn.ModuleList([Level(ch[i], bl[i]) for i in range(len(ch))])
        self.up = nn.ModuleList([nn.Conv2d(ch[i], ch[i + 1], 3, padding=1) for i in range(len(ch) - 1)])
        self.conv_out = nn.Conv2d(ch[-1], 3, 3, padding=1)

    def forward(self, z):
        h = F.relu(self.conv_in(z))
        for i, lvl in enumerate(self.level):
            for b in lvl.block:
                h = b(h)
            if i < len(self.up):
                h = F.relu(self.up[i](F.interpolate(h, scale_factor=2.0, mode="nearest")))
        return self.conv_out(h)


def load_tiny_decoder(path, device="cpu"):
    """An exported tiny decoder (tiny_decoder.* names, .json config beside), frozen, in eval mode."""
    from .exports import load_json_beside, load_prefixed
    sd, _ = load_prefixed(path, "tiny_decoder.")
    m = TinyDecoder({k: v for k, v in load_json_beside(path).items() if k in DEFAULT})
    m.load_state_dict({k: v.float() for k, v in sd.items()})
    m.eval().to(device)
    for p in m.parameters():
        p.requires_grad_(False)
    return m
