"""The live frame's tiny decoder: the committed golden fixture (tests/golden/tiny_decoder) reproduced by the
reference module, the shipped configuration's size and factor, and the distillation trainer on a synthetic
dataset (teacher targets in resumable chunks, resume, --export-best as float16 with its record)."""
import json
import os
import shutil
import tempfile
import unittest

import torch

from dgtrain import ldm_vae, synth_world, train_tiny_decoder
from dgtrain.exports import export
from dgtrain.safetensors_io import load
from dgtrain.tiny_decoder import DEFAULT, TinyDecoder, load_tiny_decoder

GOLD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "tiny_decoder")


class TestTinyDecoder(unittest.TestCase):
    def test_golden_fixture(self):
        m = load_tiny_decoder(os.path.join(GOLD, "weights.safetensors"))
        io, _ = load(os.path.join(GOLD, "fixture.safetensors"))
        with torch.no_grad():
            err = (m(io["z"]) - io["image"]).abs().max().item()
        # to 1e-5 of the largest value: another CPU's kernels (e.g. AVX-512 ones) round differently
        self.assertLess(err, 1e-5 * max(1.0, io["image"].abs().max().item()))

    def test_default_size_and_factor(self):
        m = TinyDecoder(DEFAULT)
        n = sum(p.numel() for p in m.parameters())
        self.assertLess(2 * n, 500_000)  # float16: well under 1 MB
        self.assertEqual(tuple(m(torch.zeros(1, 4, 16, 32)).shape), (1, 3, 128, 256))
        with self.assertRaises(ValueError):
            TinyDecoder(dict(DEFAULT, channels=[8, 8, 8]))


class TestTrainTinyDecoder(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dg_tiny_")
        cls.data = synth_world.write_dataset(os.path.join(cls.tmp, "data"), n=6, width=64, height=32, seed=1)
        torch.manual_seed(0)
        cfg = ldm_vae.load_config(dict(ldm_vae.DEFAULT_SMALL, ch=32, ch_mult=[1, 1, 1, 1], resolution=32,
                                       scale_factor=0.5))
        cls.vae = os.path.join(cls.tmp, "vae.safetensors")
        export(cls.vae, ldm_vae.AutoencoderKL(cfg).state_dict(), "first_stage_model.", cfg)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_train_resume_export(self):
        out, exp = os.path.join(self.tmp, "run"), os.path.join(self.tmp, "m", "tiny_decoder.safetensors")
        args = ["--data", self.data, "--val", self.data, "--vae", self.vae, "--out", out, "--max-images", "5",
                "--val-count", "3", "--crop", "2x4", "--batch", "2", "--threads", "1", "--log-every", "1",
                "--eval-every", "1", "--lr", "1e-2"]
        train_tiny_decoder.main(args + ["--steps", "2"])
        self.assertTrue(os.path.exists(os.path.join(out, "targets_train_5.pt")))
        train_tiny_decoder.main(args + ["--steps", "3", "--export", exp, "--export-best"])
        with open(os.path.join(out, "log.txt")) as f:
            log = f.read()
        self.assertIn("resumed at step 2", log)
        self.assertIn("psnr vs VAE decoder", log)
        sd, meta = load(exp)
        self.assertTrue(all(v.dtype == torch.float16 for v in sd.values()))
        self.assertIn("tiny_decoder.conv_in.weight", sd)
        self.assertEqual(json.loads(meta["config"])["channels"], DEFAULT["channels"])
        with open(exp[:-len(".safetensors")] + ".json") as f:
            rec = json.load(f)
        val = rec["training"]["val"]
        self.assertGreater(val["psnr_teacher_db"], 0)
        self.assertIn("psnr_real_db", val)
        self.assertIn("--export-best", rec["training"]["command"])
        load_tiny_decoder(exp)  # loads back as exported


if __name__ == "__main__":
    unittest.main()
