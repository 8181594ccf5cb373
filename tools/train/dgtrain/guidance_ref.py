"""The reference arithmetic of the attention maps and of the Attend-and-Excite / Divide & Bind losses
(docs/methods.md §3), shared by the fixture writers: A&E's 3x3 Gaussian smoothing, the per-token maps, TV, JSD
and the per-object loss of render/pipelines/dg_guidance_loss.h."""
import math

import torch
import torch.nn.functional as F


def gaussian_3x3(sigma=0.5):
    # A&E's utils/gaussian_smoothing.GaussianSmoothing(channels=1, kernel_size=3, sigma=0.5, dim=2)
    kernel = 1
    for size, std, mgrid in zip([3, 3], [sigma, sigma], torch.meshgrid(torch.arange(3.0), torch.arange(3.0),
                                                                        indexing="ij")):
        mean = (size - 1) / 2
        kernel = kernel * (1 / (std * math.sqrt(2 * math.pi)) * torch.exp(-(((mgrid - mean) / (2 * std)) ** 2)))
    return (kernel / kernel.sum()).view(1, 1, 3, 3)


def maps_of(avg, h, w):
    """avg [hw, n] -> smoothed per-token maps [n, h, w] (softmax of 100 avg over the tokens)."""
    soft = (avg * 100).softmax(-1)
    planes = soft.T.reshape(-1, 1, h, w)
    return F.conv2d(F.pad(planes, (1, 1, 1, 1), mode="reflect"), gaussian_3x3().double()).reshape(-1, h, w)


def word(maps, toks):
    return torch.stack([maps[t - 1] for t in toks]).mean(0)


def tv(s):
    return (s[:, :-1] - s[:, 1:]).abs().mean() + (s[:-1, :] - s[1:, :]).abs().mean()


def jsd(p, q):
    m = 0.5 * (p + q)
    return 0.5 * ((p * (p / m).log()).sum() + (q * (q / m).log()).sum())


def loss_of(case, avg, inter):
    h, w = case["h"], case["w"]
    maps = maps_of(avg, h, w)
    imaps = maps_of(inter, h, w) if inter is not None else maps
    losses, inds = [], []
    for o in case["objects"]:
        s = word(maps, o["t"])
        if case["kind"] == "attend-excite":
            mx = s.max()
            losses.append(torch.clamp(1 - mx, min=0))
            inds.append(mx)
            continue
        t = tv(s)
        v = t
        if o.get("a"):
            c = word(imaps, o["a"])
            c = c / c.max() * s.max()
            p, q = s.reshape(-1).softmax(0), c.reshape(-1).softmax(0)
            k = 0.3 if t < 0.1 else 0.2
            thr = k * p.max()
            v = v - case["coef"] * jsd(F.relu(p - thr) + 1e-5, F.relu(q - thr) + 1e-5)
        losses.append(-v)
        inds.append(t)
    losses = torch.stack(losses)
    return losses.max(), torch.stack(inds).min(), int(losses.argmax())
