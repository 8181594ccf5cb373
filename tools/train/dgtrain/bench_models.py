"""Measures seconds per training step (forward + backward + AdamW) of the default image models on random
data. It first prints this machine's current matmul and 3x3-conv throughput (idle 2-core reference in
environment.md: ~95 and ~85 GFLOP/s), so numbers taken on a busy machine can be scaled.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.bench_models [--steps 3] [--only unet,vae,...]
"""
import argparse
import time

import torch

from . import controlnet, ldm_unet, ldm_vae


def timeit(step, n):
    """Wall seconds per call; with --cpu-time, CPU seconds of this process per call instead (on a busy machine,
    with --threads 1, close to the wall time the step takes on an idle core)."""
    step()
    clock = time.process_time if CPU_TIME else time.time
    t = clock()
    for _ in range(n):
        step()
    return (clock() - t) / n


CPU_TIME = False


def unet_step(cfg, b, hw, ctx_len=77):
    m = ldm_unet.UNetModel(cfg)
    opt = torch.optim.AdamW(m.parameters(), 1e-4)
    x, c = torch.randn(b, 4, *hw), torch.randn(b, ctx_len, cfg["context_dim"])
    t = torch.randint(0, 1000, (b,))

    def step():
        loss = (m(x, t, c) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m, step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="calib,unet,vae,controlnet,aldm")
    ap.add_argument("--cpu-time", action="store_true", help="report process CPU seconds instead of wall seconds")
    a = ap.parse_args()
    global CPU_TIME
    CPU_TIME = a.cpu_time
    torch.set_num_threads(a.threads)
    only = a.only.split(",")
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    if "calib" in only:
        x, y = torch.randn(1024, 1024), torch.randn(1024, 1024)
        dt = timeit(lambda: x @ y, 5)
        conv, img = torch.nn.Conv2d(64, 64, 3, padding=1), torch.randn(32, 64, 32, 32)
        with torch.no_grad():
            dc = timeit(lambda: conv(img), 3)
        print(f"machine now: matmul {2 * 1024 ** 3 / dt / 1e9:.1f} GFLOP/s, conv3x3 "
              f"{2 * 64 * 64 * 9 * 32 * 32 * 32 / dc / 1e9:.1f} GFLOP/s", flush=True)
    if "unet" in only:
        m, s = unet_step(dict(ldm_unet.DEFAULT_SMALL), 32, (16, 32))
        print(f"default UNet {n(m) / 1e6:.2f}M, 16x32 latents, batch 32: {timeit(s, a.steps):.3f} s/step", flush=True)
    if "vae" in only:
        v = ldm_vae.AutoencoderKL(dict(ldm_vae.DEFAULT_SMALL))
        opt = torch.optim.AdamW(v.parameters(), 1e-4)
        x = torch.rand(8, 3, 64, 128) * 2 - 1

        def vstep():
            rec, mean, logvar = v(x)
            loss = (rec - x).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"default VAE {n(v) / 1e6:.2f}M, 64x128 crops, batch 8: {timeit(vstep, a.steps):.3f} s/step", flush=True)
    if "controlnet" in only:
        ucfg = dict(ldm_unet.DEFAULT_SMALL)
        u = ldm_unet.UNetModel(ucfg)
        for p in u.parameters():
            p.requires_grad_(False)
        c = controlnet.ControlNet(controlnet.small_config(ucfg, "id", 256))
        opt = torch.optim.AdamW(c.parameters(), 1e-4)
        b = 16
        x, ctx, h = torch.randn(b, 4, 16, 32), torch.randn(b, 77, 256), torch.randn(b, 256, 32, 64)
        t = torch.randint(0, 1000, (b,))

        def cstep():
            loss = (u(x, t, ctx, c(x, h, t, ctx)) - x).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"ControlNet (id hint) {n(c) / 1e6:.2f}M on the default UNet, batch 16, diffusion loss only: "
              f"{timeit(cstep, a.steps):.3f} s/step", flush=True)
    if "aldm" in only:
        # the extra work of one ALDM adversarial step: 4 images, K = 9 unrolled DDIM steps, each decoded by the
        # default VAE and segmented by the default discriminator; gradient through the first step only
        from . import diffusion, segmenter
        ucfg = dict(ldm_unet.DEFAULT_SMALL)
        u, v = ldm_unet.UNetModel(ucfg), ldm_vae.AutoencoderKL(dict(ldm_vae.DEFAULT_SMALL))
        d = segmenter.UperNet(dict(segmenter.DEFAULT, num_classes=15, norm="gn"))
        for p in list(u.parameters()) + list(v.parameters()) + list(d.parameters()):
            p.requires_grad_(False)
        c = controlnet.ControlNet(controlnet.small_config(ucfg, "id", 256))
        ddim = diffusion.DDIM(diffusion.Schedule(), 25)
        b = 4
        x, ctx, h = torch.randn(b, 4, 16, 32), torch.randn(b, 77, 256), torch.randn(b, 256, 32, 64)
        lab = torch.randint(0, 14, (b, 128, 256))

        def astep():
            t = torch.full((b,), int(ddim.ts[20]))
            xp, x0 = ddim.step(x, u(x, t, ctx, c(x, h, t, ctx)), 20)
            ce0 = torch.nn.functional.cross_entropy(d(v.decode(x0)), lab, reduction="none")
            with torch.no_grad():
                for k in range(1, 10):
                    tk = torch.full((b,), int(ddim.ts[20 - k]))
                    xp, x0 = ddim.step(xp, u(xp, tk, ctx, c(xp, h, tk, ctx)), 20 - k)
                    torch.nn.functional.cross_entropy(d(v.decode(x0)), lab, reduction="none")
            ce0.mean().backward()
        print(f"ALDM adversarial step (4 images, K = 9), on top of the diffusion step every 8 steps: "
              f"{timeit(astep, a.steps):.3f} s", flush=True)


if __name__ == "__main__":
    main()
