"""Unit tests of the evaluation helpers in eval_models.py (the metrics themselves run on trained models)."""
import unittest

import torch


from dgtrain import eval_models as E


class TestEvalHelpers(unittest.TestCase):
    def test_frechet(self):
        g = torch.Generator().manual_seed(0)
        a = torch.randn(20000, 8, generator=g)
        b = torch.randn(20000, 8, generator=g)
        self.assertLess(E.frechet(a, b), 0.05)
        # Shifted mean by 1 in every dim: distance ~ 8; doubled scale: 8 * (1 + 4 - 2*2) = 8.
        self.assertAlmostEqual(E.frechet(a, b + 1), 8.0, delta=0.3)
        self.assertAlmostEqual(E.frechet(a, 2 * b), 8.0, delta=0.4)

    def test_generation_cache(self):
        import argparse
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="dg_evalcache_")
        self.addCleanup(shutil.rmtree, tmp, True)
        calls, scales = [], []

        def gen(prompts, labels, seed, steps, cfg, control_scale=1.0):
            calls.append(seed)
            scales.append(control_scale)
            return torch.full((len(prompts), 3, 2, 2), seed / 10.0)

        args = argparse.Namespace(batch=2, steps=3, cfg=7.5, cache=tmp, control_scale=1.0)
        labels = torch.zeros(3, 2, 2, dtype=torch.uint8)
        a = E.generate(gen, ["a", "b", "c"], labels, 1, args, "m1")
        self.assertEqual(calls, [1, 3])  # one call per batch, seed + batch start
        b = E.generate(gen, ["a", "b", "c"], labels, 1, args, "m1")
        self.assertEqual(calls, [1, 3])  # all from the cache
        self.assertTrue(torch.equal(a, b))
        E.generate(gen, ["a", "b", "c"], labels, 1, args, "m2")  # another model: generated again
        E.generate(gen, ["a", "b", "x"], labels + 1, 1, args, "m1")  # other prompts and layouts too
        self.assertEqual(calls, [1, 3, 1, 3, 1, 3])
        # another ControlNet scale: generated again, and the scale reaches the generator
        E.generate(gen, ["a", "b", "c"], labels, 1, argparse.Namespace(**{**vars(args), "control_scale": 1.5}), "m1")
        self.assertEqual((calls[-2:], scales[-3:]), ([1, 3], [1.0, 1.5, 1.5]))

    def test_miou_gain(self):
        from dgtrain import segmenter as S
        g = torch.Generator().manual_seed(1)
        labels = torch.randint(0, 3, (40, 8, 8), generator=g)
        noisy = lambda p: torch.where(torch.rand(labels.shape, generator=g) < p,  # noqa: E731
                                      torch.randint(0, 3, labels.shape, generator=g), labels)
        conf = lambda pred: torch.stack([S.confusion(pred[i], labels[i], 3) for i in range(40)])  # noqa: E731
        a, b = conf(noisy(0.6)), conf(noisy(0.2))
        same = E.miou_gain(a, a)
        self.assertEqual((same["gain"], same["ci95"]), (0.0, [0.0, 0.0]))
        r = E.miou_gain(a, b)
        whole = lambda c: S.iou_from_confusion(c.sum(0))[1]  # noqa: E731
        self.assertAlmostEqual(r["gain"], whole(b) - whole(a), places=6)
        self.assertTrue(0 < r["ci95"][0] < r["gain"] < r["ci95"][1], r)
        self.assertLess(E.miou_gain(b, a)["ci95"][1], 0)

    def test_edits(self):
        self.assertEqual(E.EDITS["snowy"]("a red car on a foggy street at sunset"), "a red car on a snowy street at sunset")
        self.assertEqual(E.EDITS["snowy"]("a red car on a street"), "a red car on a snowy street")
        self.assertEqual(E.EDITS["at night"]("a red car on a street at sunset"), "a red car on a street at night")
        self.assertEqual(E.EDITS["at night"]("a red car on a street"), "a red car on a street at night")
        self.assertEqual(E.colour_edit("a red car on a street", ("car", "red")), ("a blue car on a street", ("car", "blue")))
        self.assertEqual(E.colour_edit("a blue car on a street", ("car", "blue"))[1], ("car", "red"))

    def test_caption_attr(self):
        cap = {"roles": [{"class": "person", "attr": None}, {"class": "building", "attr": "yellow"},
                         {"class": "car", "attr": "green"}]}
        self.assertEqual(E.caption_attr(cap), ("car", "green"))
        self.assertIsNone(E.caption_attr({"roles": [{"class": "tree", "attr": None}]}))

    def test_attr_correct(self):
        names = ["sky", "car"]
        cents = {("car", "red"): torch.tensor([0.8, -0.8, -0.8]), ("car", "blue"): torch.tensor([-0.8, -0.8, 0.8])}
        img = torch.zeros(3, 8, 8)
        img[:, :, :4] = torch.tensor([0.7, -0.7, -0.6]).view(3, 1, 1)
        seg = torch.zeros(8, 8, dtype=torch.long)
        seg[:, :4] = 1
        self.assertTrue(E.attr_correct(img, seg, ("car", "red"), cents, names))
        self.assertFalse(E.attr_correct(img, seg, ("car", "blue"), cents, names))
        self.assertFalse(E.attr_correct(img, torch.zeros(8, 8, dtype=torch.long), ("car", "red"), cents, names))
        self.assertEqual(E.other_colour(("car", "red")), ("car", "blue"))
        self.assertEqual(E.other_colour(("car", "blue")), ("car", "red"))

    def test_markdown(self):
        iou = {c: 0.5 for c in E.SMALL_CLASSES}
        real = {"clip_sim": 0.3, "attr_acc": 0.9, "attr_items": 10, "attr_other": 0.05, "miou": 0.9, "iou": iou}
        rep = {"task": "l2i", "count": 2, "data": "d", "steps": 25, "cfg": 7.5, "seed": 0, "real": real,
               "models": {"cn": dict(real, fd=3.0, edits={"snowy": {"clip_sim": 0.2, "clip_sim_unedited_prompt": 0.1,
                                                                    "miou": 0.5, "attr_acc": 0.0},
                                                          "car colour": {"clip_sim": 0.2, "miou": 0.4, "attr_acc": 0.25,
                                                                         "attr_items": 4}})}}
        md = E.markdown(rep)
        self.assertIn("| cn | 0.900 | 0.500 | 0.500 | 0.500 | 3.00 | 0.300 | 0.900 |", md)
        self.assertIn("| cn | car colour | 0.200 | n/a | 0.400 | 0.250 |", md)
        t = E.markdown({"task": "t2i", "count": 2, "data": "d", "steps": 25, "cfg": 7.5, "seed": 0, "real": real,
                        "generated": dict(real, fd=float("nan")), "vae_psnr_db": 21.337,
                        "reconstructed": dict(real, attr_acc=0.7, fd=1.234)})
        self.assertIn("| generated | 0.300 | 0.900 (10) | 0.050 | n/a |", t)
        self.assertIn("| real test images through the autoencoder | 0.300 | 0.700 (10) | 0.050 | 1.23 |", t)
        self.assertIn("PSNR 21.34 dB", t)


if __name__ == "__main__":
    unittest.main()
