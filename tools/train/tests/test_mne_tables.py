"""Unit tests of the encoder tables' parts: bootstrap intervals (stats), FDA (fda), the exemplar pairing and layer
swap (eval_mne_tables) and the style classifier's shapes (the tables themselves run on trained models)."""
import unittest

import torch

from dgtrain import eval_mne_tables as T
from dgtrain import segmenter as SG
from dgtrain import stats
from dgtrain import style_classifier as SC
from dgtrain.fda import fda


class TestStats(unittest.TestCase):
    def test_mean_ci(self):
        g = torch.Generator().manual_seed(0)
        small, big = torch.randn(50, generator=g), torch.randn(2000, generator=g)
        m, (lo, hi) = stats.mean_ci(small, stats.draw_weights(50, 500))
        self.assertLess(lo, m)
        self.assertLess(m, hi)
        _, (lo2, hi2) = stats.mean_ci(big, stats.draw_weights(2000, 500))
        self.assertLess(hi2 - lo2, (hi - lo) * 0.4)  # ~ 1/sqrt(40) as wide
        self.assertAlmostEqual(hi2 - lo2, 2 * 1.96 / 2000 ** 0.5, delta=0.03)
        w = stats.draw_weights(7, 3, seed=1)
        self.assertTrue(torch.equal(w.sum(1), torch.full((3,), 7.0, dtype=torch.float64)))

    def test_miou_ci_matches_segmenter(self):
        g = torch.Generator().manual_seed(1)
        lab = torch.randint(0, 4, (6, 8, 8), generator=g)
        pred = torch.where(torch.rand(6, 8, 8, generator=g) < 0.7, lab, torch.randint(0, 4, (6, 8, 8), generator=g))
        conf = torch.stack([SG.confusion(pred[i], lab[i], 5) for i in range(6)])
        m, (lo, hi) = stats.miou_ci(conf, stats.draw_weights(6, 200))
        self.assertAlmostEqual(m, SG.iou_from_confusion(conf.sum(0))[1], places=9)  # class 4 absent: not counted
        self.assertLessEqual(lo, m)
        self.assertGreaterEqual(hi, m)
        self.assertLess(hi - lo, 0.5)

    def test_fd_ci(self):
        g = torch.Generator().manual_seed(2)
        a = torch.randn(400, 4, generator=g)
        w = stats.draw_weights(400, 50)
        fd, (lo, hi) = stats.fd_ci(a, a, w)
        self.assertAlmostEqual(fd, 0.0, places=6)
        self.assertAlmostEqual(hi, 0.0, places=6)
        fd, (lo, hi) = stats.fd_ci(a + 1, a, w)  # mean shifted by 1 in 4 dims: exactly 4
        self.assertAlmostEqual(fd, 4.0, places=4)
        self.assertLess(lo, 4.0)
        self.assertGreater(hi, 4.0)


class TestFDA(unittest.TestCase):
    def test_swap(self):
        g = torch.Generator().manual_seed(3)
        c, s = torch.rand(2, 3, 8, 8, generator=g) * 2 - 1, torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
        self.assertTrue(torch.equal(fda(c, s, beta=0), c))
        self.assertLess((fda(c, s, strength=0.0) - c).abs().max().item(), 1e-5)
        out = fda(c, s, beta=0.5, strength=1.0)  # the window holds every frequency of 8x8
        amp = lambda x: torch.fft.fft2((x.double() + 1) / 2).abs()  # noqa: E731
        self.assertLess((amp(out) - amp(s)).abs().max().item(), 1e-4)
        self.assertGreater((out - c).abs().mean().item(), 0.05)
        # a small window: only the DC and lowest frequencies change, the image's mean moves to the style's
        big_c, big_s = torch.zeros(1, 3, 32, 64), torch.full((1, 3, 32, 64), 0.5)
        big_c[..., ::2] = 0.2
        out = fda(big_c, big_s, beta=0.05, strength=1.0)
        self.assertAlmostEqual(out.mean().item(), 0.5, places=4)
        self.assertAlmostEqual((out[..., ::2] - out[..., 1::2]).mean().item(), 0.2, places=4)  # detail kept


class TestPairsAndSwap(unittest.TestCase):
    def test_exemplar_pairs(self):
        times = torch.tensor([0, 0, 1, 2, 1, 0])
        weathers = torch.tensor([0, 1, 1, 2, 0, 0])
        p = T.exemplar_pairs(times, weathers, seed=0)
        for i, j in enumerate(p.tolist()):
            self.assertNotEqual(times[i], times[j])
            self.assertNotEqual(weathers[i], weathers[j])
        self.assertEqual(T.exemplar_pairs(torch.tensor([0, 0]), torch.tensor([0, 1])).tolist(), [-1, -1])

    def test_wplus_swap(self):
        a, b = torch.zeros(2, 12, 4), torch.ones(2, 12, 4)
        m = T.wplus_swap(a, b, 3)
        self.assertEqual(m[:, :3].abs().sum().item(), 0)
        self.assertTrue(torch.equal(m[:, 3:], b[:, 3:]))


class TestIssaAug(unittest.TestCase):
    def test_partners_and_crops(self):
        from dgtrain import issa_aug as A
        g = torch.Generator().manual_seed(4)
        j = A.partners(5, g)
        self.assertTrue((j != torch.arange(5)).all())
        self.assertTrue(((j >= 0) & (j < 5)).all())
        x = torch.arange(2 * 3 * 8 * 16, dtype=torch.float32).reshape(2, 3, 8, 16)
        y = x[:, 0].long()
        cx, cy = A.crops(x, y, (4, 8), g)
        self.assertEqual(tuple(cx.shape), (2, 3, 4, 8))
        self.assertTrue(torch.equal(cx[:, 0].long(), cy))  # the label window is the image's


class TestStyleClassifier(unittest.TestCase):
    def test_shapes_and_predict(self):
        torch.manual_seed(0)
        net = SC.StyleNet({"widths": [4, 8]})
        t, w = net(torch.rand(3, 3, 32, 64) * 2 - 1)
        self.assertEqual(tuple(t.shape), (3, len(SC.TIMES)))
        self.assertEqual(tuple(w.shape), (3, len(SC.WEATHERS)))
        pt, pw = SC.predict(net, torch.rand(5, 3, 32, 64) * 2 - 1, batch=2)
        self.assertEqual(pt.shape, (5,))
        self.assertTrue(((pw >= 0) & (pw < 4)).all())


if __name__ == "__main__":
    unittest.main()
