"""A perceptual distance for training the autoencoder: LPIPS's recipe (unit-normalised channels, squared
differences averaged over positions, summed over layers) on the features of a network trained here, since no
pretrained VGG can be downloaded. The default is the evaluation segmenter's backbone (frozen, eval mode): its
stride-2 stem conv and its first three stages."""
import torch
import torch.nn as nn

from . import segmenter as S
from .exports import load_json_beside


class Perceptual(nn.Module):
    def __init__(self, weights_path):
        super().__init__()
        net = S.load_segmenter(weights_path, load_json_beside(weights_path)).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        self.stem, self.stages = net.backbone.stem, net.backbone.stages[:3]

    def train(self, mode=True):  # always frozen: batch-norm statistics stay the trained ones
        return super().train(False)

    def layers(self, x):
        h = self.stem[0](x)
        out = [h]
        h = self.stem[2](self.stem[1](h))
        for s in self.stages:
            h = s(h)
            out.append(h)
        return out

    def forward(self, a, b):
        """Per-image distance [B] between images a and b ([B,3,H,W] in [-1,1])."""
        d = 0
        for fa, fb in zip(self.layers(a), self.layers(b)):
            na = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-6)
            nb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-6)
            d = d + (na - nb).pow(2).sum(1).mean(dim=(1, 2))
        return d
