"""Smoke tests of train_clip.py and train_segmenter.py on a tiny synthetic world-format dataset: a few
steps, a checkpoint, automatic resume, the log, the summary and the exported weights."""
import contextlib
import io
import json
import os
import tempfile
import unittest

import torch

from dgtrain import train_clip, train_segmenter
from dgtrain import segmenter as S
from dgtrain import synth_world
from dgtrain import tokenizer as T
from dgtrain.clip_model import load_clip
from dgtrain.clip_text import load_text_encoder
from dgtrain.world_data import WorldImages


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def quiet(fn, *a):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*a)


class TrainScriptsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.train = synth_world.write_dataset(os.path.join(d, "train"), n=12, width=64, height=32, seed=1)
        cls.val = synth_world.write_dataset(os.path.join(d, "val"), n=4, width=64, height=32, seed=2, split="val")
        vocab, merges, _ = T.learn_bpe(T.read_captions(cls.train), 100)
        cls.tok = os.path.join(d, "tok")
        T.save_tokenizer(cls.tok, vocab, merges)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def _config(self, obj):
        path = os.path.join(self.tmp.name, f"cfg{len(os.listdir(self.tmp.name))}.json")
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def test_segmenter(self):
        out = os.path.join(self.tmp.name, "runs", "seg")
        exp = os.path.join(self.tmp.name, "exp", "seg")
        cfg = self._config({"stem": 8, "channels": [8, 16, 16, 32], "blocks": [1, 1, 1, 1], "fpn_dim": 16})
        base = ["--data", self.train, "--val", self.val, "--out", out, "--batch", "2", "--lr", "1e-3", "--config", cfg,
                "--threads", "1", "--log-every", "1"]
        quiet(train_segmenter.main, base + ["--steps", "2"])
        self.assertEqual(torch.load(os.path.join(out, "ckpt.pt"))["step"], 2)
        s = quiet(train_segmenter.main, base + ["--steps", "4", "--export", exp])
        self.assertEqual(s["steps"], 4)
        log = read(os.path.join(out, "log.txt"))
        self.assertIn("resume at step 2", log)
        self.assertIn("step 4 loss", log)
        self.assertNotIn("step 1 loss", log.split("resume at step 2")[1])  # resumed, not restarted
        summary = json.loads(read(os.path.join(out, "summary.json")))
        self.assertEqual(len(summary["val"]["iou"]), 14)
        self.assertTrue(0.0 <= summary["val"]["miou"] <= 1.0)
        conf = json.loads(read(exp + ".json"))
        self.assertEqual(conf["num_classes"], 14)
        self.assertEqual(conf["class_names"][9], "car")
        m = S.load_segmenter(exp + ".safetensors", conf).eval()
        ev = S.evaluate(m, WorldImages(self.val))
        self.assertAlmostEqual(ev["miou"], summary["val"]["miou"], places=5)

        # A refinement head on the exported model: alone (the rest frozen), then with everything, on 16x16 patches
        rcfg = self._config(dict(json.loads(read(cfg)), refine=4))
        for mode in ("--refine-only", "--refine-crop"):
            rexp = os.path.join(self.tmp.name, "exp", "seg" + mode)
            quiet(train_segmenter.main, ["--data", self.train, "--val", self.val, "--out", out + mode, "--batch", "2",
                                         "--config", rcfg, "--threads", "1", "--steps", "2", mode, "16",
                                         "--init", exp + ".safetensors", "--export", rexp])
            r = S.load_segmenter(rexp + ".safetensors", json.loads(read(rexp + ".json")))
            self.assertIsNotNone(r.refine)
            rsd, sd = r.state_dict(), m.state_dict()
            same = all(torch.equal(rsd[k], v) for k, v in sd.items())
            self.assertEqual(same, mode == "--refine-only", mode)  # the base only moves with --refine-crop
            self.assertEqual(json.loads(read(rexp + ".json"))["training"]["init"]["weights"], exp + ".safetensors")

    def test_clip(self):
        out = os.path.join(self.tmp.name, "runs", "clip")
        exp = os.path.join(self.tmp.name, "exp", "clip")
        cfg = self._config({"text": {"width": 32, "layers": 2, "heads": 4, "mlp": 64},
                            "image": {"stem": 8, "channels": [8, 16, 16, 32], "groups": 4}, "embed_dim": 16})
        base = ["--data", self.train, "--val", self.val, "--out", out, "--batch", "4", "--lr", "1e-3", "--config", cfg,
                "--tokenizer", self.tok, "--threads", "1", "--log-every", "1"]
        quiet(train_clip.main, base + ["--steps", "2"])
        s = quiet(train_clip.main, base + ["--steps", "3", "--export", exp])
        self.assertEqual(s["steps"], 3)
        self.assertIn("resume at step 2", read(os.path.join(out, "log.txt")))
        self.assertIn("i2t_top1", s["val"])
        conf = json.loads(read(exp + ".json"))
        tok = T.Tokenizer.from_dir(self.tok)
        self.assertEqual(conf["text"]["vocab_size"], tok.vocab_size)
        clip = load_clip(exp + ".safetensors", conf).eval()
        text = load_text_encoder(exp + ".safetensors", exp + ".json").eval()
        alone = os.path.join(os.path.dirname(exp), "text_encoder")
        text2 = load_text_encoder(alone + ".safetensors", alone + ".json").eval()  # what the UNet training loads
        ids = tok(["a red car on a winter street at night"])
        with torch.no_grad():
            self.assertTrue(torch.equal(text(ids)[0], clip.text(ids)[0]))
            self.assertTrue(torch.equal(text2(ids)[0], clip.text(ids)[0]))


if __name__ == "__main__":
    unittest.main()
