"""The Masked Noise Encoder (ISSA's FPNEncoder, ../shared/docs/methods.md section 1) at the micro generator's size,
with the reference's parameter names: a ResNet Bottleneck FPN backbone (FPN_module.conv1/bn1/layerN.k.*/toplayer/
latlayer1-3/smooth1-3, outputs p2..p5 at strides 4..32), W+ heads (course_styles on p4, medium_styles on p3,
fine_styles on p2: ToStyleCode = stride-2 3x3 convs with leaky ReLU 0.01 down to 1x1, then an EqualLinear to
w_dim) and noise heads (noise_net.k: ToLayerNoise = five 1x1 convs, each followed by leaky ReLU 0.01) giving the
full-channel maps that replace the noise of the generator block at 1/4 of the image (both its convs). The
generator keeps its constant input (no toInputNoise; the reference's how-to recommends the constant).
Training-time masking (mask_noise): patches of P x P noise pixels, a ratio of them replaced by N(0,1), an
independent mask per map; keep_mask gives the image pixels kept in every map for the pixel loss.

Sizes are a config (DEFAULT); `noise_res` names the generator block whose two convs take the maps."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT = {"image": [128, 256], "num_ws": 12, "w_dim": 64, "stem": 16, "widths": [8, 16, 32, 64],
           "blocks": [1, 1, 1, 1], "expansion": 4, "fpn_dim": 64, "style_dim": 64,
           "style_split": [3, 4], "noise_res": 32, "noise_channels": 32, "noise_convs": 5, "lrelu": 0.01}
MODES = ("wplus", "noise", "masked")  # the ablations: W+ only; noise maps without masking; with masking


def config(overrides=None):
    cfg = dict(DEFAULT)
    cfg.update(overrides or {})
    return cfg


class Bottleneck(nn.Module):
    """torchvision's ResNet Bottleneck (stride on conv2), BN after every conv, a 1x1 + BN downsample."""

    def __init__(self, cin, width, stride, expansion):
        super().__init__()
        cout = width * expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class FPN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        f, e = cfg["fpn_dim"], cfg["expansion"]
        self.conv1 = nn.Conv2d(3, cfg["stem"], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(cfg["stem"])
        cin, outs = cfg["stem"], []
        for i, (w, n) in enumerate(zip(cfg["widths"], cfg["blocks"])):
            layer = []
            for k in range(n):
                layer.append(Bottleneck(cin, w, 2 if (k == 0 and i > 0) else 1, e))
                cin = w * e
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            outs.append(cin)
        self.toplayer = nn.Conv2d(outs[3], f, 1)
        self.latlayer1, self.latlayer2, self.latlayer3 = (nn.Conv2d(outs[i], f, 1) for i in (2, 1, 0))
        self.smooth1, self.smooth2, self.smooth3 = (nn.Conv2d(f, f, 3, 1, 1) for _ in range(3))

    @staticmethod
    def upsample_add(x, y):
        return F.interpolate(x, size=y.shape[2:], mode="bilinear", align_corners=False) + y

    def forward(self, x):
        c1 = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        c2 = self.layer1(c1)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        p5 = self.toplayer(c5)
        p4 = self.upsample_add(p5, self.latlayer1(c4))
        p3 = self.upsample_add(p4, self.latlayer2(c3))
        p2 = self.upsample_add(p3, self.latlayer3(c2))
        return self.smooth3(p2), self.smooth2(p3), self.smooth1(p4), p5


class EqualLinearInner(nn.Module):
    """The reference's equal-lr linear: weight_orig ~ N(0,1) scaled at run time by sqrt(2 / fan_in)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight_orig = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = math.sqrt(2.0 / cin)

    def forward(self, x):
        return F.linear(x, self.weight_orig * self.scale, self.bias)


class EqualLinear(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.linear = EqualLinearInner(cin, cout)

    def forward(self, x):
        return self.linear(x)


def halvings(h, w):
    """Stride-2 3x3 convs (padding 1: ceil(n / 2)) that take an h x w map to 1x1."""
    n = 0
    while h > 1 or w > 1:
        h, w, n = (h + 1) // 2, (w + 1) // 2, n + 1
    return n


class ToStyleCode(nn.Module):
    def __init__(self, cin, dim, w_dim, n_convs, slope):
        super().__init__()
        layers = []
        for i in range(n_convs):
            layers += [nn.Conv2d(cin if i == 0 else dim, dim, 3, 2, 1), nn.LeakyReLU(slope)]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(dim, w_dim)

    def forward(self, x):
        return self.linear(self.convs(x).flatten(1))


class ToLayerNoise(nn.Module):
    def __init__(self, cin, cout, n_convs, slope):
        super().__init__()
        layers = []
        for i in range(n_convs):
            layers += [nn.Conv2d(cin if i == 0 else cout, cout, 1), nn.LeakyReLU(slope)]
        self.convs = nn.Sequential(*layers)

    def forward(self, x):
        return self.convs(x)


class FPNEncoder(nn.Module):
    """image [N,3,H,W] in [-1,1] -> (ws [N, num_ws, w_dim], [noise of b{noise_res}.conv0, of .conv1] or [])."""

    def __init__(self, cfg=None, mode="masked"):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}, expected one of {MODES}")
        self.cfg, self.mode = config(cfg), mode
        c = self.cfg
        self.FPN_module = FPN(c)
        h, w = c["image"]
        f, d, wd, s = c["fpn_dim"], c["style_dim"], c["w_dim"], c["lrelu"]
        n_coarse, n_medium = c["style_split"]
        n_fine = c["num_ws"] - n_coarse - n_medium
        self.course_styles = nn.ModuleList(ToStyleCode(f, d, wd, halvings(h // 16, w // 16), s) for _ in range(n_coarse))
        self.medium_styles = nn.ModuleList(ToStyleCode(f, d, wd, halvings(h // 8, w // 8), s) for _ in range(n_medium))
        self.fine_styles = nn.ModuleList(ToStyleCode(f, d, wd, halvings(h // 4, w // 4), s) for _ in range(n_fine))
        if mode != "wplus":
            self.noise_net = nn.ModuleList(ToLayerNoise(f, c["noise_channels"], c["noise_convs"], s) for _ in range(2))

    def init_latent_avg(self, w_avg):
        """Start every W+ head at the generator's mean w (the EqualLinear bias), as pSp starts from latent_avg."""
        with torch.no_grad():
            for head in list(self.course_styles) + list(self.medium_styles) + list(self.fine_styles):
                head.linear.linear.bias.copy_(w_avg)

    def forward(self, x):
        p2, p3, p4, _ = self.FPN_module(x)
        ws = [h(p4) for h in self.course_styles] + [h(p3) for h in self.medium_styles] + [h(p2) for h in self.fine_styles]
        noises = [n(p2) for n in self.noise_net] if self.mode != "wplus" else []
        return torch.stack(ws, dim=1), noises

    def noise_dict(self, noises):
        """The generator's noises argument: {"b32.conv0": map, "b32.conv1": map}."""
        r = self.cfg["noise_res"]
        return {f"b{r}.conv0": noises[0], f"b{r}.conv1": noises[1]} if noises else {}


def mask_noise(noise, patch=4, ratio=0.25, gen=None):
    """MAE-style random masking of one map [N,C,H,W]: ratio of its patch x patch patches replaced by N(0,1)
    (the same patches over all channels of an item). Returns (masked map, keep [N,1,H,W] of 0/1)."""
    n, c, h, w = noise.shape
    gh, gw = h // patch, w // patch
    n_keep = int(gh * gw * (1 - ratio))
    order = torch.rand(n, gh * gw, generator=gen, device=noise.device).argsort(dim=1)
    keep = torch.zeros(n, gh * gw, device=noise.device)
    keep.scatter_(1, order[:, :n_keep], 1.0)
    keep = keep.reshape(n, 1, gh, gw).repeat_interleave(patch, 2).repeat_interleave(patch, 3)
    return noise * keep + torch.randn(noise.shape, generator=gen, device=noise.device) * (1 - keep), keep


def keep_mask(keeps, image_hw):
    """Image pixels kept in every map: each keep-mask nearest-upsampled to the image and ANDed, [N,1,H,W]."""
    m = None
    for k in keeps:
        k = F.interpolate(k, size=image_hw, mode="nearest")
        m = k if m is None else m * k
    return m


def state_for_export(e):
    """The encoder's state dict (BN running statistics included; num_batches_tracked dropped)."""
    return {k: v.detach().float().cpu().contiguous() for k, v in e.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def load_encoder(path, cfg=None):
    """An FPNEncoder from an export (safetensors, config with "mode" beside); missing or mis-shaped tensors are
    named in the error."""
    from .exports import load_json_beside, load_prefixed
    cfg = cfg if isinstance(cfg, dict) else load_json_beside(path, cfg)
    e = FPNEncoder(cfg, cfg.get("mode", "masked"))
    sd, _ = load_prefixed(path, "")
    want = {k: v for k, v in e.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in want if k not in sd]
    if missing:
        raise ValueError(f"{path}: missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    for k, v in want.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise ValueError(f"{path}: {k} has shape {list(sd[k].shape)}, expected {list(v.shape)}")
    e.load_state_dict({k: sd[k] for k in want}, strict=False)
    return e.eval()


def psnr(a, b):
    """Per-image PSNR in dB of images in [-1, 1] (compared in [0, 1])."""
    mse = ((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2).square().mean(dim=(1, 2, 3))
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.no_grad()
def reconstruct(e, g, img):
    """G(E(img)) as at inference: no masking, the generator's constant noise elsewhere."""
    ws, noises = e(img)
    return g.synthesis(ws, noise_mode="const", noises=e.noise_dict(noises))


@torch.no_grad()
def encode(e, images, batch=16):
    """(ws [N, num_ws, w_dim], [the two noise maps [N, C, h, w]] or [] for a W+ only encoder) of images [N,3,H,W]."""
    ws, noises = [], []
    for i in range(0, len(images), batch):
        w, n = e(images[i:i + batch])
        ws.append(w)
        noises.append(n)
    return torch.cat(ws), [torch.cat(m) for m in zip(*noises)]


@torch.no_grad()
def synthesize(e, g, ws, noises, batch=16):
    """G(ws, noise maps) as at inference (const noise elsewhere), clamped to [-1, 1]."""
    out = []
    for i in range(0, len(ws), batch):
        nz = e.noise_dict([n[i:i + batch] for n in noises])
        out.append(g.synthesis(ws[i:i + batch], noise_mode="const", noises=nz).clamp(-1, 1))
    return torch.cat(out)


@torch.no_grad()
def distances(rec, img, perc=None, batch=16):
    """Per-image {"psnr", "mse" (pixels in [0, 1]), "perceptual" (with perc)} of reconstructions rec of img."""
    out = {"psnr": psnr(rec, img), "mse": ((rec.clamp(-1, 1) - img) / 2).square().mean(dim=(1, 2, 3))}
    if perc is not None:
        out["perceptual"] = torch.cat([perc(rec[i:i + batch], img[i:i + batch]) for i in range(0, len(img), batch)])
    return out
