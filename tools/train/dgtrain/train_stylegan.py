"""Trains the micro StyleGAN2 (dgtrain.stylegan2) on world images of every style: non-saturating logistic loss,
lazy R1 on reals (every --r1-every steps, weight x interval), an EMA of G (exported), mapping w_avg tracked.

Example: cd tools/train && /usr/bin/python3 -m dgtrain.train_stylegan --data ../../data/world/train \
    --out ../../runs/stylegan --steps 20000 --batch 8 --export ../../assets/models/stylegan2_world
Resumes from runs/NAME/ckpt.pt; log in runs/NAME/log.txt; the export is G_ema with StyleGAN2-ADA names.
"""
import torch
import torch.nn.functional as F

from . import plumbing as P
from . import stylegan2 as S
from .clip_model import frechet, load_clip
from .exports import export, load_json_beside
from .world_data import WorldTensors


def r1_penalty(d, real):
    real = real.detach().requires_grad_(True)
    logits = d(real)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.square().sum(dim=[1, 2, 3]).mean()


class FDTracker:
    """Frechet distance between the evaluation CLIP's image-tower features of `count` real images and of as
    many G_ema samples (fixed z, const noise); with count below the feature width (256) it tracks a trend and
    is not comparable to an FD of other counts."""

    def __init__(self, features, real, count, seed=0):
        self.features, self.count = features, count
        self.z_gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.real = torch.cat([features(real[i:i + 16]) for i in range(0, len(real), 16)])

    @torch.no_grad()
    def __call__(self, g):
        z = torch.randn(self.count, g.z_dim, generator=self.z_gen.manual_seed(0))
        dev = next(g.parameters()).device
        imgs = [g(z[i:i + 16].to(dev), noise_mode="const").clamp(-1, 1).cpu() for i in range(0, self.count, 16)]
        feats = torch.cat([self.features(x) for x in imgs])
        return frechet(feats, self.real)


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=2.5e-3, batch=8)
    ap.add_argument("--max-images", type=int, default=0, help="use at most this many images (0 = all)")
    ap.add_argument("--r1-gamma", type=float, default=1.0)
    ap.add_argument("--r1-every", type=int, default=16, help="lazy R1 interval")
    ap.add_argument("--ema-kimg", type=float, default=2.0, help="EMA half-life in thousands of images")
    ap.add_argument("--fd-clip", help="evaluation CLIP (clip.safetensors, .json beside) for the FD of G_ema")
    ap.add_argument("--fd-every", type=int, default=0, help="FD every N steps and at the end (needs --fd-clip)")
    ap.add_argument("--fd-count", type=int, default=64, help="real and generated images of the FD")
    args = ap.parse_args(argv)
    P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    cfg = S.config(load_json_beside("", args.config) if args.config else None)
    data = WorldTensors(args.data, max_images=args.max_images)
    size = tuple(data.images.shape[2:])
    want = (cfg["base"][0] * cfg["resolution"] // 4, cfg["base"][1] * cfg["resolution"] // 4)
    dev = args.device
    g, d = S.Generator(cfg).to(dev), S.Discriminator(cfg).to(dev)
    g_ema = S.Generator(cfg).to(dev).eval()
    g_ema.load_state_dict(g.state_dict())
    betas = (0.0, 0.99)
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=betas, eps=1e-8)
    c = args.r1_every / (args.r1_every + 1)  # ADA's lazy-regularisation correction of lr and betas
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr * c, betas=(0.0, 0.99 ** c), eps=1e-8)
    batches = P.Batches(len(data), args.batch, args.seed)
    ck, state = P.Checkpoint.begin(args, log, command)
    step = 0
    if state:
        g.load_state_dict(state["g"]); d.load_state_dict(state["d"]); g_ema.load_state_dict(state["g_ema"])
        opt_g.load_state_dict(state["opt_g"]); opt_d.load_state_dict(state["opt_d"])
        step = ck.restore(state, batches)
    log(f"stylegan2: G {sum(p.numel() for p in g.parameters())} D {sum(p.numel() for p in d.parameters())} "
        f"parameters, {len(data)} images {size} -> {want}, config {cfg}")
    ema_beta = 0.5 ** (args.batch / max(args.ema_kimg * 1000, 1e-8))
    fd = None
    fds = state.get("fds", []) if state else []
    if args.fd_clip:
        clip = load_clip(args.fd_clip, load_json_beside(args.fd_clip)).eval()
        idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))[:args.fd_count].tolist()
        real = data.images[idx].float() / 127.5 - 1.0
        if tuple(real.shape[2:]) != want:
            real = F.interpolate(real, size=want, mode="area")
        fd = FDTracker(clip.image, real, len(idx))

    def snapshot():
        return dict(P.Checkpoint.common(step, batches), g=g.state_dict(), d=d.state_dict(), g_ema=g_ema.state_dict(),
                    opt_g=opt_g.state_dict(), opt_d=opt_d.state_dict(), fds=fds)

    meter = P.Meter()
    budget = P.Budget(args.steps, args.budget_seconds)
    last = {}
    while not budget.done(step):
        real = data.batch(batches.next(), dev, hflip=True)[0]
        if tuple(real.shape[2:]) != want:
            real = F.interpolate(real, size=want, mode="area")
        z = torch.randn(real.shape[0], cfg["z_dim"], device=dev)
        # G: non-saturating loss softplus(-D(G(z)))
        loss_g = F.softplus(-d(g(z, update_emas=True))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        # D: softplus(D(fake)) + softplus(-D(real)), lazy R1
        with torch.no_grad():
            fake = g(torch.randn_like(z))
        loss_d = F.softplus(d(fake)).mean() + F.softplus(-d(real)).mean()
        r1 = None
        if args.r1_every and step % args.r1_every == 0:
            r1 = r1_penalty(d, real)
            loss_d = loss_d + r1 * (args.r1_gamma / 2) * args.r1_every
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        with torch.no_grad():
            for pe, p in zip(g_ema.parameters(), g.parameters()):
                pe.copy_(p.lerp(pe, ema_beta))
            for be, b in zip(g_ema.buffers(), g.buffers()):
                be.copy_(b)
        step += 1
        vals = {"loss_g": loss_g.item(), "loss_d": loss_d.item() - (r1.item() * args.r1_gamma / 2 * args.r1_every
                                                                      if r1 is not None else 0.0)}
        if r1 is not None:
            vals["r1"] = r1.item()
        meter.add(real.shape[0], **vals)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            last = r
            log(f"step {step} loss_g {r['loss_g']:.4f} loss_d {r['loss_d']:.4f}"
                + (f" r1 {r['r1']:.4f}" if "r1" in r else "") + f" s/step {r['s_per_step']:.3f}")
        if fd is not None and args.fd_every and step % args.fd_every == 0 and not budget.done(step):
            fds.append({"step": step, "fd": fd(g_ema)})
            log(f"fd step {step} {fds[-1]['fd']:.4f}")
        ck.save(snapshot)
    if fd is not None and (not fds or fds[-1]["step"] != step):
        fds.append({"step": step, "fd": fd(g_ema)})
        log(f"fd step {step} {fds[-1]['fd']:.4f}")
    log(meter.summary("stylegan2"))
    ck.save(snapshot, force=True)
    summary = {"steps": step, "config": cfg, "images": len(data), "last_log": last, "fds": fds}
    if args.export:
        export(args.export, S.state_for_export(g_ema), "", cfg,
               {"format": "stylegan2-ada-names", "training": {"command": command, "steps": step}})
        summary["export"] = args.export
        log(f"exported {args.export}")
    P.write_summary(args.out, summary, command, log)
    return summary


if __name__ == "__main__":
    main()
