"""Contrastive text-image model on the world: our CLIP text tower + a small convolutional image encoder,
linear projections into a joint space, a learned logit scale and CLIP's symmetric InfoNCE loss.

The text tower is exported on its own as the frozen text encoder of the diffusion model; the pair gives
the text-image similarity used in evaluation (`similarity`).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .clip_text import CKPT_PREFIX, ClipTextModel
from .clip_text import DEFAULT_SMALL as TEXT_SMALL
from . import config

DEFAULT = {
    "text": TEXT_SMALL,
    # Patchify stem (8x8, stride 8) keeps the per-image cost at ~35 M multiply-adds for 128x256 inputs.
    "image": {"in_channels": 3, "stem": 32, "stem_stride": 8, "channels": [32, 64, 128, 256], "blocks": [1, 1, 1, 1],
              "groups": 8},
    "embed_dim": 256,
    "logit_scale_init": math.log(1 / 0.07),
    "logit_scale_max": 100.0,
}


def load_config(path_or_dict=None):
    cfg = config.merged(path_or_dict, DEFAULT, deep=True)
    return cfg


class ResBlock(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.GroupNorm(groups, cout))

    def forward(self, x):
        h = F.relu(self.norm1(self.conv1(x)))
        h = self.norm2(self.conv2(h))
        return F.relu(h + (x if self.skip is None else self.skip(x)))


class ImageEncoder(nn.Module):
    """Patchify stem (stride stem_stride) then 4 residual stages (the first keeps the resolution, the others
    halve it), global average pooling. 128x256 with stride 8 -> 2x4 before pooling."""

    def __init__(self, cfg):
        super().__init__()
        g = cfg["groups"]
        s = cfg["stem_stride"]
        self.stem = nn.Sequential(nn.Conv2d(cfg["in_channels"], cfg["stem"], s, s), nn.GroupNorm(g, cfg["stem"]), nn.ReLU())
        stages, cin = [], cfg["stem"]
        for i, (c, n) in enumerate(zip(cfg["channels"], cfg["blocks"])):
            blocks = [ResBlock(cin, c, 1 if i == 0 else 2, g)]
            blocks += [ResBlock(c, c, 1, g) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = c
        self.stages = nn.Sequential(*stages)
        self.out_dim = cin

    def forward(self, x):
        return self.stages(self.stem(x)).mean(dim=(2, 3))


class ClipModel(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.config = load_config(cfg)
        c = self.config
        self.text = ClipTextModel(c["text"])
        self.image = ImageEncoder(c["image"])
        self.text_projection = nn.Linear(self.text.config["width"], c["embed_dim"], bias=False)
        self.image_projection = nn.Linear(self.image.out_dim, c["embed_dim"], bias=False)
        nn.init.normal_(self.text_projection.weight, std=self.text.config["width"] ** -0.5)
        nn.init.normal_(self.image_projection.weight, std=self.image.out_dim ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(float(c["logit_scale_init"])))

    def encode_text(self, ids):
        """ids [B,T] -> unit-norm embeddings [B,D] (from the pooled EOT state)."""
        _, pooled = self.text(ids)
        return F.normalize(self.text_projection(pooled), dim=-1)

    def encode_image(self, images):
        """images [B,3,H,W] in [-1,1] -> unit-norm embeddings [B,D]."""
        return F.normalize(self.image_projection(self.image(images)), dim=-1)

    def scale(self):
        return self.logit_scale.exp().clamp(max=self.config["logit_scale_max"])

    def forward(self, images, ids, same_text=None):
        """Symmetric InfoNCE. same_text [B,B] bool (optional): pairs with identical captions, which are
        not counted as negatives. Returns (loss, logits image->text)."""
        img = self.encode_image(images)
        txt = self.encode_text(ids)
        logits = self.scale() * img @ txt.t()
        if same_text is not None:
            off = same_text & ~torch.eye(len(img), dtype=torch.bool, device=img.device)
            logits = logits.masked_fill(off, float("-inf"))
        target = torch.arange(len(img), device=img.device)
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
        return loss, logits

    @torch.no_grad()
    def similarity(self, images, ids):
        """Cosine similarity of matched pairs [B] (the text-image score for evaluation)."""
        return (self.encode_image(images) * self.encode_text(ids)).sum(-1)


def trim_ids(ids, eot_id):
    """Cuts a [B,77] batch after the last EOT of any row; exact for the causal text tower."""
    first_eot = (ids == eot_id).float().argmax(dim=1)
    n = int(first_eot.max().item()) + 1
    return ids[:, :n]


def export_state_dict(model):
    """A ClipModel's tensors as exported: the text tower in single-file naming, the rest under clip.*."""
    out = {}
    for k, v in model.state_dict().items():
        out[CKPT_PREFIX + k[len("text."):] if k.startswith("text.") else "clip." + k] = v
    return out


def load_clip(weights_path, config):
    """Inverse of export_state_dict: a ClipModel from an exported file and its config (dict or JSON path)."""
    from .safetensors_io import load
    model = ClipModel(config)
    sd, _ = load(weights_path)
    own = {}
    for k, v in sd.items():
        if k.startswith(CKPT_PREFIX):
            own["text." + k[len(CKPT_PREFIX):]] = v
        elif k.startswith("clip."):
            own[k[len("clip."):]] = v
    model.load_state_dict(own)
    return model


def frechet(a, b):
    """Frechet distance between Gaussians fitted to feature rows of a and b (float64)."""
    a, b = a.double(), b.double()
    mu = a.mean(0) - b.mean(0)
    s1, s2 = torch.cov(a.t()), torch.cov(b.t())
    w, v = torch.linalg.eigh(s1)
    r1 = v @ torch.diag(w.clamp_min(0).sqrt()) @ v.t()
    w2 = torch.linalg.eigvalsh(r1 @ s2 @ r1)
    return float(mu @ mu + s1.trace() + s2.trace() - 2 * w2.clamp_min(0).sqrt().sum())
