"""What the video trainer, the exporter and the sampler share: the image UNet inflated into the UNet3D
(video_unet.inflate), the temporal/spatial split of its parameters, clip latents through the shipped VAE
(cached), the held-out diffusion loss at fixed timesteps and noise, the temporal coherence metric, and the
export in VideoCrafter2's names."""
import hashlib
import os

import torch
import torch.nn.functional as F

from . import safetensors_io, video_unet
from .exports import export, load_json_beside, load_prefixed
from .latents import cached_latents


def inflated_from_image(path, device="cpu"):
    """(UNet3D, config) from an exported image UNet: its spatial weights, temporal layers zero on their outputs,
    so the start equals the image model on every frame."""
    model = video_unet.load_inflated(path).to(device)
    return model, dict(model.cfg)


def load_temporal(model, path):
    """Copies every temporal layer (video_unet.is_temporal) of the video export at path into model and leaves
    the spatial ones: temporal layers trained over an earlier base UNet start a run over a new one. Returns
    the number of tensors copied; a missing or misshapen temporal tensor is an error naming it."""
    sd, _ = safetensors_io.load(path)
    own = model.state_dict()
    take = {k[len(PREFIX):]: v for k, v in sd.items()
            if k.startswith(PREFIX) and video_unet.is_temporal(k[len(PREFIX):])}
    bad = [f"{k} {tuple(v.shape)}" for k, v in take.items() if k not in own or own[k].shape != v.shape]
    missing = [k for k in own if video_unet.is_temporal(k) and k not in take]
    if bad or missing:
        raise KeyError(f"load_temporal: {path} does not fit the model: unknown or misshapen {bad[:3]}, "
                       f"missing {missing[:3]}")
    model.load_state_dict({k: v.float() for k, v in take.items()}, strict=False)
    return len(take)


def check_same_base(saved, model, path):
    """Refuses to resume a frozen-spatial checkpoint over another base UNet than the one at path (model is it
    inflated): its temporal layers were trained for the old spatial ones, and the export would not fit either."""
    for k, v in model.state_dict().items():
        w = saved.get(k)
        if not video_unet.is_temporal(k) and w is not None and w.shape == v.shape and \
                not torch.allclose(w.float(), v.float(), rtol=1e-3, atol=1e-5):
            raise SystemExit(f"train_video: the checkpoint's spatial layers differ from {path} (e.g. {k}): it was "
                             "trained over another base UNet; start a fresh --out (--temporal-from its export "
                             "keeps its temporal layers)")


def split_params(model):
    """(temporal, spatial) parameter lists (video_unet.is_temporal)."""
    temporal, spatial = [], []
    for n, p in model.named_parameters():
        (temporal if video_unet.is_temporal(n) else spatial).append(p)
    return temporal, spatial


def param_groups(model, lr, spatial_scale=0.0):
    """Optimiser groups: the temporal layers at lr; the spatial ones frozen (requires_grad off, no gradient
    computed for them) unless spatial_scale > 0, then tuned lightly at lr x spatial_scale."""
    temporal, spatial = split_params(model)
    for p in spatial:
        p.requires_grad_(spatial_scale > 0)
    groups = [{"params": temporal, "lr_scale": 1.0}]
    if spatial_scale > 0:
        groups.append({"params": spatial, "lr_scale": spatial_scale})
    return groups


def set_group_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)


def clip_latents(args, vae, clips, device, tag):
    """Scaled VAE posterior means of every frame, [N, C, F, h, w] (VideoCrafter2's layout), cached beside the
    run folder as latents.cached_latents caches images."""
    n, f = clips.frames.shape[:2]
    z = cached_latents(args, vae, clips.as_images(), device, tag)
    return z.reshape((n, f) + tuple(z.shape[1:])).transpose(1, 2).contiguous()


@torch.no_grad()
def val_loss(unet, z, ctx, sched, fps, seed=0, draws=2, batch=4):
    """Mean diffusion loss over held-out clip latents [N,C,F,h,w] at fixed, evenly spaced timesteps and fixed
    noise: moves only when the weights do."""
    was = unet.training
    unet.eval()
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    n = len(z)
    for d in range(draws):
        t = ((torch.arange(n) * sched.n // n + d * sched.n // (draws * n)) % sched.n).to(z.device)
        noise = torch.randn(z.shape, generator=gen).to(z.device)
        for s in range(0, n, batch):
            sl = slice(s, s + batch)
            eps = unet(sched.q_sample(z[sl], t[sl], noise[sl]), t[sl], ctx[sl], fps=fps)
            total += F.mse_loss(eps.float(), noise[sl], reduction="sum").item()
    unet.train(was)
    return total / (draws * z.numel())


def adjacent_l1(frames):
    """Temporal coherence: mean |frame k+1 - frame k| over clips [N,F,3,H,W] in 0..255 (uint8 or float
    [-1,1] scaled to it); lower is smoother."""
    x = frames.float()
    if not frames.dtype == torch.uint8:
        x = (x.clamp(-1, 1) + 1) * 127.5
    return (x[:, 1:] - x[:, :-1]).abs().mean().item()


PREFIX = "model.diffusion_model."


def load_video_export(path):
    """(state dict, config) of an exported video UNet. A layers file comes with its base image UNet's tensors
    (exports.load_prefixed); those the inflation renamed (the middle block's second ResBlock and the upsamplers
    move one place on) are not the UNet3D's and are left out, as the engine ignores them."""
    sd, meta = load_prefixed(path, PREFIX)
    cfg = {k: v for k, v in load_json_beside(path).items() if k in video_unet.DEFAULT_SMALL_VIDEO}
    if "dirigent.base" in meta:
        own = video_unet.UNet3DModel(cfg).state_dict()
        sd = {k: v for k, v in sd.items() if k in own}
    return sd, cfg


def export_video(path, state, cfg, metadata=None, over=None):
    """Writes the UNet3D state dict under VideoCrafter2's names; refuses names the UNet3D does not have.
    over: an image UNet safetensors the spatial layers were kept from (frozen in training): only the other
    layers (temporal, fps) are written, with the base's file name and SHA-256 in the metadata, and the engine
    reads the pair as one model (render/io/dg_weights.c add_base). Spatial layers that differ from the base (beyond f16
    rounding) are refused: they would be silently replaced by the base's."""
    own = video_unet.UNet3DModel(cfg).state_dict()
    bad = [k for k in state if k not in own or own[k].shape != state[k].shape]
    if bad:
        raise KeyError(f"export_video: not UNet3D parameters: {bad[:5]}")
    metadata = dict(metadata or {}, model="unet3d")
    if over:
        base, _ = safetensors_io.load(over)
        shared = [k for k in state if PREFIX + k in base]
        # Frozen layers come back from the EMA within f32 rounding (~5e-7), and a base since written as f16
        # within its rounding (2^-11 relative); tuned layers move further.
        moved = [k for k in shared if not torch.allclose(state[k].float(), base[PREFIX + k].float(), rtol=1e-3, atol=1e-5)]
        if moved:
            raise ValueError(f"export_video: {len(moved)} spatial tensors differ from {over} (tuned in training?), "
                             f"e.g. {moved[:3]}: export the whole model instead")
        state = {k: v for k, v in state.items() if PREFIX + k not in base}
        with open(over, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        metadata.update({"dirigent.base": os.path.basename(over), "dirigent.base_sha256": digest})
    return export(path, state, PREFIX, cfg, metadata)
