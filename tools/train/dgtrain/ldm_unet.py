"""Stable-Diffusion UNet in the original LDM naming (ldm/modules/diffusionmodules/openaimodel.py and
ldm/modules/attention.py), so that `model.diffusion_model.*` keys of an SD 1.5 single-file checkpoint load
as they are. Widths, depths and heads come from a config dict (see configs/sd15_unet.json and
DEFAULT_SMALL)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from . import config

SD15 = {
    "in_channels": 4, "out_channels": 4, "model_channels": 320, "channel_mult": [1, 2, 4, 4],
    "num_res_blocks": 2, "attention_resolutions": [4, 2, 1], "num_heads": 8, "num_head_channels": -1,
    "context_dim": 768, "transformer_depth": 1, "use_linear": False,
}

# Our default text-to-image UNet: 16x32x4 latents of 128x256 images, context from the small CLIP text tower.
# 64/64/128 channels, attention at ds 2 and 4 and in the middle: 4.9M parameters, 0.84 GFLOP per sample
# forward at 16x32 (tools/train/bench_models.py), sized for a few hours of CPU training.
DEFAULT_SMALL = {
    "in_channels": 4, "out_channels": 4, "model_channels": 64, "channel_mult": [1, 1, 2],
    "num_res_blocks": 1, "attention_resolutions": [2, 4], "num_heads": -1, "num_head_channels": 32,
    "context_dim": 256, "transformer_depth": 1, "use_linear": False,
}


def load_config(path_or_dict):
    return config.merged(path_or_dict, SD15)


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 (LDM's GroupNorm32)."""

    def __init__(self, channels, eps=1e-5, groups=32):
        super().__init__(groups, channels, eps=eps)

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class LayerNorm32(nn.LayerNorm):
    """LayerNorm computed in float32, as GroupNorm32. Both are the same as torch's for float32 inputs; under a
    CPU bfloat16 autocast, which unlike CUDA's leaves group_norm and layer_norm to their input's type, they keep
    the float32 weights usable."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def timestep_embedding(t, dim, max_period=10000):
    """LDM sinusoidal embedding: [cos(t f), sin(t f)], f_i = exp(-ln(max_period) i / half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def zero_module(m):
    for p in m.parameters():
        p.detach().zero_()
    return m


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x, emb=None, context=None):
        for layer in self:
            if isinstance(layer, ResBlock):
                x = layer(x, emb)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            else:
                x = layer(x)
        return x


class ResBlock(nn.Module):
    def __init__(self, channels, emb_channels, out_channels=None, dropout=0.0):
        super().__init__()
        out_channels = out_channels or channels
        self.in_layers = nn.Sequential(GroupNorm32(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(out_channels), nn.SiLU(), nn.Dropout(dropout),
                                        zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1)))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        h = h + self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        h = self.out_layers(h)
        return self.skip_connection(x) + h


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim=None, heads=8, dim_head=64, dropout=0.0):
        super().__init__()
        inner = heads * dim_head
        context_dim = context_dim or query_dim
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(dropout))
        self.keep_attn = False  # when set (train_unet --attn-loss), the softmax [B,heads,N,M] is kept, with grad
        self.last_attn = None

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, _ = x.shape
        h = self.heads
        q, k, v = self.to_q(x), self.to_k(context), self.to_v(context)
        q, k, v = (t.reshape(b, t.shape[1], h, -1).transpose(1, 2) for t in (q, k, v))
        sim = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        attn = sim.float().softmax(dim=-1).type(v.dtype)
        if self.keep_attn:
            self.last_attn = attn
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, -1)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        inner = int(dim * mult)
        self.net = nn.Sequential(GEGLU(dim, inner), nn.Dropout(dropout), nn.Linear(inner, dim))

    def forward(self, x):
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, n_heads, d_head, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, None, n_heads, d_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, n_heads, d_head)
        self.norm1, self.norm2, self.norm3 = LayerNorm32(dim), LayerNorm32(dim), LayerNorm32(dim)

    def forward(self, x, context=None):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    """norm (GroupNorm 32, eps 1e-6) -> proj_in (1x1 conv, or Linear with use_linear) -> blocks -> proj_out
    (zero-initialised) + residual."""

    def __init__(self, in_channels, n_heads, d_head, depth=1, context_dim=None, use_linear=False):
        super().__init__()
        inner = n_heads * d_head
        self.use_linear = use_linear
        self.norm = GroupNorm32(in_channels, eps=1e-6)
        self.proj_in = nn.Linear(in_channels, inner) if use_linear else nn.Conv2d(in_channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner, n_heads, d_head, context_dim) for _ in range(depth)])
        self.proj_out = zero_module(nn.Linear(inner, in_channels) if use_linear else nn.Conv2d(inner, in_channels, 1))

    def forward(self, x, context=None):
        b, c, h, w = x.shape
        x_in = x
        x = self.norm(x)
        if not self.use_linear:
            x = self.proj_in(x)
        x = x.flatten(2).transpose(1, 2)
        if self.use_linear:
            x = self.proj_in(x)
        for block in self.transformer_blocks:
            x = block(x, context)
        if self.use_linear:
            x = self.proj_out(x)
        x = x.transpose(1, 2).reshape(b, -1, h, w)
        if not self.use_linear:
            x = self.proj_out(x)
        return x + x_in


def _heads(cfg, ch):
    if cfg.get("num_head_channels", -1) not in (-1, None):
        return ch // cfg["num_head_channels"], cfg["num_head_channels"]
    return cfg["num_heads"], ch // cfg["num_heads"]


def spatial_attention(cfg, ch):
    """The layers after a ResBlock at a level with attention: one SpatialTransformer."""
    nh, dh = _heads(cfg, ch)
    return [SpatialTransformer(ch, nh, dh, cfg["transformer_depth"], cfg["context_dim"], cfg["use_linear"])]


def build_encoder(module, cfg, res=ResBlock, attention=spatial_attention, block=TimestepEmbedSequential):
    """Builds time_embed, input_blocks and middle_block on `module` (shared by the UNet, the ControlNet and the video
    UNet, which passes its own ResBlock class, attention layers and block container). Returns the list of channels
    of each input block output, the last width and the last downsampling."""
    mc = cfg["model_channels"]
    ted = mc * 4
    module.time_embed = nn.Sequential(nn.Linear(mc, ted), nn.SiLU(), nn.Linear(ted, ted))
    module.input_blocks = nn.ModuleList([block(nn.Conv2d(cfg["in_channels"], mc, 3, padding=1))])
    chans, ch, ds = [mc], mc, 1
    attn = set(cfg["attention_resolutions"])
    for level, mult in enumerate(cfg["channel_mult"]):
        for _ in range(cfg["num_res_blocks"]):
            layers = [res(ch, ted, mult * mc)]
            ch = mult * mc
            if ds in attn:
                layers += attention(cfg, ch)
            module.input_blocks.append(block(*layers))
            chans.append(ch)
        if level != len(cfg["channel_mult"]) - 1:
            module.input_blocks.append(block(Downsample(ch)))
            chans.append(ch)
            ds *= 2
    module.middle_block = block(res(ch, ted), *attention(cfg, ch), res(ch, ted))
    return chans, ch, ds


def build_decoder(module, cfg, chans, ch, ds, res=ResBlock, attention=spatial_attention, block=TimestepEmbedSequential):
    """Builds output_blocks and out on `module`, from build_encoder's channels, width and downsampling."""
    mc, ted = cfg["model_channels"], cfg["model_channels"] * 4
    attn = set(cfg["attention_resolutions"])
    module.output_blocks = nn.ModuleList()
    for level, mult in list(enumerate(cfg["channel_mult"]))[::-1]:
        for i in range(cfg["num_res_blocks"] + 1):
            layers = [res(ch + chans.pop(), ted, mc * mult)]
            ch = mc * mult
            if ds in attn:
                layers += attention(cfg, ch)
            if level and i == cfg["num_res_blocks"]:
                layers.append(Upsample(ch))
                ds //= 2
            module.output_blocks.append(block(*layers))
    module.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(), zero_module(nn.Conv2d(ch, cfg["out_channels"], 3, padding=1)))


class UNetModel(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        cfg = load_config(cfg or DEFAULT_SMALL)
        self.cfg = cfg
        chans, ch, ds = build_encoder(self, cfg)
        build_decoder(self, cfg, chans, ch, ds)

    @property
    def num_control(self):
        return len(self.input_blocks) + 1

    def forward(self, x, t, context, control=None):
        """x [B,C,h,w], t [B] (int or float timesteps), context [B,L,D]; control: list of len(input_blocks)+1
        residuals (ControlNet order: one per input block, then the middle block), added as cldm's
        ControlledUnetModel adds them."""
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        emb = self.time_embed(timestep_embedding(t, self.cfg["model_channels"]).to(x.dtype))
        hs, h = [], x
        for module in self.input_blocks:
            h = module(h, emb, context)
            hs.append(h)
        h = self.middle_block(h, emb, context)
        if control is not None:
            control = list(control)
            h = h + control.pop()
        for module in self.output_blocks:
            skip = hs.pop()
            if control is not None:
                skip = skip + control.pop()
            h = module(torch.cat([h, skip], dim=1), emb, context)
        return self.out(h)


def load_unet(path, device="cpu", frozen=True):
    """An exported UNet (model.diffusion_model.* names, .json config beside) and its config."""
    from .exports import load_json_beside, load_prefixed
    sd, _ = load_prefixed(path, "model.diffusion_model.")
    cfg = load_json_beside(path)
    unet = UNetModel({k: v for k, v in cfg.items() if k in SD15})
    unet.load_state_dict({k: v.float() for k, v in sd.items()})
    unet.to(device)
    if frozen:
        unet.eval()
        for p in unet.parameters():
            p.requires_grad_(False)
    return unet, unet.cfg
