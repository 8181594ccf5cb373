"""Trains the KL autoencoder (LDM naming, f=8: 128x256 RGB -> 4x16x32 latents) on world images.

Trains on random crops (--crop, default 64x128: a quarter of the pixels per step) and evaluates on whole images.
Loss: L1 + grad_weight * L1 of the image gradients (keeps edges sharp, a cheap stand-in for a perceptual
loss: no pretrained network may be downloaded) + kl_weight * KL, and from --adv-start on a hinge PatchGAN term
(weight --adv-weight; 0 turns it off). PSNR on the held-out split (--val, or the last --val-frac of --data) is
logged every --eval-every steps and at the end. At export the latent scale factor 1/std(latents) is measured
and stored in the config, as SD's 0.18215 was.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.train_vae --data ../../data/world/train \
        --val ../../data/world/test --out ../../runs/vae --steps 6000 --batch 8 --lr 2e-4 \
        --export ../../assets/models/vae.safetensors
Resumes from runs/NAME/ckpt.pt automatically; losses are appended to runs/NAME/log.txt. With --device cuda the
images are resident on the GPU and flipped there, under bfloat16 autocast (--resident, --bf16).
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import REPO, ldm_vae
from . import plumbing as P
from . import resident
from .exports import export as export_files
from .exports import load_json_beside, load_prefixed
from .ldm_unet import GroupNorm32
from .ldm_vae import grad_l1, psnr_each, reconstruct
from .world_data import load_palette, split_data


class PatchDisc(nn.Module):
    """Small PatchGAN discriminator (LDM's NLayerDiscriminator shape, GroupNorm instead of BatchNorm)."""

    def __init__(self, ch=32, layers=3):
        super().__init__()
        mods, c = [nn.Conv2d(3, ch, 4, 2, 1), nn.LeakyReLU(0.2)], ch
        for i in range(1, layers):
            mods += [nn.Conv2d(c, c * 2, 4, 2, 1), GroupNorm32(c * 2, groups=8), nn.LeakyReLU(0.2)]
            c *= 2
        mods += [nn.Conv2d(c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x)


def kl_loss(mean, logvar):
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=(1, 2, 3)).mean()


def psnr(vae, data, device, batch=16, perceptual=None):
    """Mean PSNR (dB) over the images of `data`; with a perceptual distance, (PSNR, mean distance)."""
    vae.eval()
    vals, dist = [], []
    for s in range(0, len(data), batch):
        x, _, _ = data.batch(list(range(s, min(len(data), s + batch))), device)
        rec = reconstruct(vae, x)
        vals += psnr_each(x, rec)
        if perceptual is not None:
            with torch.no_grad():
                dist += perceptual(rec, x).tolist()
    vae.train()
    p = sum(vals) / len(vals)
    return (p, sum(dist) / len(dist)) if perceptual is not None else p


@torch.no_grad()
def latent_std(vae, data, device, n=256, batch=16):
    zs = []
    for s in range(0, min(n, len(data)), batch):
        x, _, _ = data.batch(list(range(s, min(len(data), s + batch, n))), device)
        zs.append(vae.encode(x).cpu())
    return torch.cat(zs).std().item()


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=2e-4, batch=8)
    P.add_split_args(ap)
    ap.add_argument("--kl-weight", type=float, default=1e-6)
    ap.add_argument("--grad-weight", type=float, default=0.5)
    ap.add_argument("--adv-weight", type=float, default=0.0, help="hinge PatchGAN weight (0 = off)")
    ap.add_argument("--adv-start", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--crop", default="64x128", help="random training crop HxW (multiple of 8; 0 = full image)")
    ap.add_argument("--init", help="exported VAE to continue from (its config replaces --config; recorded under init)")
    ap.add_argument("--decoder-only", action="store_true",
                    help="train the decoder alone: the latent space and scale factor stay --init's, so a UNet and "
                         "ControlNets trained on its latents keep working")
    ap.add_argument("--object-weight", type=float, default=0.0,
                    help="extra L1 weight on pixels of --object-classes (small objects whose colour a caption names)")
    ap.add_argument("--object-classes", default="car,person,pole,sign")
    ap.add_argument("--perceptual-weight", type=float, default=0.0,
                    help="weight of the perceptual distance (dgtrain.perceptual) between reconstruction and image")
    ap.add_argument("--perceptual-net", default=os.path.join(REPO, "assets", "models", "eval_segmenter.safetensors"),
                    help="the trained network whose features the perceptual distance compares")
    ap.add_argument("--d-start", type=int, default=-1,
                    help="step from which the discriminator trains (default --adv-start; earlier warms it up)")
    ap.add_argument("--val-count", type=int, default=200, help="held-out images of each evaluation")
    P.add_export_best_args(ap, "--eval-every")
    ap.add_argument("--psnr-slack", type=float, default=0.3,
                    help="--export-best with --perceptual-weight: a lower perceptual distance counts at no more than "
                         "this many dB below the starting PSNR (without it, a higher PSNR counts)")
    P.add_speed_args(ap)
    args = ap.parse_args(argv)
    dev = P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    ck, state = P.Checkpoint.begin(args, log, command)
    if args.decoder_only and not args.init:
        raise SystemExit("train_vae: --decoder-only needs --init (the VAE whose latent space is kept)")
    init_cfg = load_json_beside(args.init) if args.init else None
    init_record = {"weights": args.init, "training": init_cfg.get("training")} if init_cfg else None
    if state:  # a resumed run keeps the architecture it was started with
        cfg = state["config"]
    elif init_cfg:  # its architecture and scale factor (export drops its record)
        cfg = init_cfg
    else:
        cfg = ldm_vae.load_config(args.config) if args.config else dict(ldm_vae.DEFAULT_SMALL)
        cfg["resolution"] = 128

    P.check_export_best(args, "--eval-every", "train_vae")
    train, val = split_data(args)
    val = val.subset(range(min(len(val), args.val_count)))
    vae = ldm_vae.AutoencoderKL(cfg).to(dev)
    perc = None
    if args.perceptual_weight:
        from .perceptual import Perceptual
        perc = Perceptual(args.perceptual_net).to(dev)
    if args.init and not state:
        sd, _ = load_prefixed(args.init, "first_stage_model.")
        vae.load_state_dict({k: v.float() for k, v in sd.items()})
    if args.decoder_only:
        for m in (vae.encoder, vae.quant_conv):
            m.requires_grad_(False)
    if args.object_weight:
        names = load_palette()["names"]
        unknown = [c for c in args.object_classes.split(",") if c not in names]
        if unknown:
            raise SystemExit(f"train_vae: --object-classes {unknown} are not world classes ({', '.join(names)})")
        objects = torch.tensor([names.index(c) for c in args.object_classes.split(",")], device=dev)
    disc = PatchDisc().to(dev)
    opt = P.adamw([p for p in vae.parameters() if p.requires_grad], dev, lr=args.lr, betas=(0.5, 0.9),
                  weight_decay=0.0)
    dopt = P.adamw(disc.parameters(), dev, lr=args.lr, betas=(0.5, 0.9), weight_decay=0.0)
    batches = P.Batches(len(train), args.batch, args.seed, device=dev if args.resident else None)
    step = 0
    if state:
        vae.load_state_dict(state["vae"])
        disc.load_state_dict(state["disc"])
        opt.load_state_dict(state["opt"])
        dopt.load_state_dict(state["dopt"])
        step = ck.restore(state, batches)
    else:
        log(f"vae: {P.param_count(vae)} parameters, config {cfg}; {len(train)} train / {len(val)} val images")

    def snapshot():
        return dict(P.Checkpoint.common(step, batches), vae=vae.state_dict(), disc=disc.state_dict(),
                    opt=opt.state_dict(), dopt=dopt.state_dict(), config=cfg, best=best.value, start_psnr=start_psnr)

    def score():
        """(PSNR, perceptual distance or None) on the held-out images."""
        r = psnr(vae, val, dev, perceptual=perc)
        return r if perc is not None else (r, None)

    def improves(p, d):
        """--export-best's test (the best kept when it passes): a lower perceptual distance within the PSNR slack,
        else a higher PSNR."""
        if perc is None:
            return best.offer(p)
        return p >= start_psnr - args.psnr_slack and best.offer(d)

    best = P.BestScore(lower_is_better=perc is not None, value=state.get("best") if state else None)
    start_psnr = state.get("start_psnr") if state else None
    if args.export_best and start_psnr is None:
        start_psnr = 0.0
        if args.init:
            start_psnr, d0 = score()
            improves(start_psnr, d0)
            log(f"start: psnr {start_psnr:.3f} dB" + (f", perceptual {d0:.5f}" if d0 is not None else ""))

    def export(p, d):
        std = latent_std(vae, train, dev)
        if not args.decoder_only:  # else the scale the UNet was trained with stays
            cfg["scale_factor"] = round(1.0 / std, 5) if std > 0 and math.isfinite(std) else 1.0
        record = (f"{command} | steps {step} | psnr {p:.3f} dB"
                  + (f" | perceptual {d:.5f}" if d is not None else "") + f" | latent std {std:.4f}")
        path = export_files(args.export, vae.state_dict(), "first_stage_model.", cfg,
                        {"training": record, **({"init": init_record} if init_record else {})})
        log(f"exported {args.export} and {path} (scale_factor {cfg['scale_factor']})")

    gen = torch.Generator().manual_seed(args.seed + step)  # flips (on the host path) and crop places
    if args.resident:  # the images (and layouts) on the device, flipped there
        res_img = resident.to_device(train.images, dev)
        res_lab = resident.to_device(train.labels, dev) if args.object_weight else None
        gen_dev = torch.Generator(device=dev).manual_seed(args.seed + step)
        log(f"resident on {dev}: images and layouts {resident.megabytes(res_img, res_lab):.0f} MiB")
    crop = None if args.crop in ("0", "") else tuple(int(v) for v in args.crop.lower().split("x"))
    fwd = P.compiled(vae, args, log)
    meter = P.Meter()
    vae.train()
    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        if args.resident:
            x, lab = resident.image_batch(res_img, res_lab, batches.next(), hflip=True, gen=gen_dev)
        else:
            x, lab, _ = train.batch(batches.next(), dev, hflip=True, gen=gen)
        if crop:
            ch, cw = min(crop[0], x.shape[2]), min(crop[1], x.shape[3])
            y0 = int(torch.randint(0, x.shape[2] - ch + 1, (1,), generator=gen))
            x0 = int(torch.randint(0, x.shape[3] - cw + 1, (1,), generator=gen))
            x = x[:, :, y0:y0 + ch, x0:x0 + cw]
            lab = lab[:, y0:y0 + ch, x0:x0 + cw] if lab is not None else None
        vals = {}
        adv_on = args.adv_weight > 0 and step >= args.adv_start
        d_on = args.adv_weight > 0 and step >= (args.d_start if args.d_start >= 0 else args.adv_start)
        with P.autocast(args, dev):
            rec, mean, logvar = fwd(x)
            rec, mean, logvar = rec.float(), mean.float(), logvar.float()
            err = (rec - x).abs()
            if args.object_weight:
                err = err * (1 + args.object_weight * torch.isin(lab, objects).unsqueeze(1))
            l1 = err.mean()
            gl = grad_l1(rec, x)
            kl = kl_loss(mean, logvar)
            loss = l1 + args.grad_weight * gl + args.kl_weight * kl
            if perc is not None:
                pl = perc(rec, x).mean()
                loss = loss + args.perceptual_weight * pl
                vals["perc"] = pl
            if adv_on:
                g_adv = -disc(rec).float().mean()
                loss = loss + args.adv_weight * g_adv
        P.set_lr(opt, P.lr_at(step, args.steps, args.lr, args.warmup or 0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if d_on:
            with P.autocast(args, dev):
                d_loss = F.relu(1 - disc(x).float()).mean() + F.relu(1 + disc(rec.detach()).float()).mean()
            dopt.zero_grad(set_to_none=True)
            d_loss.backward()
            dopt.step()
            vals["d"] = d_loss
        step += 1
        meter.add(x.shape[0], loss=loss, l1=l1, grad=gl, kl=kl, **vals)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            log(f"step {step} " + " ".join(f"{k} {r[k]:.5f}" for k in ("loss", "l1", "grad", "kl", "perc", "d") if k in r)
                + f" s/step {r['s_per_step']:.3f} samples/s {r['samples_per_s']:.1f}")
        if args.eval_every and step % args.eval_every == 0 and not budget.done(step):
            p, d = score()
            log(f"eval step {step} psnr {p:.3f} dB" + (f" perceptual {d:.5f}" if d is not None else "")
                + f" ({len(val)} images)")
            if args.export_best and improves(p, d):
                export(p, d)
            ck.save(snapshot, force=True)
        else:
            ck.save(snapshot)
    log(meter.summary("vae"))
    ck.save(snapshot, force=True)
    p, d = score()
    log(f"final step {step} psnr {p:.3f} dB" + (f" perceptual {d:.5f}" if d is not None else "")
        + f" on {len(val)} held-out images")
    if args.export and (not args.export_best or improves(p, d)):
        export(p, d)
    return p


if __name__ == "__main__":
    main()
