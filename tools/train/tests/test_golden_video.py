"""The committed video fixtures (tests/golden/video) are reproduced by the reference UNet3D from the stored weights
and inputs, and the stored weights are VideoCrafter2's names of that model."""
import json
import os
import unittest

import torch

from dgtrain import make_fixtures_video as mfv, video_unet
from dgtrain.fixtures import UNET3D
from dgtrain.safetensors_io import load

GOLD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "video")
PREFIX = "model.diffusion_model."


@unittest.skipUnless(os.path.exists(os.path.join(GOLD, "manifest.json")), "fixtures not generated")
class TestGoldenVideo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(GOLD, "manifest.json")) as f:
            cls.man = json.load(f)
        weights = torch.load(os.path.join(GOLD, mfv.WEIGHTS))["state_dict"]
        cls.model = video_unet.UNet3DModel(UNET3D).eval()
        cls.model.load_state_dict({k[len(PREFIX):]: v.float() for k, v in weights.items()})
        cls.names = set(weights)

    def test_names(self):
        self.assertEqual(self.names, {PREFIX + k for k in self.model.state_dict()})
        for k in ("input_blocks.1.0.temopral_conv.conv1.2.weight", "input_blocks.3.2.proj_in.weight",
                  "middle_block.3.in_layers.2.weight", "output_blocks.1.3.conv.weight", "init_attn.0.norm.weight",
                  "fps_embedding.2.bias"):
            self.assertIn(PREFIX + k, self.names)

    def test_reproduced(self):
        for name, n, frames, h, w, per_frame, sigma, capture in mfv.CASES:
            io = load(os.path.join(GOLD, self.man[name]["file"]))[0]
            controls = video_unet.TemporalControls(tar={"sigma": sigma} if sigma else None, capture=capture)
            with torch.no_grad():
                eps = video_unet.to_frames(self.model(video_unet.to_video(io["x"], frames), io["t"], io["context"],
                                                   fps=io["fps"], controls=controls))
            self.assertLess(float((eps - io["eps"]).abs().max()), 1e-4, name)  # eps up to ~2.5; thread counts move ~1e-5
            if capture is not None:
                self.assertLess(float((controls.captured - io["probs"]).abs().max()), 1e-5, name)
