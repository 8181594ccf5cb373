"""KL autoencoder (AutoencoderKL) in the original LDM naming (ldm/modules/diffusionmodules/model.py,
ldm/models/autoencoder.py), so that `first_stage_model.*` keys of an SD 1.5 checkpoint load as they are."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from . import config

SD15 = {"in_channels": 3, "out_ch": 3, "ch": 128, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2,
        "attn_resolutions": [], "resolution": 256, "z_channels": 4, "embed_dim": 4, "double_z": True,
        "scale_factor": 0.18215}

# Our default f=8 autoencoder: 128x256 RGB -> 4x16x32 latents, widths 32/32/64/64 (the full-resolution levels
# dominate the cost: [1,2,4,4] costs 15.6 GFLOP per 128x256 decode, this about a third). scale_factor is
# re-measured after training (1 / std of the latents) and stored in the exported config.
DEFAULT_SMALL = dict(SD15, ch=32, ch_mult=[1, 1, 2, 2], num_res_blocks=1, scale_factor=1.0)


def load_config(path_or_dict):
    return config.merged(path_or_dict, SD15)


class Normalize(nn.GroupNorm):
    """GroupNorm(32, eps 1e-6), computed in float32."""

    def __init__(self, channels):
        super().__init__(32, channels, eps=1e-6)

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def swish(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, dropout=0.0):
        super().__init__()
        out_channels = out_channels or in_channels
        self.norm1 = Normalize(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = Normalize(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        if hasattr(self, "nin_shortcut"):
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.norm = Normalize(channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        w = torch.bmm(q, k.reshape(b, c, hh * ww)) * (int(c) ** -0.5)
        w = torch.softmax(w.float(), dim=2).type(v.dtype)
        h = torch.bmm(v.reshape(b, c, hh * ww), w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, mult, nrb = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"]
        res = cfg["resolution"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch, 3, padding=1)
        in_mult = (1,) + tuple(mult)
        self.down = nn.ModuleList()
        for i, m in enumerate(mult):
            blk_in, blk_out = ch * in_mult[i], ch * m
            down = nn.Module()
            down.block, down.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(nrb):
                down.block.append(ResnetBlock(blk_in, blk_out))
                blk_in = blk_out
                if res in cfg["attn_resolutions"]:
                    down.attn.append(AttnBlock(blk_in))
            if i != len(mult) - 1:
                down.downsample = Downsample(blk_in)
                res //= 2
            self.down.append(down)
        self.mid = nn.Module()
        self.mid.block_1, self.mid.attn_1, self.mid.block_2 = ResnetBlock(blk_in), AttnBlock(blk_in), ResnetBlock(blk_in)
        self.norm_out = Normalize(blk_in)
        zc = cfg["z_channels"] * (2 if cfg["double_z"] else 1)
        self.conv_out = nn.Conv2d(blk_in, zc, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for i, down in enumerate(self.down):
            for j, blk in enumerate(down.block):
                h = blk(h)
                if len(down.attn):
                    h = down.attn[j](h)
            if hasattr(down, "downsample"):
                h = down.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, mult, nrb = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"]
        res = cfg["resolution"] // 2 ** (len(mult) - 1)
        blk_in = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg["z_channels"], blk_in, 3, padding=1)
        self.mid = nn.Module()
        self.mid.block_1, self.mid.attn_1, self.mid.block_2 = ResnetBlock(blk_in), AttnBlock(blk_in), ResnetBlock(blk_in)
        ups = []
        for i in reversed(range(len(mult))):
            up = nn.Module()
            up.block, up.attn = nn.ModuleList(), nn.ModuleList()
            blk_out = ch * mult[i]
            for _ in range(nrb + 1):
                up.block.append(ResnetBlock(blk_in, blk_out))
                blk_in = blk_out
                if res in cfg["attn_resolutions"]:
                    up.attn.append(AttnBlock(blk_in))
            if i != 0:
                up.upsample = Upsample(blk_in)
                res *= 2
            ups.insert(0, up)
        self.up = nn.ModuleList(ups)
        self.norm_out = Normalize(blk_in)
        self.conv_out = nn.Conv2d(blk_in, cfg["out_ch"], 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for i in reversed(range(len(self.up))):
            up = self.up[i]
            for j, blk in enumerate(up.block):
                h = blk(h)
                if len(up.attn):
                    h = up.attn[j](h)
            if hasattr(up, "upsample"):
                h = up.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        cfg = load_config(cfg or DEFAULT_SMALL)
        self.cfg = cfg
        self.encoder, self.decoder = Encoder(cfg), Decoder(cfg)
        zc, ed = cfg["z_channels"], cfg["embed_dim"]
        self.quant_conv = nn.Conv2d(2 * zc, 2 * ed, 1)
        self.post_quant_conv = nn.Conv2d(ed, zc, 1)

    @property
    def scale_factor(self):
        return float(self.cfg["scale_factor"])

    def encode_moments(self, x):
        """x in [-1,1] -> (mean, logvar) of the latent posterior (logvar clamped to [-30, 20] as LDM does)."""
        mean, logvar = self.quant_conv(self.encoder(x)).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def encode(self, x, sample=False, generator=None):
        """Returns the unscaled latent (the posterior mean, or a sample)."""
        mean, logvar = self.encode_moments(x)
        if not sample:
            return mean
        return mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=generator, device=mean.device)

    def decode(self, z):
        """Unscaled latent -> image in (about) [-1,1]."""
        return self.decoder(self.post_quant_conv(z))

    def forward(self, x, sample=True):
        mean, logvar = self.encode_moments(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean) if sample else mean
        return self.decode(z), mean, logvar


@torch.no_grad()
def reconstruct(vae, x):
    """x [B,3,H,W] in [-1,1] through the VAE (posterior mean), clamped to [-1,1]."""
    return vae.decode(vae.encode(x)).clamp(-1, 1)


def grad_l1(a, b):
    """L1 between the horizontal and vertical pixel differences of a and b (keeps edges sharp; the VAE's and the
    tiny decoder's trainers)."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    return (dx(a) - dx(b)).abs().mean() + (dy(a) - dy(b)).abs().mean()


def psnr_each(x, y):
    """PSNR (dB) of each image y against x, both [B,3,H,W] in [-1,1], pixel range [0,1]."""
    mse = ((y - x) / 2).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
    return (-10 * torch.log10(mse)).tolist()


def load_vae(path, device="cpu"):
    """An exported VAE (first_stage_model.* names, .json config beside), frozen, in eval mode."""
    from .exports import load_json_beside, load_prefixed
    sd, _ = load_prefixed(path, "first_stage_model.")
    vae = AutoencoderKL(load_json_beside(path))
    vae.load_state_dict(sd)
    vae.eval().to(device)
    for p in vae.parameters():
        p.requires_grad_(False)
    return vae
