"""The GPU path on the CPU: the on-device training set (dgtrain.resident), Batches on a device, and the three image
trainers with --resident (and --bf16) for a few steps, resumed and exported."""
import contextlib
import io
import os
import shutil
import tempfile
import unittest

import torch

from dgtrain import clip_text, controlnet, resident, synth_world, train_controlnet, train_unet, train_vae
from dgtrain import plumbing as P
from dgtrain.safetensors_io import load
from dgtrain.world_data import WorldTensors


def quiet(fn, *a):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*a)


def log_lines(out):
    """The lines of a run's log.txt."""
    with open(os.path.join(out, "log.txt")) as f:
        return f.read().splitlines()


class ResidentSetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dg_resident_")
        cls.data, cls.text = synth_world.write_image_kit(cls.tmp)
        cls.common = ["--data", cls.data, "--batch", "2", "--log-every", "1", "--threads", "2", "--resident"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def p(self, *a):
        return os.path.join(self.tmp, *a)

    def test_batches_on_a_device_are_the_host_batches(self):
        host, dev = P.Batches(5, 3, seed=4), P.Batches(5, 3, seed=4, device="cpu")
        for _ in range(4):
            b = dev.next()
            self.assertTrue(torch.is_tensor(b))
            self.assertEqual(b.tolist(), host.next())
        again = P.Batches(5, 3, seed=0, device="cpu")
        again.load_state_dict(dev.state_dict())
        self.assertEqual(again.next().tolist(), dev.next().tolist())
        self.assertEqual(dev.indices(2), [i for _ in range(2) for i in dev.next().tolist()])

    def test_captions_and_layouts(self):
        data = WorldTensors(self.data)
        text = clip_text.TextCond(self.p("te.safetensors"), self.p("tok"))
        caps = resident.Captions(data.captions, text, "cpu")
        self.assertEqual(len(caps), 1 + len({c for cs in data.captions for c in cs}))
        idx = torch.tensor([0, 3, 5, 3])
        gen = torch.Generator().manual_seed(0)
        ctx = caps.draw(idx, gen)
        for row, i in zip(ctx, idx.tolist()):  # one of the image's own captions, as TextCond gives it
            self.assertTrue(any(torch.allclose(row, text([c])[0], atol=1e-3) for c in data.captions[i]))
        self.assertTrue(torch.allclose(caps.draw(idx, gen, drop=1.0), text([""] * 4), atol=1e-3))
        flat = [c for cs in data.captions for c in cs]  # forked tokenizer workers give the same ids
        self.assertTrue(torch.equal(resident.token_ids(text.tok, flat, workers=2, serial_below=1), text.tok(flat)))
        table = torch.randn(15, 8)
        index = resident.layout_index(data.labels, 14, (8, 16), "cpu")
        self.assertEqual(index.dtype, torch.uint8)
        self.assertTrue(torch.equal(controlnet.id_hint_of_index(index[idx], table),
                                    controlnet.id_hint(data.labels[idx].long(), table, (8, 16))))

    def test_trainers(self):
        vae = self.p("m", "vae.safetensors")
        quiet(train_vae.main,
              self.common + ["--out", self.p("runs", "vae"), "--config", self.p("vae.json"), "--crop", "32x32",
                             "--object-weight", "4", "--adv-weight", "0.1", "--adv-start", "1", "--eval-every", "0",
                             "--steps", "2", "--bf16", "--lr-ref-batch", "8", "--export", vae])
        log = log_lines(self.p("runs", "vae"))
        self.assertTrue(any("resident on cpu" in ln for ln in log))
        self.assertTrue(any("lr 0.0001: --lr 0.0002 x sqrt(batch 2 / --lr-ref-batch 8)" in ln for ln in log))
        self.assertTrue(any("done: vae trained 2 steps, 4 samples" in ln for ln in log))

        unet = self.p("m", "unet.safetensors")
        args = self.common + self.text + ["--out", self.p("runs", "unet"), "--config", self.p("unet.json"),
                                          "--vae", vae, "--export", unet]
        quiet(train_unet.main, args + ["--steps", "2"])
        quiet(train_unet.main, args + ["--steps", "3", "--compile"])  # resumed; with torch 1.13 eagerly
        log = log_lines(self.p("runs", "unet"))
        self.assertTrue(any("resumed at step 2" in ln for ln in log))
        self.assertTrue(any(" step 3 loss" in ln for ln in log))
        self.assertIn("model.diffusion_model.out.2.weight", load(unet)[0])

        for mode, hint in (("aldm", "id"), ("baseline", "color")):
            out = self.p("runs", f"cn_{mode}")
            args = self.common + self.text + [
                "--out", out, "--mode", mode, "--hint", hint, "--unet", unet, "--vae", vae, "--d-warmup", "1",
                "--ramp-start", "0", "--ramp-end", "1", "--lazy", "2", "--unroll", "2", "--adv-batch", "2",
                "--d-config", self.p("seg.json"), "--bf16", "--export", self.p("m", f"cn_{mode}.safetensors")]
            quiet(train_controlnet.main, args + ["--steps", "2"])
            quiet(train_controlnet.main, args + ["--steps", "3"])
            log = log_lines(out)
            self.assertTrue(any("resumed at step 2" in ln for ln in log))
            if mode == "aldm":
                self.assertTrue(any(" step 3 " in ln and " adv " in ln for ln in log))
            self.assertIn("control_model.middle_block_out.0.weight", load(self.p("m", f"cn_{mode}.safetensors"))[0])


if __name__ == "__main__":
    unittest.main()
