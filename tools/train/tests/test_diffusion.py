"""Noise schedule, sampler timestep lists (methods.md), samplers and the Philox host RNG."""
import unittest

import numpy as np
import torch

from dgtrain import diffusion, rng


class TestSchedule(unittest.TestCase):
    def test_betas(self):
        s = diffusion.Schedule()
        self.assertAlmostEqual(s.betas[0], 0.00085, places=12)
        self.assertAlmostEqual(s.betas[-1], 0.012, places=12)
        self.assertAlmostEqual(s.alphas_cumprod[999], 0.00466, places=5)
        self.assertTrue(np.allclose(np.sqrt(s.betas), np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000)))

    def test_ddim_timesteps(self):
        ts = diffusion.ddim_timesteps(25)
        self.assertEqual(ts.tolist(), [1 + 40 * k for k in range(25)])
        self.assertEqual((ts[0], ts[1], ts[-1]), (1, 41, 961))
        self.assertEqual(diffusion.ddim_timesteps(50)[-1], 981)

    def test_pndm_timesteps(self):
        ts = diffusion.pndm_timesteps(50).tolist()
        self.assertEqual(len(ts), 51)
        self.assertEqual(ts[:4], [981, 961, 961, 941])
        self.assertEqual(ts[-1], 1)
        self.assertEqual(ts[3:], list(range(941, 0, -20)))

    def test_q_sample_and_x0(self):
        s = diffusion.Schedule()
        x0, n = torch.randn(3, 4, 2, 2), torch.randn(3, 4, 2, 2)
        t = torch.tensor([0, 500, 999])
        xt = s.q_sample(x0, t, n)
        self.assertTrue(torch.allclose(s.predict_x0(xt, t, n), x0, atol=1e-3))


class TestSamplers(unittest.TestCase):
    def oracle(self, sched, x0):
        """eps that a perfect model predicts for the single data point x0."""
        def fn(x, t, c):
            a = sched.ac(t, x.device).view(-1, 1, 1, 1)
            return (x - a.sqrt() * x0) / (1 - a).sqrt()
        return fn

    def test_ddim_and_plms_recover_the_data_point(self):
        s = diffusion.Schedule()
        x0 = torch.from_numpy(rng.randn(7, (1, 4, 4, 4), stream=9)) * 0.5
        fn = self.oracle(s, x0)
        for sampler in (diffusion.DDIM(s, 25), diffusion.PLMS(s, 50), diffusion.DDIM(s, 10, eta=1.0)):
            out, x0s = sampler.sample(fn, (1, 4, 4, 4), seed=3)
            self.assertEqual(len(x0s), len(sampler.ts))
            # the last update lands on alphas_cumprod[0] (not 1), as LDM and diffusers do: x0 + ~0.03 eps
            self.assertLess((out - x0).abs().max().item(), 0.15, type(sampler).__name__)
            self.assertLess((x0s[-1] - x0).abs().max().item(), 2e-3, type(sampler).__name__)
            self.assertLess((x0s[len(x0s) // 2] - x0).abs().max().item(), 2e-3, type(sampler).__name__)

    def test_eta_changes_path_and_is_reproducible(self):
        s = diffusion.Schedule()
        fn = lambda x, t, c: 0.5 * x  # noqa: E731
        a, _ = diffusion.DDIM(s, 5, eta=0.0).sample(fn, (1, 4, 4, 4), seed=1)
        b, _ = diffusion.DDIM(s, 5, eta=0.5).sample(fn, (1, 4, 4, 4), seed=1)
        c, _ = diffusion.DDIM(s, 5, eta=0.5).sample(fn, (1, 4, 4, 4), seed=1)
        self.assertGreater((a - b).abs().max().item(), 1e-3)
        self.assertTrue(torch.equal(b, c))

    def test_cfg(self):
        fn = lambda x, t, c: c.mean(dim=(1, 2)).view(-1, 1, 1, 1) * torch.ones_like(x)  # noqa: E731
        x, t = torch.zeros(1, 4, 2, 2), torch.tensor([1])
        e = diffusion.cfg_eps(fn, x, t, torch.full((1, 3, 2), 2.0), torch.zeros(1, 3, 2), 7.5)
        self.assertTrue(torch.allclose(e, torch.full_like(x, 15.0)))

    def test_plms_first_steps_match_diffusers_formulas(self):
        """First two PLMS updates written out by hand (diffusers step_plms, counter 0 and 1)."""
        s = diffusion.Schedule()
        p = diffusion.PLMS(s, 50)
        ac = s.alphas_cumprod
        seen = []
        fn = lambda x, t, c: (seen.append(int(t[0])), torch.full_like(x, 0.1 * len(seen)))[1]  # noqa: E731
        x = torch.ones(1, 1, 1, 1)

        def prev(xv, t, tp, e):
            a, ap = ac[t], ac[tp]
            return (ap / a) ** 0.5 * xv - (ap - a) * e / (a * (1 - ap) ** 0.5 + (a * (1 - a) * ap) ** 0.5)

        steps = []
        p2 = diffusion.PLMS(s, 50)
        p2.ts = p2.ts[:2]
        p2.sample(fn, (1, 1, 1, 1), 0, x_T=x, callback=lambda i, xv, x0: steps.append(float(xv)))
        self.assertEqual(seen, [981, 961])
        x1 = prev(1.0, 981, 961, 0.1)
        x2 = prev(1.0, 981, 961, (0.1 + 0.2) / 2)  # restarts from x_T with the averaged eps
        self.assertAlmostEqual(steps[0], x1, places=5)
        self.assertAlmostEqual(steps[1], x2, places=5)
        self.assertEqual(len(p.ts), 51)


class TestRNG(unittest.TestCase):
    def test_philox_known_answers(self):
        """Random123 kat_vectors for philox4x32_10."""
        cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
                 ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
                 ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
                  (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
        for ctr, key, want in cases:
            got = rng.philox4x32_10(np.array([ctr], dtype=np.uint32), key)[0]
            self.assertEqual(tuple(int(v) for v in got), want)

    def test_randn_reproducible_and_normal(self):
        a = rng.randn(1234, (4, 16, 32))
        self.assertEqual(a.dtype, np.float32)
        self.assertTrue(np.array_equal(a, rng.randn(1234, (4, 16, 32))))
        self.assertFalse(np.array_equal(a, rng.randn(1235, (4, 16, 32))))
        self.assertFalse(np.array_equal(a, rng.randn(1234, (4, 16, 32), stream=1)))
        # prefix property: element i does not depend on the tensor size
        self.assertTrue(np.array_equal(rng.randn(1234, (5,)), a.reshape(-1)[:5]))
        big = rng.randn(5, (200000,))
        self.assertLess(abs(big.mean()), 0.01)
        self.assertLess(abs(big.std() - 1.0), 0.01)

    def test_randn_first_values(self):
        """Pins the documented construction (docs/rng.md): block 0 of seed 0 through Box-Muller."""
        u = rng.philox4x32_10(np.zeros((1, 4), dtype=np.uint32), (0, 0))[0].astype(np.float64)
        a, c = (u[0] + 0.5) * 2.0 ** -32, (u[1] + 0.5) * 2.0 ** -32
        r = np.sqrt(-2 * np.log(a))
        want = np.float32(r * np.cos(2 * np.pi * c)), np.float32(r * np.sin(2 * np.pi * c))
        got = rng.randn(0, (2,))
        self.assertEqual((got[0], got[1]), want)


if __name__ == "__main__":
    unittest.main()
