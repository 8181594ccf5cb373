"""The micro StyleGAN2 against direct references (upfirdn2d by loops, the modulated conv per sample, the up-conv
as zero insertion + conv), its ADA names and ws layout, checkpoint errors, and a train_stylegan smoke run."""
import contextlib
import io
import json
import math
import os
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

from dgtrain import stylegan2 as S
from dgtrain import synth_world, train_stylegan
from dgtrain.exports import export

torch.set_num_threads(1)
TINY = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "resolution": 16, "channels": {"4": 8, "8": 8, "16": 4}}


def upfirdn_loops(x, f, up, down, pad):
    """upfirdn2d by its definition: y[o] = sum_k xup_padded[o*down + k] * f[flipped k] (numpy, one image)."""
    c, h, w = x.shape
    px0, px1, py0, py1 = pad
    xu = np.zeros((c, h * up, w * up))
    xu[:, ::up, ::up] = x
    xp = np.zeros((c, h * up + py0 + py1, w * up + px0 + px1))
    xp[:, py0:py0 + h * up, px0:px0 + w * up] = xu
    fh, fw = f.shape
    ff = f[::-1, ::-1]
    oh, ow = (xp.shape[1] - fh) // down + 1, (xp.shape[2] - fw) // down + 1
    y = np.zeros((c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j] = (xp[:, i * down:i * down + fh, j * down:j * down + fw] * ff).sum(axis=(1, 2))
    return y


class StyleGAN2Test(unittest.TestCase):
    def test_upfirdn2d(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(2, 3, 5, 7, generator=g)
        f = torch.randn(4, 3, generator=g)  # asymmetric, so a missing flip shows
        for up, down, pad in [(2, 1, (2, 1, 2, 1)), (1, 2, (1, 1, 1, 1)), (2, 2, (1, 2, 0, 3))]:
            y = S.upfirdn2d(x, f, up=up, down=down, pad=pad)
            ref = upfirdn_loops(x[1].double().numpy(), f.double().numpy(), up, down, pad)
            self.assertEqual(tuple(y.shape[1:]), ref.shape)
            self.assertLess(np.abs(y[1].double().numpy() - ref).max(), 1e-5)
        self.assertEqual(tuple(S.upsample2d(x, S.setup_filter()).shape), (2, 3, 10, 14))
        self.assertAlmostEqual(S.setup_filter().sum().item(), 1.0, places=6)

    def test_modulated_conv(self):
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, 4, 5, 6, generator=g)
        wt = torch.randn(3, 4, 3, 3, generator=g)
        st = torch.randn(2, 4, generator=g)
        f = S.setup_filter()
        for up in (1, 2):
            y = S.modulated_conv2d(x, wt, st, up=up, padding=1, resample_filter=f)
            for n in range(2):
                w = wt * st[n][None, :, None, None]
                w = w / (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).sqrt()
                if up == 1:
                    ref = F.conv2d(x[n:n + 1], w, padding=1)
                else:  # zero insertion, conv with the flipped kernel over pad 2 (= transposed conv), then the filter
                    xi = S.upfirdn2d(x[n:n + 1], torch.ones(1, 1), up=2, pad=(2, 1, 2, 1))
                    ref = S.upfirdn2d(F.conv2d(xi, w.flip([2, 3])), f, pad=(1, 1, 1, 1), gain=4)
                self.assertEqual(tuple(y.shape[2:]), (5 * up, 6 * up))
                self.assertLess((y[n:n + 1] - ref).abs().max().item(), 1e-4)
        # demodulation: unit-norm kernels keep a unit-variance input near unit variance
        big = torch.randn(1, 64, 32, 32, generator=g)
        y = S.modulated_conv2d(big, torch.randn(16, 64, 3, 3, generator=g), torch.rand(1, 64, generator=g) + 0.5,
                               padding=1)
        self.assertLess(abs(y.std().item() - 1.0), 0.15)

    def test_names_shapes_ws(self):
        gen = S.Generator()
        sd = gen.state_dict()
        for k, shape in [("mapping.fc0.weight", (64, 64)), ("mapping.w_avg", (64,)), ("synthesis.b4.const", (64, 4, 8)),
                         ("synthesis.b4.conv1.affine.weight", (64, 64)), ("synthesis.b8.conv0.weight", (64, 64, 3, 3)),
                         ("synthesis.b128.conv1.noise_const", (128, 256)), ("synthesis.b8.conv0.noise_strength", ()),
                         ("synthesis.b8.conv0.resample_filter", (4, 4)), ("synthesis.b128.torgb.weight", (3, 16, 1, 1)),
                         ("synthesis.b16.resample_filter", (4, 4))]:
            self.assertEqual(tuple(sd[k].shape), shape, k)
        self.assertNotIn("synthesis.b4.conv0.weight", sd)
        self.assertEqual(gen.num_ws, 12)
        with torch.no_grad():
            ws = gen.mapping(torch.randn(1, 64))
            self.assertEqual(tuple(ws.shape), (1, 12, 64))
            img = gen.synthesis(ws, noise_mode="const")
            self.assertEqual(tuple(img.shape), (1, 3, 128, 256))
            # the last w reaches only b128.torgb: changing it changes the image; ws[:, 11] is that torgb's
            ws2 = ws.clone()
            ws2[:, 11] += 1
            self.assertGreater((gen.synthesis(ws2, noise_mode="const") - img).abs().max().item(), 1e-4)
            # const noise is deterministic; explicit noise maps replace it
            self.assertTrue(torch.equal(img, gen.synthesis(ws, noise_mode="const")))
            gen.synthesis.b64.conv1.noise_strength.fill_(0.5)
            a = gen.synthesis(ws, noise_mode="const")
            b = gen.synthesis(ws, noise_mode="const", noises={"b64.conv1": torch.zeros(1, 1, 64, 128)})
            self.assertGreater((a - b).abs().max().item(), 1e-4)
            # truncation psi 0 gives w_avg everywhere
            gen.mapping.w_avg.normal_()
            t = gen.mapping(torch.randn(2, 64), truncation_psi=0.0)
            self.assertTrue(torch.allclose(t, gen.mapping.w_avg.expand_as(t)))

    def test_mix(self):
        gen = S.Generator(TINY)
        with torch.no_grad():
            ws = gen.mapping(torch.randn(3, 8))
            c, a, b = ws[0:1], ws[1:2], ws[2:3]
            self.assertTrue(torch.equal(S.mix_ws(c, [a], 0.0), c))
            self.assertTrue(torch.allclose(S.mix_ws(c, [a], 1.0), a))
            self.assertTrue(torch.allclose(S.mix_ws(c, [a, b], 0.5), 0.5 * c + 0.25 * (a + b)))
            with self.assertRaises(ValueError):
                S.mix_ws(c, [a], 1.2)

    def test_load_errors(self):
        with tempfile.TemporaryDirectory() as d:
            gen = S.Generator(TINY)
            path = os.path.join(d, "g")
            sd = S.state_for_export(gen)
            export(path, sd, "", gen.cfg)
            g2 = S.load_generator(path + ".safetensors")
            z = torch.randn(1, 8)
            with torch.no_grad():
                self.assertTrue(torch.equal(gen(z, noise_mode="const"), g2(z, noise_mode="const")))
            bad = dict(sd)
            bad["synthesis.b8.conv1.weight"] = torch.zeros(8, 8, 1, 1)
            export(path, bad, "", gen.cfg)
            with self.assertRaisesRegex(ValueError, r"synthesis\.b8\.conv1\.weight has shape \[8, 8, 1, 1\], expected \[8, 8, 3, 3\]"):
                S.load_generator(path + ".safetensors")
            del bad["synthesis.b8.conv1.weight"], bad["mapping.fc1.bias"]
            export(path, bad, "", gen.cfg)
            with self.assertRaisesRegex(ValueError, r"missing tensors.*mapping\.fc1\.bias"):
                S.load_generator(path + ".safetensors")

    def test_train_smoke(self):
        with tempfile.TemporaryDirectory() as d:
            data = synth_world.write_dataset(os.path.join(d, "train"), n=6, width=64, height=32, seed=1)
            cfg = os.path.join(d, "cfg.json")
            with open(cfg, "w") as f:
                json.dump(TINY, f)
            out, exp = os.path.join(d, "run"), os.path.join(d, "exp", "g")
            clip = os.path.join(os.path.dirname(__file__), "..", "..", "..", "assets", "models", "clip.safetensors")
            base = ["--data", data, "--out", out, "--batch", "2", "--config", cfg, "--threads", "1", "--log-every", "1",
                    "--r1-every", "2", "--fd-clip", clip, "--fd-every", "2", "--fd-count", "6"]
            with contextlib.redirect_stdout(io.StringIO()):
                train_stylegan.main(base + ["--steps", "2"])
                self.assertEqual(torch.load(os.path.join(out, "ckpt.pt"))["step"], 2)
                s = train_stylegan.main(base + ["--steps", "3", "--export", exp])
            self.assertEqual(s["steps"], 3)
            with open(os.path.join(out, "log.txt")) as f:
                log = f.read()
            self.assertIn("resumed at step 2", log)
            self.assertIn("r1 ", log)
            self.assertEqual([f["step"] for f in s["fds"]], [2, 3])  # step 2 from the first run, kept on resume
            self.assertTrue(all(math.isfinite(f["fd"]) and f["fd"] >= 0 for f in s["fds"]))
            g = S.load_generator(exp + ".safetensors")
            self.assertEqual(tuple(g(torch.randn(1, 8)).shape), (1, 3, 16, 32))
            self.assertTrue(all(math.isfinite(v) for v in (s["last_log"]["loss_g"], s["last_log"]["loss_d"])))

    def test_fd_tracker(self):
        """The FD of a set against itself is ~0 and grows with a shift of the features."""
        real = torch.randn(32, 3, 8, 16, generator=torch.Generator().manual_seed(3))
        feats = lambda x: x.mean(dim=(2, 3))  # noqa: E731
        fd = train_stylegan.FDTracker(feats, real, 32)
        self.assertLess(train_stylegan.frechet(fd.real, fd.real), 1e-9)
        gen = S.Generator(dict(TINY, resolution=8, base=[4, 8]))
        a = fd(gen)
        self.assertTrue(math.isfinite(a) and a > 0)
        self.assertEqual(a, fd(gen))  # fixed z: the same generator, the same FD

    def test_golden_fixtures_regenerate(self):
        """make_fixtures_stylegan reproduces the committed tests/golden/stylegan files (to 1e-5)."""
        from dgtrain import make_fixtures_stylegan
        from dgtrain.safetensors_io import load
        here = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "stylegan")
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()):
            make_fixtures_stylegan.main(["--out", d])
            for f in ("weights.safetensors", "fixture.safetensors", "bad_shape.safetensors"):
                a, b = load(os.path.join(here, f))[0], load(os.path.join(d, f))[0]
                self.assertEqual(sorted(a), sorted(b), f)
                for k in a:
                    self.assertLess((a[k] - b[k]).abs().max().item(), 1e-5, f"{f} {k}")


if __name__ == "__main__":
    unittest.main()
