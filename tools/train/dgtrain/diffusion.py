"""Stable Diffusion's noise schedule, training loss and samplers (LDM DDIM; diffusers' PNDM/PLMS as SD 1.5
ships it), with classifier-free guidance. Sampling noise comes from dgtrain.rng (Philox, docs/rng.md), never
torch.randn, so the C engine reproduces a run bit for bit: x_T uses stream 0, the DDIM eta noise of the
i-th step (i = 0 for the first, noisiest step) uses stream 1 + i."""
import numpy as np
import torch
import torch.nn.functional as F

from .rng import randn_torch

T_TRAIN = 1000


def scaled_linear_betas(n=T_TRAIN, start=0.00085, end=0.012):
    return np.linspace(start ** 0.5, end ** 0.5, n, dtype=np.float64) ** 2


class Schedule:
    def __init__(self, n=T_TRAIN, start=0.00085, end=0.012):
        self.n = n
        self.betas = scaled_linear_betas(n, start, end)
        self.alphas_cumprod = np.cumprod(1.0 - self.betas)  # float64
        self._ac = {torch.device("cpu"): torch.tensor(self.alphas_cumprod, dtype=torch.float32)}

    def ac(self, t, device):
        device = torch.device(device)
        if device not in self._ac:  # one copy per device, not one per step
            self._ac[device] = self._ac[torch.device("cpu")].to(device)
        return self._ac[device][t]

    def q_sample(self, x0, t, noise):
        a = self.ac(t, x0.device).view(-1, *([1] * (x0.dim() - 1)))
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def predict_x0(self, xt, t, eps):
        a = self.ac(t, xt.device).view(-1, *([1] * (xt.dim() - 1)))
        return (xt - (1 - a).sqrt() * eps) / a.sqrt()

    def loss(self, model_fn, x0, generator=None):
        """Epsilon-prediction MSE at uniformly drawn t; model_fn(x_t, t) -> eps. Returns (loss, t, x_t, noise)."""
        b = x0.shape[0]
        t = torch.randint(0, self.n, (b,), generator=generator).to(x0.device)
        noise = torch.randn(x0.shape, generator=generator).to(x0.device)
        xt = self.q_sample(x0, t, noise)
        return F.mse_loss(model_fn(xt, t), noise), t, xt, noise


def ddim_timesteps(steps, n=T_TRAIN):
    """LDM 'uniform' DDIM timesteps, ascending: 1 + k * (n // steps)."""
    c = n // steps
    return np.arange(0, n, c, dtype=np.int64)[:steps] + 1


def pndm_timesteps(steps, n=T_TRAIN, steps_offset=1):
    """diffusers PNDMScheduler with skip_prk_steps, 'leading' spacing, steps_offset 1: the order in which the
    model is evaluated (steps + 1 entries, the second one repeated)."""
    ratio = n // steps
    ts = (np.arange(0, steps) * ratio).round().astype(np.int64) + steps_offset
    return np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1].copy()


def cfg_eps(model_fn, x, t, cond, uncond, scale):
    """Classifier-free guidance: eps_u + scale (eps_c - eps_u); two passes batched as one. model_fn(x, t, c)."""
    if uncond is None or scale == 1.0:
        return model_fn(x, t, cond)
    e = model_fn(torch.cat([x, x]), torch.cat([t, t]), torch.cat([uncond, cond]))
    eu, ec = e.chunk(2)
    return eu + scale * (ec - eu)


class DDIM:
    """LDM's DDIMSampler (ddim_discretize 'uniform'); alphas_prev of the last step is alphas_cumprod[0]."""

    def __init__(self, sched, steps, eta=0.0):
        self.sched, self.eta = sched, eta
        self.ts = ddim_timesteps(steps, sched.n)
        ac = sched.alphas_cumprod
        self.a = ac[self.ts]
        self.a_prev = np.concatenate([[ac[0]], ac[self.ts[:-1]]])
        self.sigma = eta * np.sqrt((1 - self.a_prev) / (1 - self.a) * (1 - self.a / self.a_prev))

    def step(self, x, eps, idx, noise=None):
        """One update at schedule index idx (into the ascending list); returns (x_prev, pred_x0).
        The coefficients are float64 numbers rounded to float32 once."""
        a, ap, s = float(self.a[idx]), float(self.a_prev[idx]), float(self.sigma[idx])
        x0 = (x - (1 - a) ** 0.5 * eps) / a ** 0.5
        xp = ap ** 0.5 * x0 + (1 - ap - s * s) ** 0.5 * eps
        if s > 0:
            xp = xp + s * noise
        return xp, x0

    def sample(self, model_fn, shape, seed, cond=None, uncond=None, scale=1.0, x_T=None, device="cpu",
               callback=None):
        """model_fn(x, t [B] long, context) -> eps. Returns (x_0, list of pred_x0 per step)."""
        x = randn_torch(seed, shape, 0, device) if x_T is None else x_T
        x0s = []
        for i, idx in enumerate(reversed(range(len(self.ts)))):
            t = torch.full((shape[0],), int(self.ts[idx]), dtype=torch.long, device=device)
            eps = cfg_eps(model_fn, x, t, cond, uncond, scale)
            noise = randn_torch(seed, shape, 1 + i, device) if self.sigma[idx] > 0 else None
            x, x0 = self.step(x, eps, idx, noise)
            x0s.append(x0)
            if callback:
                callback(i, x, x0)
        return x, x0s


class PLMS:
    """diffusers PNDMScheduler.step_plms with skip_prk_steps=True, set_alpha_to_one=False (SD 1.5)."""

    def __init__(self, sched, steps):
        self.sched, self.steps = sched, steps
        self.ts = pndm_timesteps(steps, sched.n)
        self.ratio = sched.n // steps
        self.final_ac = float(sched.alphas_cumprod[0])

    def _prev(self, x, t, tp, e):
        ac = self.sched.alphas_cumprod
        a = float(ac[t])
        ap = float(ac[tp]) if tp >= 0 else self.final_ac
        sample_coeff = (ap / a) ** 0.5
        denom = a * (1 - ap) ** 0.5 + (a * (1 - a) * ap) ** 0.5
        return sample_coeff * x - ((ap - a) / denom) * e

    def sample(self, model_fn, shape, seed, cond=None, uncond=None, scale=1.0, x_T=None, device="cpu",
               callback=None):
        x = randn_torch(seed, shape, 0, device) if x_T is None else x_T
        ets, cur, x0s = [], None, []
        for counter, tt in enumerate(self.ts.tolist()):
            t = torch.full((shape[0],), tt, dtype=torch.long, device=device)
            e = cfg_eps(model_fn, x, t, cond, uncond, scale)
            x0s.append(self.sched.predict_x0(x, t, e))
            tp = tt - self.ratio
            if counter != 1:
                ets = ets[-3:] + [e]
            else:
                tp, tt = tt, tt + self.ratio
            if len(ets) == 1 and counter == 0:
                cur = x
            elif len(ets) == 1 and counter == 1:
                e = (e + ets[-1]) / 2
                x, cur = cur, None
            elif len(ets) == 2:
                e = (3 * ets[-1] - ets[-2]) / 2
            elif len(ets) == 3:
                e = (23 * ets[-1] - 16 * ets[-2] + 5 * ets[-3]) / 12
            else:
                e = (55 * ets[-1] - 59 * ets[-2] + 37 * ets[-3] - 9 * ets[-4]) / 24
            x = self._prev(x, tt, tp, e)
            if callback:
                callback(counter, x, x0s[-1])
        return x, x0s
