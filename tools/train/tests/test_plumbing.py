"""The training plumbing (dgtrain.plumbing) and the package's layout: one sampler whose old checkpoint states
still load, the argument aliases, the log's running means, and no script that imports another or edits
sys.path."""
import ast
import contextlib
import io
import json
import os
import random
import shutil
import tempfile
import unittest

import torch

from dgtrain import REPO, plumbing as P
from dgtrain import synth_world

PACKAGE = os.path.join(REPO, "tools", "train", "dgtrain")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def entry_modules():
    """dgtrain's modules that are run as scripts (python3 -m dgtrain.NAME with a main()), but for the libraries
    that also have a command line (tokenizer)."""
    out = set()
    for f in os.listdir(PACKAGE):
        if f.endswith(".py"):
            tree = ast.parse(read(os.path.join(PACKAGE, f)))
            if any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
                out.add(f[:-3])
    return out - {"tokenizer"}


class LayoutTest(unittest.TestCase):
    def test_no_sys_path_edits(self):
        needle = "sys.path." + "insert"
        offenders = []
        for top in ("tools", "tests"):
            for root, _, files in os.walk(os.path.join(REPO, top)):
                for f in files:
                    if f.endswith(".py") and needle in read(os.path.join(root, f)):
                        offenders.append(os.path.relpath(os.path.join(root, f), REPO))
        self.assertEqual(offenders, [])

    def test_no_script_imports_a_script(self):
        scripts = entry_modules()
        self.assertTrue({"train_unet", "train_controlnet", "train_vae", "train_clip", "train_segmenter",
                         "sample_image", "eval_models"} <= scripts)
        for name in sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py")):
            tree = ast.parse(read(os.path.join(PACKAGE, name + ".py")))
            imported = set()
            for n in ast.walk(tree):
                if isinstance(n, ast.ImportFrom):
                    if n.module in (None, "dgtrain") or (n.level and not n.module):
                        imported |= {a.name for a in n.names}
                    else:
                        imported.add(n.module.split(".")[-1])
                elif isinstance(n, ast.Import):
                    imported |= {a.name.split(".")[-1] for a in n.names}
            self.assertEqual(imported & (scripts - {name}), set(), name)


class BatchesTest(unittest.TestCase):
    def test_same_order_for_the_same_seed_and_resume(self):
        a, b = P.Batches(7, 3, seed=5), P.Batches(7, 3, seed=5)
        first = [a.next() for _ in range(4)]
        self.assertEqual(first, [b.next() for _ in range(4)])
        self.assertEqual(sorted(first[0] + first[1] + [first[2][0]]), list(range(7)))  # an epoch, then the next
        c = P.Batches(7, 3, seed=0)
        c.load_state_dict(a.state_dict())
        self.assertEqual([c.next() for _ in range(3)], [a.next() for _ in range(3)])

    def test_reads_the_old_sampler_state(self):
        order = [4, 0, 6, 2, 1, 5, 3]  # the text-side trainers' sampler: {n, rng, order, pos, epoch}
        old = {"n": 7, "rng": random.Random(0).getstate(), "order": order, "pos": 5, "epoch": 3}
        b = P.Batches(7, 3, seed=1)
        b.load_state_dict(old)
        nxt = b.next()
        self.assertEqual(nxt[:2], [5, 3])  # the epoch under way ends in its order
        fresh = P.Batches(7, 3, seed=1)
        fresh.load_state_dict({"n": 7, "rng": None, "order": [], "pos": 0, "epoch": 0})  # no epoch begun
        self.assertEqual(len(fresh.next()), 3)
        other = P.Batches(9, 3, seed=1)
        with contextlib.redirect_stderr(io.StringIO()):
            other.load_state_dict(old)  # another dataset size: a fresh shuffle
        self.assertEqual(other.pos, 0)


class ArgumentsTest(unittest.TestCase):
    def test_ckpt_minutes_is_ckpt_every_in_minutes(self):
        ap = P.base_parser("x")
        base = ["--data", "d", "--out", "o", "--steps", "1"]
        self.assertEqual(ap.parse_args(base).ckpt_every, 300.0)
        self.assertEqual(ap.parse_args(base + ["--ckpt-minutes", "2"]).ckpt_every, 120.0)
        self.assertEqual(ap.parse_args(base + ["--ckpt-every", "30"]).ckpt_every, 30.0)

    def test_lr_schedule(self):
        self.assertEqual(P.lr_at(0, 100, 1.0, 4), 0.25)
        self.assertEqual(P.lr_at(50, 100, 1.0, 4), 1.0)
        self.assertAlmostEqual(P.lr_at(100, 100, 1.0, 4, decay=True), 0.1)
        self.assertEqual(P.lr_at(0, 100, 2.0, 0), 2.0)

    def test_command_line(self):
        self.assertTrue(P.command_line("dgtrain.train_unet", ["--out", "a b"]).endswith(
            "-m dgtrain.train_unet --out 'a b'"))


class MeterTest(unittest.TestCase):
    def test_tensor_values_sum_as_floats_would(self):
        m = P.Meter()
        vals = torch.rand(5)
        for i, v in enumerate(vals):
            m.add(4, a=v, b=float(v), **({"c": v} if i % 2 else {}))
        r = m.report()
        self.assertEqual(r["a"], sum(float(v) for v in vals) / 5)
        self.assertEqual(r["a"], r["b"])
        self.assertAlmostEqual(r["c"], (float(vals[1]) + float(vals[3])) / 2)  # over the steps that gave it
        self.assertGreater(r["samples_per_s"], 0)


class OldCheckpointTest(unittest.TestCase):
    def test_segmenter_resumes_a_checkpoint_of_the_old_format(self):
        from dgtrain import train_segmenter
        tmp = tempfile.mkdtemp(prefix="dg_oldckpt_")
        self.addCleanup(shutil.rmtree, tmp, True)
        data = synth_world.write_dataset(os.path.join(tmp, "data"), n=5, width=64, height=32, seed=1)
        with open(os.path.join(tmp, "cfg.json"), "w") as f:
            json.dump({"stem": 8, "channels": [8, 8, 8, 8], "blocks": [1, 1, 1, 1], "fpn_dim": 8}, f)
        out = os.path.join(tmp, "run")
        args = ["--data", data, "--out", out, "--batch", "2", "--config", os.path.join(tmp, "cfg.json"),
                "--threads", "1", "--log-every", "1"]
        with contextlib.redirect_stdout(io.StringIO()):
            train_segmenter.main(args + ["--steps", "2"])
        # rewrite the checkpoint as trainutil.Run wrote it before the plumbing was merged
        ck = os.path.join(out, "ckpt.pt")
        s = torch.load(ck)
        perm, pos = s["batches"]["perm"].tolist(), s["batches"]["pos"]
        old = {"step": 2, "model": s["model"], "opt": s["opt"], "extra": s["extra"], "args": {},
               "sampler": {"n": 5, "rng": random.Random(0).getstate(), "order": perm, "pos": pos, "epoch": 1},
               "py_rng": random.getstate(), "torch_rng": torch.get_rng_state(), "cuda_rng": None}
        torch.save(old, ck)
        with contextlib.redirect_stdout(io.StringIO()):
            summary = train_segmenter.main(args + ["--steps", "3"])
        self.assertEqual(summary["steps"], 3)
        log = read(os.path.join(out, "log.txt"))
        self.assertIn("resume at step 2", log)
        self.assertIn("step 3 loss", log)


if __name__ == "__main__":
    unittest.main()


class BestScoreTest(unittest.TestCase):
    def test_only_a_better_score_is_kept(self):
        from dgtrain.plumbing import BestScore
        low = BestScore(lower_is_better=True)
        self.assertTrue(low.offer(0.5))  # the first score is the best so far
        self.assertFalse(low.offer(0.5))  # an equal one is no improvement
        self.assertFalse(low.offer(0.6))
        self.assertTrue(low.offer(0.4))
        self.assertEqual(low.value, 0.4)
        high = BestScore(lower_is_better=False, value=0.2)  # resumed from a checkpoint's value
        self.assertFalse(high.offer(0.1))
        self.assertTrue(high.offer(0.3))
        self.assertIn("best 0.3", high.note())
        self.assertEqual(BestScore(True).note(), "")

    def test_ema_applied_restores_the_live_weights(self):
        from dgtrain.plumbing import EMA
        m = torch.nn.Linear(2, 2)
        ema = EMA(m)
        live = {k: v.clone() for k, v in m.state_dict().items()}
        with torch.no_grad():
            ema.shadow["weight"].add_(1.0)
        with ema.applied(m):
            self.assertTrue(torch.equal(m.weight, live["weight"] + 1.0))
        self.assertTrue(torch.equal(m.weight, live["weight"]))
