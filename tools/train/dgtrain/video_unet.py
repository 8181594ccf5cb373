"""VideoCrafter2-style UNet3D (lvdm/modules/networks/openaimodel3d.py, lvdm/modules/attention.py) built from
ldm_unet's blocks, with VideoCrafter2's parameter names, so that `model.diffusion_model.*` keys of its checkpoint
load as they are:

- every ResBlock is followed, inside the ResBlock, by `temopral_conv` (sic): conv1..conv4, each GroupNorm32 (float32
  statistics, as LDM's) -> SiLU -> (Dropout, conv2..4) -> Conv3d (3,1,1) padding (1,0,0) over [B, C, F, H, W], conv4 zero-initialised,
  plus the input (conv1.0/conv1.2, convK.0/convK.3 for K = 2..4);
- every SpatialTransformer is followed by a TemporalTransformer (`input_blocks.N.2`, `middle_block.2`,
  `output_blocks.N.2`): GroupNorm32 (eps 1e-6) over [B, C, F, H, W] (statistics over the frames too) ->
  tokens [B*H*W, F, C] -> proj_in (Conv1d 1x1, or Linear with use_linear) -> BasicTransformerBlock whose attn1
  and attn2 are both self-attention over the frames (temporal_selfatt_only; no positional encoding, not causal)
  -> proj_out (zero-initialised) -> + input;
- `init_attn.0`: a TemporalTransformer of 8 heads x num_head_channels after input block 0;
- `fps_embedding` (Linear-SiLU-Linear) of the sinusoidal fps embedding, added to the time embedding;
- the middle block is [ResBlock, SpatialTransformer, TemporalTransformer, ResBlock], an output block's
  Upsample comes after its TemporalTransformer (`output_blocks.N.3.conv`).

Activations are [B, C, F, H, W] at the model's boundary as in VideoCrafter2; inside, the frames are folded into
the batch ([B*F, C, H, W]) as the engine folds them. Options of the forward pass: a per-frame context
([B*F, L, D], VSTAR's interpolated prompts), VSTAR's temporal attention regularisation (TAR) and the capture of a
temporal attention matrix (`TemporalControls`).

Temporal transformers are numbered 0.. in forward order (input blocks, middle block, output blocks); init_attn
is not numbered (VSTAR's place 'init': never regularised)."""
import torch
import torch.nn as nn

from . import ldm_unet
from .ldm_unet import BasicTransformerBlock, GroupNorm32, ResBlock, SpatialTransformer, timestep_embedding, zero_module

# Our default text-to-video UNet: DEFAULT_SMALL inflated with VideoCrafter2's temporal layers.
DEFAULT_SMALL_VIDEO = dict(ldm_unet.DEFAULT_SMALL, fps_cond=True, init_attn=True)
INIT_ATTN_HEADS = 8  # VideoCrafter2 hard-codes init_attn's heads (d_head = num_head_channels)


class TemporalControls:
    """What a forward pass may do besides predicting the noise.

    tar: None or {"sigma": {latent width: sigma}, "scale": 1.0}: VSTAR's TAR on the logits S = q k^T / sqrt(d)
    of both attentions of every numbered temporal transformer whose latent width is in sigma:
    S' = S + scale * max_j(S_ij) * exp(-0.5 ((j - i) / sigma)^2).
    capture: None or a temporal transformer index: its attn1 probabilities softmax(S') [B*H*W*heads, F, F]
    (batch index (b*H*W + pixel)*heads + head) are kept in `captured`."""

    def __init__(self, tar=None, capture=None):
        self.tar, self.capture, self.captured = tar, capture, None


def tar_delta(frames, sigma):
    """Delta A [F, F] = exp(-0.5 ((j - i) / sigma)^2): 1 on the diagonal."""
    i = torch.arange(frames, dtype=torch.float32)
    return torch.exp(-0.5 * ((i[None, :] - i[:, None]) / sigma) ** 2)


def tar_logits(s, sigma, scale=1.0):
    """S + scale * rowmax(S) * Delta A for logits s [..., F, F]."""
    return s + scale * s.amax(dim=-1, keepdim=True) * tar_delta(s.shape[-1], sigma).to(s.dtype)


def temporal_attention(attn, x, sigma=None, scale=1.0, store=None):
    """ldm_unet.CrossAttention's self-attention over x [B*H*W, F, C], with TAR when sigma is given and the
    probabilities [B*H*W*heads, F, F] appended to `store` when it is a list."""
    b, n, _ = x.shape
    h = attn.heads
    q, k, v = attn.to_q(x), attn.to_k(x), attn.to_v(x)
    q, k, v = (t.reshape(b, n, h, -1).transpose(1, 2) for t in (q, k, v))
    s = torch.matmul(q, k.transpose(-1, -2)) * attn.scale
    if sigma is not None:
        s = tar_logits(s, sigma, scale)
    p = s.float().softmax(dim=-1).type(v.dtype)
    if store is not None:
        store.append(p.reshape(b * h, n, n))
    return attn.to_out(torch.matmul(p, v).transpose(1, 2).reshape(b, n, -1))


class TemporalConvBlock(nn.Module):
    """VideoCrafter2's TemporalConvBlock (not spatial-aware) on [B, C, F, H, W]."""

    def __init__(self, channels, dropout=0.1):
        super().__init__()

        def conv(drop):
            # GroupNorm32: float32 statistics, as LDM's norms
            mods = [GroupNorm32(channels), nn.SiLU()] + ([nn.Dropout(dropout)] if drop else [])
            return nn.Sequential(*mods, nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0)))
        self.conv1, self.conv2, self.conv3, self.conv4 = conv(False), conv(True), conv(True), conv(True)
        zero_module(self.conv4[-1])

    def forward(self, x):
        return x + self.conv4(self.conv3(self.conv2(self.conv1(x))))


def to_video(x, frames):
    """Frames folded into the batch [B*F, C, H, W] -> VideoCrafter2's [B, C, F, H, W]."""
    bf, c, h, w = x.shape
    return x.reshape(bf // frames, frames, c, h, w).transpose(1, 2)


def to_frames(x):
    """[B, C, F, H, W] -> frames folded into the batch [B*F, C, H, W]."""
    b, c, f, h, w = x.shape
    return x.transpose(1, 2).reshape(b * f, c, h, w)


class ResBlock3D(ResBlock):
    """ldm_unet.ResBlock, then (inside it, as VideoCrafter2 has it) the temporal convolutions."""

    def __init__(self, channels, emb_channels, out_channels=None, dropout=0.0):
        super().__init__(channels, emb_channels, out_channels, dropout)
        self.temopral_conv = TemporalConvBlock(out_channels or channels)

    def forward(self, x, emb, frames=1):
        h = super().forward(x, emb)
        return to_frames(self.temopral_conv(to_video(h, frames)))


class TemporalTransformer(nn.Module):
    """VideoCrafter2's TemporalTransformer with only_self_att (the context is ignored)."""

    def __init__(self, channels, n_heads, d_head, depth=1, use_linear=False):
        super().__init__()
        inner = n_heads * d_head
        self.use_linear = use_linear
        self.norm = GroupNorm32(channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if use_linear else nn.Conv1d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner, n_heads, d_head, None) for _ in range(depth)])
        self.proj_out = zero_module(nn.Linear(inner, channels) if use_linear else nn.Conv1d(inner, channels, 1))
        self.index = None  # forward order among the numbered temporal transformers (None: init_attn)

    def forward(self, x, frames, controls=None):
        """x [B*F, C, H, W] -> same."""
        x5 = to_video(x, frames)
        b, c, f, h, w = x5.shape
        t = self.norm(x5).permute(0, 3, 4, 1, 2).reshape(b * h * w, c, f)  # (b h w) c t
        if not self.use_linear:
            t = self.proj_in(t)
        t = t.transpose(1, 2)  # (b h w) t c
        if self.use_linear:
            t = self.proj_in(t)
        sigma, scale, store = None, 1.0, None
        if controls is not None and self.index is not None:
            if controls.tar is not None and w in controls.tar["sigma"]:
                sigma, scale = controls.tar["sigma"][w], controls.tar.get("scale", 1.0)
            if controls.capture == self.index:
                store = []
        for i, blk in enumerate(self.transformer_blocks):
            t = temporal_attention(blk.attn1, blk.norm1(t), sigma, scale, store if i == 0 else None) + t
            t = temporal_attention(blk.attn2, blk.norm2(t), sigma, scale) + t
            t = blk.ff(blk.norm3(t)) + t
        if store is not None:
            controls.captured = store[0]
        if self.use_linear:
            t = self.proj_out(t)
        t = t.transpose(1, 2)  # (b h w) c t
        if not self.use_linear:
            t = self.proj_out(t)
        t = t.reshape(b, h, w, c, f).permute(0, 3, 4, 1, 2)
        return x + to_frames(t)


class VideoBlock(nn.Sequential):
    """A TimestepEmbedSequential for folded videos."""

    def forward(self, x, emb=None, context=None, frames=1, controls=None):
        for layer in self:
            if isinstance(layer, ResBlock3D):
                x = layer(x, emb, frames)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            elif isinstance(layer, TemporalTransformer):
                x = layer(x, frames, controls)
            else:
                x = layer(x)
        return x


class UNet3DModel(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        cfg = ldm_unet.load_config(dict(DEFAULT_SMALL_VIDEO, **(cfg or {})))
        self.cfg = cfg
        if cfg.get("num_head_channels", -1) in (-1, None):
            raise ValueError("video_unet: VideoCrafter2's UNet3D needs num_head_channels (init_attn's head width)")

        def attention(cfg, ch):
            nh, dh = ldm_unet._heads(cfg, ch)
            return ldm_unet.spatial_attention(cfg, ch) + [
                TemporalTransformer(ch, nh, dh, cfg["transformer_depth"], cfg["use_linear"])]
        chans, ch, ds = ldm_unet.build_encoder(self, cfg, ResBlock3D, attention, VideoBlock)
        mc = cfg["model_channels"]
        if cfg.get("fps_cond", True):
            self.fps_embedding = nn.Sequential(nn.Linear(mc, mc * 4), nn.SiLU(), nn.Linear(mc * 4, mc * 4))
        if cfg.get("init_attn", True):
            self.init_attn = VideoBlock(
                TemporalTransformer(mc, INIT_ATTN_HEADS, cfg["num_head_channels"], 1, cfg["use_linear"]))
        ldm_unet.build_decoder(self, cfg, chans, ch, ds, ResBlock3D, attention, VideoBlock)
        for i, m in enumerate(self.temporal_transformers()):
            m.index = i

    def temporal_transformers(self):
        """The numbered temporal transformers (all but init_attn) in forward order."""
        out = []
        for part in (self.input_blocks, [self.middle_block], self.output_blocks):
            for block in part:
                out += [m for m in block if isinstance(m, TemporalTransformer)]
        return out

    def forward(self, x, t, context, fps=None, controls=None):
        """x [B, C, F, H, W]; t [B] timesteps; context [B, L, D] (repeated over the frames) or [B*F, L, D] (one
        per frame, frame-major within an item); fps [B] or a number (VideoCrafter2's default 16; VSTAR samples
        with 28). Returns eps [B, C, F, H, W]."""
        b, _, frames = x.shape[:3]
        if t.dim() == 0:
            t = t.expand(b)
        mc = self.cfg["model_channels"]
        emb = self.time_embed(timestep_embedding(t, mc).to(x.dtype))
        if hasattr(self, "fps_embedding"):
            if not torch.is_tensor(fps):
                fps = torch.full((b,), 16.0 if fps is None else float(fps))
            emb = emb + self.fps_embedding(timestep_embedding(fps, mc).to(x.dtype))
        emb = emb.repeat_interleave(frames, dim=0)
        if context.shape[0] != b * frames:
            context = context.repeat_interleave(frames, dim=0)
        h, hs = to_frames(x), []
        for i, module in enumerate(self.input_blocks):
            h = module(h, emb, context, frames, controls)
            if i == 0 and hasattr(self, "init_attn"):
                h = self.init_attn(h, emb, context, frames, controls)
            hs.append(h)
        h = self.middle_block(h, emb, context, frames, controls)
        for module in self.output_blocks:
            h = module(torch.cat([h, hs.pop()], dim=1), emb, context, frames, controls)
        return to_video(self.out(h), frames)


def inflated_name(name2d, cfg):
    """The UNet3D name of a 2-D UNet parameter (ldm_unet names, no prefix): the middle block's second ResBlock
    moves from middle_block.2 to .3, an output block's Upsample from .2 to .3 (after the temporal transformer)."""
    parts = name2d.split(".")
    if parts[0] == "middle_block" and parts[1] == "2":
        parts[1] = "3"
    if parts[0] == "output_blocks" and parts[2] == "2" and parts[3] == "conv":
        parts[2] = "3"
    return ".".join(parts)


def inflate(state2d, cfg=None):
    """A UNet3D whose spatial layers are the 2-D UNet's (`state2d`: ldm_unet names, no prefix) and whose temporal
    layers are at their initialisation, with fps_embedding's last Linear zeroed too: the result equals the 2-D
    model on every frame (for any fps) until trained."""
    cfg = dict(cfg or DEFAULT_SMALL_VIDEO)
    model = UNet3DModel(cfg)
    own = model.state_dict()
    mapped = {}
    for k, v in state2d.items():
        n = inflated_name(k, cfg)
        if n not in own or own[n].shape != v.shape:
            raise KeyError(f"video_unet.inflate: 2-D parameter {k} has no place {n} of that shape in the UNet3D")
        mapped[n] = v.float()
    missing = [k for k in own if k not in mapped and not is_temporal(k)]
    if missing:
        raise KeyError(f"video_unet.inflate: no 2-D weights for {missing[:5]}")
    model.load_state_dict(dict(own, **mapped))
    if hasattr(model, "fps_embedding"):
        zero_module(model.fps_embedding[2])
    return model


def is_temporal(name):
    """True for the parameters that the UNet3D adds to the 2-D UNet."""
    if ".temopral_conv." in name or name.startswith(("init_attn.", "fps_embedding.")):
        return True
    parts = name.split(".")
    if parts[0] in ("input_blocks", "output_blocks"):
        return parts[2] == "2" and parts[3] in ("norm", "proj_in", "proj_out", "transformer_blocks")
    return parts[0] == "middle_block" and parts[1] == "2"


def load_inflated(path):
    """The exported 2-D UNet at `path` (model.diffusion_model.* names, .json config beside), inflated."""
    from .exports import load_json_beside, load_prefixed
    sd, _ = load_prefixed(path, "model.diffusion_model.")
    cfg = load_json_beside(path)
    cfg = dict(DEFAULT_SMALL_VIDEO, **{k: v for k, v in cfg.items() if k in ldm_unet.SD15})
    return inflate(sd, cfg)


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def describe(model):
    """A one-line summary (for logs)."""
    tt = model.temporal_transformers()
    return (f"UNet3D: {num_params(model) / 1e6:.2f}M parameters, {len(tt)} temporal transformers"
            f"{' + init_attn' if hasattr(model, 'init_attn') else ''}, fps {'on' if hasattr(model, 'fps_embedding') else 'off'}")

