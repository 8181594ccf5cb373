"""Unit tests of the evaluation helpers in eval_models.py (the metrics themselves run on trained models)."""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import eval_models as E  # noqa: E402


class TestEvalHelpers(unittest.TestCase):
    def test_frechet(self):
        g = torch.Generator().manual_seed(0)
        a = torch.randn(20000, 8, generator=g)
        b = torch.randn(20000, 8, generator=g)
        self.assertLess(E.frechet(a, b), 0.05)
        # Shifted mean by 1 in every dim: distance ~ 8; doubled scale: 8 * (1 + 4 - 2*2) = 8.
        self.assertAlmostEqual(E.frechet(a, b + 1), 8.0, delta=0.3)
        self.assertAlmostEqual(E.frechet(a, 2 * b), 8.0, delta=0.4)

    def test_edits(self):
        self.assertEqual(E.EDITS["snowy"]("a red car on a foggy street at sunset"), "a red car on a snowy street at sunset")
        self.assertEqual(E.EDITS["snowy"]("a red car on a street"), "a red car on a snowy street")
        self.assertEqual(E.EDITS["at night"]("a red car on a street at sunset"), "a red car on a street at night")
        self.assertEqual(E.EDITS["at night"]("a red car on a street"), "a red car on a street at night")
        self.assertEqual(E.colour_edit("a red car on a street", ("car", "red")), ("a blue car on a street", ("car", "blue")))
        self.assertEqual(E.colour_edit("a blue car on a street", ("car", "blue"))[1], ("car", "red"))

    def test_caption_attr(self):
        cap = {"roles": [{"class": "person", "attr": None}, {"class": "building", "attr": "yellow"}]}
        self.assertEqual(E.caption_attr(cap), ("building", "yellow"))
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


if __name__ == "__main__":
    unittest.main()
