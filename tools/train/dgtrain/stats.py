"""Bootstrap intervals of the evaluation tables: the images (or image pairs) resampled with replacement, the
statistic recomputed on each draw, the 2.5% and 97.5% quantiles reported. One draw matrix serves every
statistic of a table, so rows measured on the same images are resampled together."""
import torch

from .clip_model import frechet


def draw_weights(n, rounds=1000, seed=0):
    """[rounds, n] float64: how often each of n items is drawn in each bootstrap round (rows sum to n)."""
    g = torch.Generator().manual_seed(seed)
    draws = torch.randint(0, n, (rounds, n), generator=g)
    return torch.zeros(rounds, n, dtype=torch.float64).scatter_add_(1, draws, torch.ones(rounds, n, dtype=torch.float64))


def interval(boot):
    lo, hi = torch.quantile(boot.double(), torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return [lo, hi]


def mean_ci(values, weights):
    """(mean, [lo, hi]) of per-item values [n] under the bootstrap weights [rounds, n]."""
    v = values.double().reshape(-1)
    return float(v.mean()), interval(weights @ v / v.numel())


def mious(conf):
    """mIoU over the classes present (in truth or prediction) of each confusion [R, k, k] -> [R]."""
    tp = conf.diagonal(dim1=1, dim2=2)
    union = conf.sum(1) + conf.sum(2) - tp
    present = union > 0
    return ((tp / union.clamp_min(1)) * present).sum(1) / present.sum(1).clamp_min(1)


def miou_ci(conf, weights):
    """(mIoU, [lo, hi]) from per-image confusions [n, k, k] (dgtrain.segmenter.confusion) under the weights."""
    n, k = conf.shape[0], conf.shape[1]
    flat = conf.reshape(n, k * k).double()
    return float(mious(flat.sum(0).reshape(1, k, k))[0]), interval(mious((weights @ flat).reshape(-1, k, k)))


def fd_ci(feats, ref, weights, rounds=200):
    """(Frechet distance, [lo, hi]) between feature rows of feats and ref [n, F], paired: each round draws the
    same items of both (the first `rounds` rows of the weights; the eigen-decompositions make FD slow). A draw
    repeats rows, which shrinks the covariances' rank and lifts FD, so the percentile interval is shifted down
    by that bias (the draws' mean minus the point; bias-corrected percentile)."""
    point = frechet(feats, ref)
    boot = []
    for w in weights[:rounds]:
        idx = torch.repeat_interleave(torch.arange(len(w)), w.long())
        boot.append(frechet(feats[idx], ref[idx]))
    boot = torch.tensor(boot, dtype=torch.float64)
    return point, interval(boot - (boot.mean() - point))
