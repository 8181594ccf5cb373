"""A micro StyleGAN2 generator with StyleGAN2-ADA's parameter names (mapping.fcN, synthesis.bR.const/conv0/conv1/
torgb with affine, noise_strength, noise_const, resample_filter), so a state dict loads where an ADA G_ema's does
(docs: ../shared/docs/methods.md section 1). A 4x8 constant grows to 128x256 through blocks b4..b128 (the block's
name is its height); 12 ws: b4 takes ws[0:2], every later block ws[i:i+3] with i advancing by 2 (conv0, conv1,
torgb). Modulated/demodulated 3x3 convs, noise injection, bias + leaky ReLU (gain sqrt 2, clamp), skip toRGB with
upfirdn2d upsampling by the [1,3,3,1] filter: the arithmetic of ADA's reference paths (upfirdn2d_ref, conv2d_resample
with transposed convolution then filter). Also a resnet discriminator for training (its names are our own)."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT = {"z_dim": 64, "w_dim": 64, "mapping_layers": 4, "base": [4, 8], "resolution": 128,
           "channels": {"4": 64, "8": 64, "16": 64, "32": 32, "64": 32, "128": 16},
           "conv_clamp": 256.0, "lr_multiplier": 0.01, "w_avg_beta": 0.995}
SQRT2 = math.sqrt(2.0)


def config(overrides=None):
    cfg = dict(DEFAULT)
    cfg.update(overrides or {})
    cfg["channels"] = {str(k): int(v) for k, v in cfg["channels"].items()}
    return cfg


def resolutions(cfg):
    """Block heights: 4, 8, ..., resolution."""
    return [2 ** i for i in range(2, int(math.log2(cfg["resolution"])) + 1)]


def num_ws(cfg):
    return 2 * len(resolutions(cfg))


def setup_filter(f=(1, 3, 3, 1)):
    """ADA's upfirdn2d.setup_filter: the outer product of f, normalised to sum 1."""
    f = torch.tensor(f, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def upfirdn2d(x, f, up=1, down=1, pad=(0, 0, 0, 0), gain=1.0):
    """ADA's upfirdn2d reference: zero-insert by `up`, pad (x0, x1, y0, y1; negative crops), convolve with the
    flipped 2-D filter f * gain, keep every `down`-th sample. x [N,C,H,W]."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = pad
    x = x.reshape(n, c, h, 1, w, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
    x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0):x.shape[2] - max(-py1, 0), max(-px0, 0):x.shape[3] - max(-px1, 0)]
    f = (f * gain).to(x.dtype).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, f, groups=c)
    return x[:, :, ::down, ::down]


def upsample2d(x, f):
    """ADA's upsample2d for a 4-tap filter: up 2, pad (2, 1) each axis, gain 4."""
    return upfirdn2d(x, f, up=2, pad=(2, 1, 2, 1), gain=4.0)


def bias_act(x, b, act="linear", gain=1.0, clamp=None):
    """ADA's bias_act: x + b (channel dim 1), leaky ReLU 0.2 times sqrt 2 for 'lrelu', times gain, clamped."""
    x = x + b.reshape([1, -1] + [1] * (x.ndim - 2))
    if act == "lrelu":
        x = F.leaky_relu(x, 0.2) * SQRT2
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def lrelu(x):
    return F.leaky_relu(x, 0.2) * SQRT2


def normalize_2nd_moment(x, eps=1e-8):
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class FullyConnectedLayer(nn.Module):
    """ADA's equalised-lr linear layer: weight [out, in] stored / lr_multiplier."""

    def __init__(self, in_f, out_f, activation="linear", lr_multiplier=1.0, bias_init=0.0):
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_f, in_f) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_f], float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_f)
        self.bias_gain = lr_multiplier

    def forward(self, x):
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)


class MappingNetwork(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = cfg["z_dim"], cfg["w_dim"], num_ws(cfg)
        self.num_layers, self.w_avg_beta = cfg["mapping_layers"], cfg["w_avg_beta"]
        for i in range(self.num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(self.z_dim if i == 0 else self.w_dim, self.w_dim, "lrelu",
                                                         cfg["lr_multiplier"]))
        self.register_buffer("w_avg", torch.zeros([self.w_dim]))

    def forward(self, z, truncation_psi=1.0, update_emas=False):
        x = normalize_2nd_moment(z.float())
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if update_emas:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            x = self.w_avg.lerp(x, truncation_psi)
        return x


def modulated_conv2d(x, weight, styles, noise=None, up=1, padding=0, resample_filter=None, demodulate=True):
    """ADA's modulated_conv2d (non-fused path per sample as one grouped conv): weight [O,I,k,k] scaled by
    styles [N,I], demodulated per output channel (rsqrt(sum w^2 + 1e-8)); up=2 is the transposed convolution
    (stride 2) followed by upfirdn2d with the resample filter, pad 1, gain 4 (conv2d_resample for a 3x3 kernel)."""
    n = x.shape[0]
    o, i, kh, kw = weight.shape
    w = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()[:, :, None, None, None]
    x = x.reshape(1, n * i, *x.shape[2:])
    if up == 1:
        x = F.conv2d(x, w.reshape(n * o, i, kh, kw), padding=padding, groups=n)
    else:  # groups of [I, O] kernels for the transposed convolution
        wt = w.transpose(1, 2).reshape(n * i, o, kh, kw)
        x = F.conv_transpose2d(x, wt, stride=2, groups=n)
        p = padding + (resample_filter.shape[0] + 1) // 2 - (kw - 1)  # 1 for a 3x3 kernel and a 4-tap filter
        x = upfirdn2d(x, resample_filter, pad=(p, p, p, p), gain=4.0)
    x = x.reshape(n, o, *x.shape[2:])
    if noise is not None:
        x = x + noise
    return x


class SynthesisLayer(nn.Module):
    def __init__(self, in_c, out_c, w_dim, size, up=1, conv_clamp=None):
        super().__init__()
        self.up, self.conv_clamp = up, conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_c, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_c, in_c, 3, 3]))
        self.bias = nn.Parameter(torch.zeros([out_c]))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(list(size)))
        self.register_buffer("resample_filter", setup_filter())

    def forward(self, x, w, noise_mode="random", noise=None):
        """noise: an explicit map [N,1,H,W] (replacing the layer's noise before noise_strength), an encoder's
        layer noise [N,C,H,W] of the layer's C output channels (ISSA: it replaces the noise and is added without
        noise_strength), or None."""
        styles = self.affine(w)
        h, wd = self.noise_const.shape
        if noise is not None:
            if noise.shape[1] == 1:
                noise = noise * self.noise_strength
        elif noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, h, wd], device=x.device) * self.noise_strength
        elif noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=1,
                             resample_filter=self.resample_filter)
        return bias_act(x, self.bias, act="lrelu", clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    def __init__(self, in_c, out_c, w_dim, conv_clamp=None):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_c, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_c, in_c, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_c]))
        self.weight_gain = 1 / math.sqrt(in_c)

    def forward(self, x, w):
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    def __init__(self, in_c, out_c, w_dim, size, conv_clamp):
        super().__init__()
        self.in_c = in_c
        if in_c == 0:
            self.const = nn.Parameter(torch.randn([out_c] + list(size)))
        else:
            self.conv0 = SynthesisLayer(in_c, out_c, w_dim, size, up=2, conv_clamp=conv_clamp)
        self.conv1 = SynthesisLayer(out_c, out_c, w_dim, size, conv_clamp=conv_clamp)
        self.torgb = ToRGBLayer(out_c, 3, w_dim, conv_clamp=conv_clamp)
        self.register_buffer("resample_filter", setup_filter())
        self.num_conv = 1 if in_c == 0 else 2

    def forward(self, x, img, ws, noise_mode="random", noise=(None, None)):
        it = iter(ws.unbind(dim=1))
        if self.in_c == 0:
            x = self.const.unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, next(it), noise_mode, noise[1])
        else:
            x = self.conv0(x, next(it), noise_mode, noise[0])
            x = self.conv1(x, next(it), noise_mode, noise[1])
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        y = self.torgb(x, next(it))
        img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.res = resolutions(cfg)
        bh, bw = cfg["base"]
        prev = 0
        for r in self.res:
            c = cfg["channels"][str(r)]
            size = (bh * r // 4, bw * r // 4)
            setattr(self, f"b{r}", SynthesisBlock(prev, c, cfg["w_dim"], size, cfg["conv_clamp"]))
            prev = c
        self.num_ws = num_ws(cfg)

    def noise_shapes(self):
        """[(name, (H, W))] of every noise input in order (b4.conv1, b8.conv0, b8.conv1, ...)."""
        out = []
        for r in self.res:
            b = getattr(self, f"b{r}")
            for name in (("conv1",) if b.in_c == 0 else ("conv0", "conv1")):
                out.append((f"b{r}.{name}", tuple(getattr(b, name).noise_const.shape)))
        return out

    def forward(self, ws, noise_mode="random", noises=None):
        """ws [N, 12, w_dim]; noises: {"b16.conv0": [N,1,H,W] or, an encoder's layer noise, [N,C,H,W], ...} for the
        layers given (others by noise_mode)."""
        noises = noises or {}
        x = img = None
        idx = 0
        for r in self.res:
            b = getattr(self, f"b{r}")
            nz = (noises.get(f"b{r}.conv0"), noises.get(f"b{r}.conv1"))
            x, img = b(x, img, ws[:, idx:idx + b.num_conv + 1], noise_mode, nz)
            idx += b.num_conv
        return img


class Generator(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.cfg = config(cfg)
        self.z_dim, self.w_dim = self.cfg["z_dim"], self.cfg["w_dim"]
        self.mapping = MappingNetwork(self.cfg)
        self.synthesis = SynthesisNetwork(self.cfg)
        self.num_ws = self.synthesis.num_ws

    def forward(self, z, truncation_psi=1.0, noise_mode="random", update_emas=False, noises=None):
        ws = self.mapping(z, truncation_psi=truncation_psi, update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, noises=noises)


def mix_ws(ws_content, ws_styles, strength):
    """Style mixing as in the thesis, G(w_style, noise_content): the content's ws moved towards the mean of the
    exemplars' ws by strength in [0, 1] (dg_stylegan2_mix); synthesise with the content's noise maps."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength {strength} outside 0..1")
    style = torch.stack(list(ws_styles)).mean(dim=0)
    return ws_content + strength * (style - ws_content)


# --- discriminator (training only; our own names) ---

class EqConv2d(nn.Module):
    """Equalised-learning-rate conv (weight randn, scaled by 1/sqrt(fan-in) when used), as ADA's Conv2dLayer:
    the discriminator trains at G's learning rate."""

    def __init__(self, in_c, out_c, k, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_c, in_c, k, k))
        self.bias = nn.Parameter(torch.zeros(out_c)) if bias else None
        self.gain, self.pad = 1 / math.sqrt(in_c * k * k), k // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)


class DBlock(nn.Module):
    """Resnet block: two 3x3 convs, 2x average-pool down, a 1x1 skip; outputs scaled by sqrt(1/2)."""

    def __init__(self, in_c, out_c):
        super().__init__()
        self.conv0 = EqConv2d(in_c, in_c, 3)
        self.conv1 = EqConv2d(in_c, out_c, 3)
        self.skip = EqConv2d(in_c, out_c, 1, bias=False)

    def forward(self, x):
        y = F.avg_pool2d(self.skip(x), 2)
        x = lrelu(self.conv0(x))
        x = F.avg_pool2d(lrelu(self.conv1(x)), 2)
        return (x + y) * math.sqrt(0.5)


class Discriminator(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        cfg = config(cfg)
        res = resolutions(cfg)[::-1]  # 128 .. 8 down to 4
        ch = cfg["channels"]
        self.fromrgb = EqConv2d(3, ch[str(res[0])], 1)
        self.blocks = nn.ModuleList([DBlock(ch[str(r)], ch[str(r // 2)]) for r in res[:-1]])
        c4 = ch["4"]
        bh, bw = cfg["base"]
        self.conv = EqConv2d(c4 + 1, c4, 3)
        self.fc = FullyConnectedLayer(c4 * bh * bw, c4, "lrelu")
        self.out = FullyConnectedLayer(c4, 1)

    def forward(self, img):
        x = lrelu(self.fromrgb(img))
        for b in self.blocks:
            x = b(x)
        std = (x.var(dim=0, unbiased=False) + 1e-8).sqrt().mean().reshape(1, 1, 1, 1)  # minibatch std (group = batch)
        x = torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], dim=1)
        x = lrelu(self.conv(x))
        x = self.fc(x.flatten(1))
        return self.out(x).squeeze(1)


def state_for_export(g):
    """The generator's state dict with ADA names (parameters and buffers: w_avg, noise_const, resample_filter)."""
    return {k: v.detach().float().cpu().contiguous() for k, v in g.state_dict().items()}


def load_generator(path, cfg=None):
    """A Generator from an export (safetensors with ADA names, config beside); missing or mis-shaped tensors are
    named in the error."""
    from .exports import load_json_beside, load_prefixed
    cfg = cfg if isinstance(cfg, dict) else load_json_beside(path, cfg)
    g = Generator(cfg)
    sd, _ = load_prefixed(path, "")
    want = g.state_dict()
    missing = [k for k in want if k not in sd]
    if missing:
        raise ValueError(f"{path}: missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    for k, v in want.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise ValueError(f"{path}: {k} has shape {list(sd[k].shape)}, expected {list(v.shape)}")
    g.load_state_dict({k: sd[k] for k in want})
    return g


def np_seed_z(seed, z_dim):
    """ADA's z for a seed: np.random.RandomState(seed).randn(1, z_dim)."""
    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()
