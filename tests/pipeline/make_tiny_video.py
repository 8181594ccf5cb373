#!/usr/bin/python3
"""Writes the tiny video UNet of the video pipeline's tests, tests/pipeline/tiny_video_unet.safetensors: a random
VideoCrafter2-style UNet3D (dgtrain.video_unet, config fixtures.UNET3D: context 16 as the tiny model's text encoder,
4 latent channels as its VAE, the same input blocks as its ControlNet), weights as F16 under `model.diffusion_model.`
with its config in the metadata. Used with tests/pipeline/tiny_model through dg_model_options.video_unet.
Deterministic.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools/train /usr/bin/python3 tests/pipeline/make_tiny_video.py
"""
import json
import os

import torch

from dgtrain import video_unet
from dgtrain.fixtures import UNET3D, perturb, prefixed
from dgtrain.safetensors_io import save

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1919)
    torch.manual_seed(19)
    model = video_unet.UNet3DModel(UNET3D).eval()
    perturb(model, gen)
    save(prefixed(model, "model.diffusion_model."), os.path.join(HERE, "tiny_video_unet.safetensors"),
         metadata={"config": json.dumps(UNET3D)})


if __name__ == "__main__":
    main()
