"""The Masked Noise Encoder (dgtrain.mne): output shapes per ablation mode, the reference's parameter names, the
masking (ratio, P x P patches, N(0,1) replacement, the pixel mask), the generator's full-channel layer noise
(replaces the noise, ignores noise_strength), the loader's errors, a train_mne smoke run with resume and the f16
export, and the committed golden fixtures."""
import contextlib
import io
import json
import math
import os
import tempfile
import unittest

import torch

from dgtrain import mne as M
from dgtrain import stylegan2 as S
from dgtrain import synth_world, train_mne
from dgtrain.exports import export

G_TINY = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "base": [4, 8], "resolution": 32,
          "channels": {"4": 8, "8": 8, "16": 8, "32": 4}}
E_TINY = {"image": [32, 64], "num_ws": 8, "w_dim": 8, "stem": 4, "widths": [2, 2, 4, 4], "blocks": [1, 1, 1, 1],
          "expansion": 2, "fpn_dim": 4, "style_dim": 4, "style_split": [2, 3], "noise_res": 8, "noise_channels": 8,
          "noise_convs": 2}


class TestMNE(unittest.TestCase):
    def test_shapes_and_modes(self):
        x = torch.rand(2, 3, 32, 64) * 2 - 1
        for mode in M.MODES:
            e = M.FPNEncoder(E_TINY, mode).eval()
            ws, noises = e(x)
            self.assertEqual(tuple(ws.shape), (2, 8, 8))
            if mode == "wplus":
                self.assertEqual(noises, [])
                self.assertFalse(any(k.startswith("noise_net.") for k in e.state_dict()))
            else:
                self.assertEqual([tuple(n.shape) for n in noises], [(2, 8, 8, 16)] * 2)
                self.assertEqual(sorted(e.noise_dict(noises)), ["b8.conv0", "b8.conv1"])
        names = M.state_for_export(M.FPNEncoder(E_TINY))
        for k in ("FPN_module.conv1.weight", "FPN_module.bn1.running_var", "FPN_module.layer2.0.downsample.0.weight",
                  "FPN_module.latlayer3.weight", "FPN_module.smooth1.bias", "course_styles.1.convs.2.weight",
                  "medium_styles.2.linear.linear.weight_orig", "fine_styles.2.linear.linear.bias",
                  "noise_net.1.convs.2.weight"):
            self.assertIn(k, names)
        self.assertFalse(any(k.endswith("num_batches_tracked") for k in names))
        self.assertEqual(len([k for k in names if k.endswith("weight_orig")]), 8)

    def test_mask_noise(self):
        gen = torch.Generator().manual_seed(0)
        noise = torch.full((3, 5, 16, 32), 7.0)
        masked, keep = M.mask_noise(noise, patch=4, ratio=0.25, gen=gen)
        self.assertEqual(tuple(keep.shape), (3, 1, 16, 32))
        per_item = keep.mean(dim=(1, 2, 3))
        self.assertTrue(torch.allclose(per_item, torch.full((3,), 0.75)))  # 24 of 32 patches kept
        patches = keep.unfold(2, 4, 4).unfold(3, 4, 4)  # [3, 1, 4, 8, 4, 4]: each patch all kept or all masked
        self.assertTrue(bool(((patches.amin(dim=(-1, -2)) == patches.amax(dim=(-1, -2)))).all()))
        self.assertTrue(bool((masked[keep.expand_as(masked) == 1] == 7.0).all()))
        replaced = masked[keep.expand_as(masked) == 0]
        self.assertLess(abs(replaced.mean().item()), 0.2)
        self.assertLess(abs(replaced.std().item() - 1.0), 0.2)
        k2 = M.mask_noise(noise, gen=gen)[1]
        both = M.keep_mask([keep, k2], (64, 128))
        self.assertEqual(tuple(both.shape), (3, 1, 64, 128))
        self.assertTrue(torch.equal(both, torch.nn.functional.interpolate(keep * k2, size=(64, 128))))

    def test_layer_noise_replaces_noise(self):
        g = S.Generator(G_TINY).eval()
        ws = torch.randn(1, g.num_ws, 8)
        maps = {"b8.conv0": torch.randn(1, 8, 8, 16), "b8.conv1": torch.randn(1, 8, 8, 16)}
        with torch.no_grad():
            a = g.synthesis(ws, noise_mode="const", noises=maps)
            g.synthesis.b8.conv0.noise_strength.fill_(5.0)
            b = g.synthesis(ws, noise_mode="const", noises=maps)
            c = g.synthesis(ws, noise_mode="const")
        self.assertTrue(torch.equal(a, b))  # unscaled: noise_strength does not enter
        self.assertGreater((a - c).abs().max().item(), 1e-3)  # and the maps change the image

    def test_load_errors(self):
        with tempfile.TemporaryDirectory() as d:
            e = M.FPNEncoder(E_TINY, "noise").eval()
            path = os.path.join(d, "e")
            sd = M.state_for_export(e)
            export(path, sd, "", dict(e.cfg, mode="noise"))
            e2 = M.load_encoder(path + ".safetensors")
            x = torch.rand(1, 3, 32, 64)
            with torch.no_grad():
                self.assertTrue(torch.equal(e(x)[0], e2(x)[0]))
            bad = dict(sd)
            bad["FPN_module.layer2.0.conv2.weight"] = torch.zeros(2, 2, 1, 1)
            export(path, bad, "", dict(e.cfg, mode="noise"))
            with self.assertRaisesRegex(ValueError, r"layer2\.0\.conv2\.weight has shape \[2, 2, 1, 1\], expected \[2, 2, 3, 3\]"):
                M.load_encoder(path + ".safetensors")
            del bad["FPN_module.layer2.0.conv2.weight"]
            export(path, bad, "", dict(e.cfg, mode="noise"))
            with self.assertRaisesRegex(ValueError, r"missing tensors.*layer2\.0\.conv2\.weight"):
                M.load_encoder(path + ".safetensors")

    def test_psnr(self):
        a = torch.zeros(2, 3, 4, 4)
        b = a.clone()
        b[1] += 0.2  # [0, 1] difference 0.1: MSE 0.01, 20 dB
        p = train_mne.psnr(b, a)
        self.assertGreater(p[0].item(), 90)
        self.assertAlmostEqual(p[1].item(), 20.0, places=4)

    def test_train_smoke(self):
        with tempfile.TemporaryDirectory() as d:
            data = synth_world.write_dataset(os.path.join(d, "train"), n=6, width=64, height=32, seed=1)
            g = S.Generator(G_TINY)
            export(os.path.join(d, "g"), S.state_for_export(g), "", g.cfg)
            cfg = os.path.join(d, "e.json")
            with open(cfg, "w") as f:
                json.dump({k: E_TINY[k] for k in ("stem", "widths", "blocks", "expansion", "fpn_dim", "style_dim",
                                                  "noise_convs")}, f)
            out, exp = os.path.join(d, "run"), os.path.join(d, "exp", "mne")
            seg = os.path.join(os.path.dirname(__file__), "..", "..", "..", "assets", "models",
                               "eval_segmenter.safetensors")
            base = ["--data", data, "--val", data, "--out", out, "--generator", os.path.join(d, "g.safetensors"),
                    "--config", cfg, "--batch", "4", "--threads", "1", "--log-every", "1", "--val-count", "4",
                    "--val-every", "2", "--perceptual", seg, "--mode", "masked"]
            with contextlib.redirect_stdout(io.StringIO()):
                train_mne.main(base + ["--steps", "2"])
                self.assertEqual(torch.load(os.path.join(out, "ckpt.pt"))["step"], 2)
                s = train_mne.main(base + ["--steps", "3", "--export", exp])
            self.assertEqual(s["steps"], 3)
            self.assertEqual([v["step"] for v in s["vals"]], [2, 3])
            self.assertTrue(all(math.isfinite(v["psnr"]) for v in s["vals"]))
            with open(os.path.join(out, "log.txt")) as f:
                self.assertIn("resume at step 2", f.read())
            with open(exp + ".json") as f:
                rec = json.load(f)
            self.assertEqual((rec["mode"], rec["noise_res"], rec["noise_channels"]), ("masked", 8, 8))
            self.assertEqual(rec["training"]["steps"], 3)
            from dgtrain.safetensors_io import load
            self.assertTrue(all(v.dtype == torch.float16 for v in load(exp + ".safetensors")[0].values()))
            e = M.load_encoder(exp + ".safetensors")
            self.assertEqual(tuple(e(torch.rand(1, 3, 32, 64))[0].shape), (1, 8, 8))

    def test_golden_fixtures_regenerate(self):
        """make_fixtures_mne reproduces the committed tests/golden/mne files (to 1e-5 of each tensor's largest value:
        another CPU's kernels, e.g. AVX-512 ones, round differently)."""
        from dgtrain import make_fixtures_mne
        from dgtrain.safetensors_io import load
        here = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "mne")
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()):
            make_fixtures_mne.main(["--out", d])
            for f in ("weights.safetensors", "weights_wplus.safetensors", "fixture.safetensors"):
                a, b = load(os.path.join(here, f))[0], load(os.path.join(d, f))[0]
                self.assertEqual(sorted(a), sorted(b), f)
                for k in a:
                    scale = max(1.0, a[k].abs().max().item())
                    self.assertLess((a[k] - b[k]).abs().max().item(), 1e-5 * scale, f"{f} {k}")


if __name__ == "__main__":
    unittest.main()
