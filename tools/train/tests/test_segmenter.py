import unittest

import torch

from dgtrain import segmenter as S

SMALL = {"stem": 8, "channels": [8, 16, 16, 32], "blocks": [1, 1, 1, 1], "fpn_dim": 16}


class SegmenterTest(unittest.TestCase):
    def test_shapes_and_class_count(self):
        torch.manual_seed(0)
        for k in (14, 15):  # evaluation segmenter and ALDM's N+1 discriminator
            m = S.UperNet(dict(SMALL, num_classes=k)).eval()
            out = m(torch.randn(2, 3, 64, 128))
            self.assertEqual(tuple(out.shape), (2, k, 64, 128))
            self.assertEqual(tuple(m.features(torch.randn(1, 3, 64, 128)).shape), (1, 16, 16, 32))
        gn = S.UperNet(dict(SMALL, norm="gn"))
        self.assertFalse(any(isinstance(x, torch.nn.BatchNorm2d) for x in gn.modules()))

    def test_default_size(self):
        m = S.UperNet()
        n = sum(p.numel() for p in m.parameters())
        self.assertTrue(1_000_000 < n < 5_000_000, n)
        self.assertEqual(len(m.backbone.stages), 4)

    def test_confusion_and_miou(self):
        label = torch.tensor([[0, 0, 1, 255], [2, 2, 1, 1]])
        pred = torch.tensor([[0, 1, 1, 2], [2, 2, 1, 0]])
        conf = S.confusion(pred, label, 4)
        self.assertEqual(conf.sum().item(), 7)  # the 255 pixel is ignored
        iou, miou, acc = S.iou_from_confusion(conf)
        # class 0: tp 1, fn 1, fp 1 -> 1/3; class 1: tp 2, fn 1, fp 1 -> 2/4; class 2: tp 2 -> 2/2; class 3 absent
        self.assertAlmostEqual(iou[0], 1 / 3)
        self.assertAlmostEqual(iou[1], 0.5)
        self.assertAlmostEqual(iou[2], 1.0)
        self.assertNotEqual(iou[3], iou[3])  # NaN
        self.assertAlmostEqual(miou, (1 / 3 + 0.5 + 1.0) / 3)
        self.assertAlmostEqual(acc, 5 / 7)

    def test_learns_a_tiny_problem(self):
        """A few dozen steps separate two colour classes almost perfectly (the loss and gradients work)."""
        torch.manual_seed(0)
        m = S.UperNet(dict(SMALL, num_classes=3))
        opt = torch.optim.Adam(m.parameters(), lr=3e-3)
        x = torch.full((4, 3, 32, 64), -0.5)
        y = torch.zeros(4, 32, 64, dtype=torch.long)
        x[:, :, :, 32:] = 0.5
        y[:, :, 32:] = 1
        y[:, :2, :2] = 255
        for _ in range(40):
            loss = torch.nn.functional.cross_entropy(m(x + 0.1 * torch.randn_like(x)), y, ignore_index=255)
            opt.zero_grad()
            loss.backward()
            opt.step()
        m.eval()
        _, miou, _ = S.iou_from_confusion(S.confusion(m(x).argmax(1), y, 3))
        self.assertGreater(miou, 0.9)

    def test_refine_head_draws_one_pixel_stripes(self):
        """Railings are 1-pixel stripes: the stride-4 model cannot draw them, the full-resolution head can; the
        head starts as the identity, so a trained model given one keeps its answers."""
        torch.manual_seed(0)
        coarse = S.UperNet(dict(SMALL, num_classes=2)).eval()
        fine = S.UperNet(dict(SMALL, num_classes=2, refine=8)).eval()
        fine.load_state_dict(coarse.state_dict(), strict=False)
        x = torch.randn(2, 3, 32, 64)
        self.assertTrue(torch.equal(coarse(x), fine(x)))
        x = torch.full((4, 3, 32, 64), -0.5)
        y = torch.zeros(4, 32, 64, dtype=torch.long)
        x[:, :, :, 1::3] = 0.5
        y[:, :, 1::3] = 1
        mious = {}
        for name, m in (("coarse", coarse), ("fine", fine)):
            m.train()
            opt = torch.optim.Adam(m.parameters(), lr=1e-2)
            for _ in range(60):
                loss = torch.nn.functional.cross_entropy(m(x + 0.05 * torch.randn_like(x)), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            m.eval()
            mious[name] = S.iou_from_confusion(S.confusion(m(x).argmax(1), y, 2))[1]
        self.assertGreater(mious["fine"], 0.95, mious)
        self.assertLess(mious["coarse"], 0.8, mious)


if __name__ == "__main__":
    unittest.main()
