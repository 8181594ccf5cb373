"""The committed gradient fixture (tests/golden/grad) is reproduced by torch autograd, and its dL/dx agrees
with central finite differences of the loss (float32: the reference's norms compute in float32)."""
import json
import os
import unittest

import torch

from dgtrain import make_fixtures_grad as mfg
from dgtrain.safetensors_io import load

GOLD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "grad")


@unittest.skipUnless(os.path.exists(os.path.join(GOLD, "manifest.json")), "fixtures not generated")
class TestGoldenGrad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(GOLD, "manifest.json")) as f:
            cls.man = json.load(f)["unet_grad"]
        cls.io = load(os.path.join(GOLD, cls.man["file"]))[0]
        cls.unet = mfg.load_unet()

    def rs(self):
        return [self.io[f"R.{i}"] for i in range(len([k for k in self.io if k.startswith("R.")]))]

    def test_reproduced(self):
        io = self.io
        self.assertEqual(mfg.finest_layers(self.unet, io["x"], io["t"], io["context"]), self.man["layers"])
        loss, dx, ps, _ = mfg.loss_grad(self.unet, io["x"], io["t"], io["context"], self.man["layers"], self.rs())
        self.assertTrue(torch.allclose(dx, io["dx"], rtol=0, atol=1e-9))
        for i, p in enumerate(ps):
            self.assertTrue(torch.allclose(p, io[f"P.{i}"], atol=1e-6))
        self.assertAlmostEqual(float(loss), float(io["loss"][0]), places=6)

    def test_finite_differences(self):
        io, layers = self.io, self.man["layers"]
        x, dx = io["x"], io["dx"]
        gen = torch.Generator().manual_seed(3)
        for _ in range(4):
            i = int(torch.randint(x.numel(), (1,), generator=gen))
            ls = []
            for sgn in (1, -1):
                xp = x.clone().reshape(-1)
                xp[i] += sgn * 1e-2
                ls.append(float(mfg.loss_grad(self.unet, xp.reshape(x.shape), io["t"], io["context"], layers,
                                              self.rs())[0]))
            fd = (ls[0] - ls[1]) / 2e-2
            self.assertAlmostEqual(fd, float(dx.reshape(-1)[i]), delta=2e-2 * float(dx.abs().max()))

if __name__ == "__main__":
    unittest.main()
