"""Trains the Masked Noise Encoder (dgtrain.mne) on a frozen StyleGAN2 generator (an export of train_stylegan):
half of each batch real world images, half generator samples whose ws are known. Loss (methods.md section 1,
without the discriminator terms): MSE of the reconstruction on the pixels kept by the noise masks + a perceptual
distance (dgtrain.perceptual on the evaluation segmenter's features; no pretrained VGG here) + L1 of the noise
maps + the W+ regression on the generated half (lambda_w cooled linearly to 0 over --w-cool steps). --mode picks
the ablation: wplus (no noise maps), noise (maps, no masking), masked (maps, P x P patches masked at --mask-ratio).

Example: cd tools/train && /usr/bin/python3 -m dgtrain.train_mne --data ../../data/world/train \
    --val ../../data/world/val --generator ../../runs/stylegan/g_ema.safetensors --mode masked \
    --perceptual ../../assets/models/eval_segmenter.safetensors --out ../../runs/mne --steps 2000 --batch 8 \
    --export ../../runs/mne/mne
Resumes from runs/NAME/ckpt.pt; log in runs/NAME/log.txt; the export (float16) holds the encoder with the
reference's names and a .json record (config, mode, generator digest, steps, the held-out PSNR)."""
import math
import os

import torch
import torch.nn.functional as F

from . import mne as M
from .mne import psnr, reconstruct
from . import plumbing as P
from . import stylegan2 as S
from .exports import export, file_digest, load_json_beside
from .perceptual import Perceptual
from .world_data import WorldTensors


@torch.no_grad()
def evaluate(e, g, data, count, batch=8):
    """Mean PSNR (dB) and MSE of the reconstructions of the first `count` images of data."""
    was = e.training
    e.eval()
    ps, ms = [], []
    for i in range(0, min(count, len(data)), batch):
        img = data.batch(list(range(i, min(i + batch, count, len(data)))), "cpu")[0]
        rec = reconstruct(e, g, img)
        ps.append(psnr(rec, img))
        ms.append(((rec.clamp(-1, 1) - img) / 2).square().mean(dim=(1, 2, 3)))
    e.train(was)
    return torch.cat(ps).mean().item(), torch.cat(ms).mean().item()


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=3e-4, batch=8)
    # --config: the encoder's sizes (keys of dgtrain.mne.DEFAULT); image, ws and the noise block come from G
    ap.add_argument("--generator", required=True, help="the frozen generator (train_stylegan export, .json beside)")
    ap.add_argument("--mode", choices=M.MODES, default="masked")
    ap.add_argument("--perceptual", help="network of the perceptual term (eval_segmenter.safetensors); none: no term")
    ap.add_argument("--lambda-perc", type=float, default=1.0)
    ap.add_argument("--lambda-noise", type=float, default=0.1, help="L1 of the noise maps")
    ap.add_argument("--lambda-w", type=float, default=0.1, help="W+ regression on the generated half")
    ap.add_argument("--w-cool", type=int, nargs=2, default=[0, 0], metavar=("FROM", "TO"),
                    help="lambda_w falls linearly to 0 between these steps (0 0: constant)")
    ap.add_argument("--mask-ratio", type=float, default=0.25)
    ap.add_argument("--patch", type=int, default=4, help="mask patch side in noise-map pixels")
    ap.add_argument("--max-images", type=int, default=0)
    ap.add_argument("--val-count", type=int, default=64, help="held-out images of the PSNR")
    ap.add_argument("--val-every", type=int, default=200)
    ap.add_argument("--export-best", action="store_true",
                    help="export at each validation whose PSNR beats every earlier one (a run stopped at any time "
                         "leaves its best encoder), not only at the end")
    ap.add_argument("--init", help="start from another run's encoder (its ckpt.pt, or an export), e.g. when the "
                                   "generator moved on: a fresh run's step count and optimiser")
    args = ap.parse_args(argv)
    P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    g = S.load_generator(args.generator).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    data = WorldTensors(args.data, max_images=args.max_images)
    val = WorldTensors(args.val, max_images=args.val_count) if args.val else None
    h, w = data.images.shape[2:]
    (bh, bw), res = g.cfg["base"], g.cfg["resolution"]
    if (h, w) != (bh * res // 4, bw * res // 4):
        raise SystemExit(f"{args.data}: {h}x{w} images, the generator makes {bh * res // 4}x{bw * res // 4}")
    noise_res = h // 4  # the generator block at 1/4 of the image (its name is its height)
    over = load_json_beside("", args.config) if args.config else {}
    cfg = M.config(dict(over, image=[h, w], num_ws=g.num_ws, w_dim=g.w_dim, noise_res=noise_res,
                        noise_channels=g.cfg["channels"][str(noise_res)]))
    e = M.FPNEncoder(cfg, args.mode)
    e.init_latent_avg(g.mapping.w_avg)
    if args.init:
        init = torch.load(args.init, map_location="cpu")["e"] if args.init.endswith(".pt") else \
            M.load_encoder(args.init).state_dict()
        e.load_state_dict(init, strict=False)
    perc = Perceptual(args.perceptual) if args.perceptual else None
    opt = torch.optim.Adam(e.parameters(), lr=args.lr, betas=(0.9, 0.99))
    batches = P.Batches(len(data), max(1, args.batch // 2), args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    ck, state = P.Checkpoint.begin(args, log, command)
    step, vals = 0, []
    if state:
        e.load_state_dict(state["e"]); opt.load_state_dict(state["opt"]); gen.set_state(state["gen"])
        step, vals = ck.restore(state, batches), state.get("vals", [])
        P.set_lr(opt, args.lr)  # a resumed run takes the --lr given now
    log(f"mne ({args.mode}): E {sum(p.numel() for p in e.parameters())} parameters, G {args.generator}, "
        f"{len(data)} images, config {cfg}")

    def snapshot():
        return dict(P.Checkpoint.common(step, batches), e=e.state_dict(), opt=opt.state_dict(), gen=gen.get_state(),
                    vals=vals)

    def export_encoder():
        record = {"format": "issa-fpn-encoder-names", "mode": args.mode,
                  "generator": {"path": os.path.abspath(args.generator), "sha1": file_digest(args.generator)},
                  "training": {"command": command, "steps": step, "val": vals[-1] if vals else None}}
        export(args.export, M.state_for_export(e.eval()), "", dict(cfg, mode=args.mode), record, half=True)
        e.train()
        log(f"exported {args.export} (float16) at step {step}")

    def validate():
        if val is not None:
            p, m = evaluate(e, g, val, args.val_count)
            best = max((v["psnr"] for v in vals), default=float("-inf"))
            vals.append({"step": step, "psnr": p, "mse": m})
            log(f"val step {step} psnr {p:.3f} mse {m:.5f}")
            if args.export and args.export_best and p > best:
                export_encoder()

    meter = P.Meter()
    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        real = data.batch(batches.next(), "cpu", hflip=True)[0]
        nb = real.shape[0]
        with torch.no_grad():  # the generated half: ws known
            ws_gt = g.mapping(torch.randn(nb, g.z_dim, generator=gen))
            fake_src = g.synthesis(ws_gt, noise_mode="random")
        img = torch.cat([real, fake_src.clamp(-1, 1)])
        ws, noises = e(img)
        keeps = []
        if args.mode == "masked":
            masked = [M.mask_noise(n, args.patch, args.mask_ratio, gen) for n in noises]
            noises_in, keeps = [m for m, _ in masked], [k for _, k in masked]
        else:
            noises_in = noises
        rec = g.synthesis(ws, noise_mode="const", noises=e.noise_dict(noises_in))
        keep = M.keep_mask(keeps, img.shape[2:]) if keeps else torch.ones_like(img[:, :1])
        loss_mse = ((rec - img) * keep).square().mean()
        loss_perc = perc(rec, img).mean() if perc else torch.zeros(())
        loss_noise = torch.stack([n.abs().mean() for n in noises]).mean() if noises else torch.zeros(())
        lw = args.lambda_w
        c0, c1 = args.w_cool
        if c1 > c0:
            lw *= min(1.0, max(0.0, (c1 - step) / (c1 - c0)))
        loss_w = (ws[nb:] - ws_gt).square().mean()
        loss = loss_mse + args.lambda_perc * loss_perc + args.lambda_noise * loss_noise + lw * loss_w
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        with torch.no_grad():
            p_real = psnr(rec[:nb].detach(), real).mean().item()
        meter.add(img.shape[0], loss=loss.item(), mse=loss_mse.item(), perc=loss_perc.item(), noise=loss_noise.item(),
                  w=loss_w.item(), psnr_train=p_real)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            log(f"step {step} loss {r['loss']:.4f} mse {r['mse']:.4f} perc {r['perc']:.4f} noise {r['noise']:.4f} "
                f"w {r['w']:.4f} psnr_train(masked input) {r['psnr_train']:.2f} s/step {r['s_per_step']:.3f}")
        if args.val_every and step % args.val_every == 0 and not budget.done(step):
            validate()
        ck.save(snapshot)
    if not vals or vals[-1]["step"] != step:
        validate()
    log(meter.summary("mne"))
    ck.save(snapshot, force=True)
    summary = {"steps": step, "mode": args.mode, "config": cfg, "vals": vals}
    if args.export and not args.export_best:
        export_encoder()
    if args.export:
        summary["export"] = args.export
    P.write_summary(args.out, summary, command, log)
    return summary


if __name__ == "__main__":
    main()
