"""The committed evaluation-model fixtures (tests/golden/eval) load the way the trainers' exports load
(load_segmenter with the .json beside, train_clip.load_clip) and the reference modules reproduce them."""
import json
import os
import unittest

import torch

from dgtrain import segmenter
from dgtrain.safetensors_io import load
from dgtrain.tokenizer import Tokenizer
from dgtrain.clip_model import load_clip

GOLD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "eval")


@unittest.skipUnless(os.path.exists(os.path.join(GOLD, "manifest.json")), "fixtures not generated")
class TestGoldenEval(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(GOLD, "manifest.json")) as f:
            cls.man = json.load(f)

    def test_segmenter(self):
        for name in ("segmenter", "segmenter_refine"):
            m = segmenter.load_segmenter(os.path.join(GOLD, name + "_weights.safetensors"),
                                         os.path.join(GOLD, name + "_weights.json")).eval()
            self.assertEqual(m.refine is not None, name == "segmenter_refine")
            io, _ = load(os.path.join(GOLD, name + ".safetensors"))
            with torch.no_grad():
                logits = m(io["image"])
                coarse = m.coarse(io["image"])
            self.assertTrue(torch.allclose(logits, io["logits"], atol=1e-5), name)
            self.assertTrue(torch.equal(logits.argmax(1), io["classes"]), name)
            self.assertGreater(len(io["classes"].unique()), 1)
            if m.refine is not None:  # the head really changes the answer
                self.assertGreater((logits - coarse).abs().max().item(), 0.1)

    def test_clip(self):
        m = load_clip(os.path.join(GOLD, "clip_weights.safetensors"), os.path.join(GOLD, "clip_weights.json")).eval()
        io, _ = load(os.path.join(GOLD, "clip.safetensors"))
        tok = Tokenizer.from_dir(os.path.join(GOLD, "..", "text", "tokenizer"))
        self.assertTrue(torch.equal(tok(self.man["clip"]["texts"]), io["ids"]))
        with torch.no_grad():
            self.assertTrue(torch.allclose(m.image(io["images"]), io["image_features"], atol=1e-5))
            self.assertTrue(torch.allclose(m.encode_image(io["images"]), io["image_embeds"], atol=1e-5))
            self.assertTrue(torch.allclose(m.encode_text(io["ids"]), io["text_embeds"], atol=1e-5))


if __name__ == "__main__":
    unittest.main()
