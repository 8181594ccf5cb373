"""The committed image fixtures (tests/golden/image) load by their single-file prefixes and the reference
modules reproduce their outputs."""
import json
import os
import unittest

import torch

from dgtrain import controlnet, diffusion, ldm_unet, ldm_vae, rng
from dgtrain.safetensors_io import load

GOLD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "golden", "image")


def strip(sd, prefix):
    out = {k[len(prefix):]: v.float() for k, v in sd.items() if k.startswith(prefix)}
    assert len(out) == len(sd), "every key carries the prefix"
    return out


@unittest.skipUnless(os.path.exists(os.path.join(GOLD, "manifest.json")), "fixtures not generated")
class TestGoldenImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(GOLD, "manifest.json")) as f:
            cls.man = json.load(f)

    def io(self, name):
        return load(os.path.join(GOLD, self.man[name]["file"]))[0]

    def model(self, cls, name, weights_key="weights", prefix="model.diffusion_model."):
        m = cls(self.man[name]["config"]).eval()
        sd, _ = load(os.path.join(GOLD, self.man[name][weights_key]))
        self.assertTrue(all(v.dtype == torch.float16 for v in sd.values()))
        m.load_state_dict(strip(sd, prefix))
        return m

    def test_unet(self):
        u = self.model(ldm_unet.UNetModel, "unet")
        io = self.io("unet")
        with torch.no_grad():
            self.assertTrue(torch.allclose(u(io["x"], io["t"], io["context"]), io["eps"], atol=1e-5))
        io = self.io("unet_control")
        ctl = [io[f"control.{i}"] for i in range(u.num_control)]
        with torch.no_grad():
            y = u(io["x"], io["t"], io["context"], ctl)
        self.assertTrue(torch.allclose(y, io["eps"], atol=1e-5))
        self.assertGreater((io["eps"] - self.io("unet")["eps"]).abs().max().item(), 1e-2)

    def test_controlnet(self):
        u = self.model(ldm_unet.UNetModel, "unet")
        for mode in ("id", "color"):
            name = f"controlnet_{mode}"
            c = self.model(controlnet.ControlNet, name, prefix="control_model.")
            io = self.io(name)
            if mode == "id":
                h = controlnet.id_hint(io["label"], io["class_table"], tuple(io["hint"].shape[2:]))
                self.assertTrue(torch.equal(h, io["hint"]))
            with torch.no_grad():
                res = c(io["x"], io["hint"], io["t"], io["context"])
                eps = u(io["x"], io["t"], io["context"], res)
            for i, r in enumerate(res):
                self.assertTrue(torch.allclose(r, io[f"control.{i}"], atol=1e-5))
            self.assertTrue(torch.allclose(eps, io["eps"], atol=1e-5))

    def test_vae(self):
        v = self.model(ldm_vae.AutoencoderKL, "vae_encoder", prefix="first_stage_model.")
        io = self.io("vae_encoder")
        with torch.no_grad():
            m, lv = v.encode_moments(io["image"])
        self.assertTrue(torch.allclose(m, io["mean"], atol=1e-5) and torch.allclose(lv, io["logvar"], atol=1e-5))
        io = self.io("vae_decoder")
        with torch.no_grad():
            self.assertTrue(torch.allclose(v.decode(io["z"]), io["image"], atol=1e-5))

    def test_samplers_and_rng(self):
        u = self.model(ldm_unet.UNetModel, "unet")
        sched = diffusion.Schedule()
        for name in ("sample_ddim", "sample_ddim_eta", "sample_plms"):
            meta, io = self.man[name], self.io(name)
            s = diffusion.DDIM(sched, meta["steps"], meta["eta"]) if meta["eta"] is not None else diffusion.PLMS(sched, meta["steps"])
            self.assertTrue(torch.equal(io["x_T"], rng.randn_torch(meta["seed"], io["x_T"].shape)))
            with torch.no_grad():
                out, _ = s.sample(lambda x, t, c: u(x, t, c), tuple(io["x_T"].shape), meta["seed"], io["cond"],
                                  io["uncond"], meta["guidance_scale"])
            # the thread count changes reduction order: ~3e-6 relative after a few guided steps
            self.assertTrue(torch.allclose(out, io["x_out"], rtol=1e-5, atol=2e-4), name)
        io = self.io("rng")
        self.assertTrue(torch.equal(io["randn_seed42_s0"], rng.randn_torch(42, (4, 8, 16), 0)))
        self.assertTrue(torch.equal(io["randn_seed2pow40_s7"], rng.randn_torch(2 ** 40 + 5, (37,), 7)))


if __name__ == "__main__":
    unittest.main()
