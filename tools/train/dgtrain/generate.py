"""Image generation from exported weights with the PyTorch reference (what the engine computes): the
Generator of sample_image and eval_models, and the sample grids the trainers write while they run."""
import numpy as np
import torch

from . import controlnet, diffusion
from .clip_text import TextCond
from .ldm_unet import load_unet
from .ldm_vae import load_vae


def save_grid(images, path, cols=4):
    """Images [B,3,H,W] in [-1,1] as one PNG, `cols` to a row."""
    from PIL import Image
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    n, h, w, _ = x.shape
    rows = (n + cols - 1) // cols
    grid = np.zeros((rows * h, cols * w, 3), dtype=np.uint8)
    for i in range(n):
        grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = x[i]
    Image.fromarray(grid).save(path)


@torch.no_grad()
def sample_grid(unet, vae, text, captions, shape, device, path, seed=0, steps=25, scale=7.5, control_fn=None):
    """DDIM samples of `captions` (with control_fn(x, t, ctx) -> residuals when given), CFG `scale`, in [-1, 1]
    unclamped; writes them as a PNG grid unless `path` is None. The UNet's train/eval mode is left as it was."""
    was = unet.training
    unet.eval()
    cond = text(captions)
    uncond = text([""] * len(captions))
    sched = diffusion.Schedule()

    def fn(x, t, c):
        ctl = control_fn(x, t, c) if control_fn else None
        return unet(x, t, c, ctl)

    z, _ = diffusion.DDIM(sched, steps).sample(fn, (len(captions),) + tuple(shape), seed, cond, uncond, scale, device=device)
    img = vae.decode(z / vae.scale_factor)
    if path:
        save_grid(img, path)
    unet.train(was)
    return img


class Generator:
    """Exported UNet + VAE + text encoder (+ optional ControlNet): prompts (and label maps) -> images in [-1,1]."""

    def __init__(self, unet, vae, text_encoder, tokenizer, text_config=None, controlnet_path=None):
        self.unet, _ = load_unet(unet, "cpu")
        self.vae = load_vae(vae, "cpu")
        self.text = TextCond(text_encoder, tokenizer, text_config, "cpu")
        self.f = 2 ** (len(self.vae.cfg["ch_mult"]) - 1)
        self.cn = None
        if controlnet_path:
            self.cn, self.cn_cfg, self.table = controlnet.load_controlnet(controlnet_path)

    def hint(self, labels, lh, lw):
        if self.cn_cfg["hint_mode"] == "id":
            return controlnet.id_hint(labels, self.table, (2 * lh, 2 * lw))
        from .world_data import load_palette
        return controlnet.colour_hint(labels, torch.as_tensor(load_palette()["colors"]))

    @torch.no_grad()
    def __call__(self, prompts, labels=None, seed=0, negative="", sampler="ddim", steps=25, eta=0.0, cfg=7.5,
                 latent=(16, 32), control_scale=1.0):
        """prompts: list of B strings; labels: int64 [B,H,W] class ids (needs a ControlNet), its residuals scaled by
        control_scale (the engine's --control-scale). Returns [B,3,H,W]."""
        b = len(prompts)
        cond, uncond = self.text(prompts), self.text([negative] * b)
        lh, lw = latent
        control_fn = None
        if labels is not None:
            if self.cn is None:
                raise ValueError("a layout needs a ControlNet")
            lh, lw = labels.shape[1] // self.f, labels.shape[2] // self.f
            hint = self.hint(labels, lh, lw)

            scales = None if control_scale == 1.0 else [control_scale] * len(self.cn.zero_convs) + [control_scale]

            def control_fn(x, t, c):
                return self.cn(x, torch.cat([hint] * (x.shape[0] // b)), t, c, scales)

        def fn(x, t, c):
            return self.unet(x, t, c, control_fn(x, t, c) if control_fn else None)

        sched = diffusion.Schedule()
        smp = diffusion.DDIM(sched, steps, eta) if sampler == "ddim" else diffusion.PLMS(sched, steps)
        z, _ = smp.sample(fn, (b, self.unet.cfg["in_channels"], lh, lw), seed, cond, uncond, cfg)
        return self.vae.decode(z / self.vae.scale_factor)
