"""Trains the text-to-image UNet (LDM naming) on VAE latents of world images with text context from the frozen
CLIP text tower: epsilon prediction, SD's scaled-linear schedule, 10% empty-caption dropout (for classifier-free
guidance), EMA of the weights (exported).

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.train_unet --data ../../data/world/train \
        --out ../../runs/unet --vae ../../assets/models/vae.safetensors \
        --text-encoder ../../assets/models/text_encoder.safetensors --tokenizer ../../assets/tokenizer \
        --steps 20000 --batch 32 --lr 2e-4 --export ../../assets/models/unet.safetensors
The latents (posterior means x scale_factor) are computed once and cached in runs/NAME/latents.pt. Resumes
from runs/NAME/ckpt.pt automatically; losses are appended to runs/NAME/log.txt. --sample-every N writes a grid
of DDIM-25 / CFG-7.5 samples of held-out captions to runs/NAME/samples_STEP.png. With --device cuda the latents and
the text states of every caption are resident on the GPU, batches drawn there, under bfloat16 autocast
(--resident, --bf16; docs/train-image-models.md). --attn-loss W adds a token grounding loss on the text
cross-attention (object tokens' attention inside their class masks; dgtrain/attn_loss.py), off by default.
"""
import math
import os
import time

import torch
import torch.nn.functional as F

from . import attn_loss, diffusion, ldm_unet
from . import plumbing as P
from . import resident
from .clip_text import TextCond
from .exports import export as export_files
from .exports import load_json_beside
from .generate import sample_grid
from .latents import cached_latents
from .ldm_vae import load_vae
from .world_data import split_data


@torch.no_grad()
def val_loss(unet, z, ctx, sched, seed=0, draws=4, grounding=None, captions=None):
    """Mean diffusion loss over held-out latents at fixed timesteps (evenly spaced) and fixed noise: a number that
    moves only when the weights do, for deciding whether a continued run has improved. With `grounding` (an
    attn_loss.AttnLoss over the same images) and their `captions`, also the mean grounding loss of the same
    forwards: returns (diffusion loss, grounding loss)."""
    was = unet.training
    unet.eval()
    gen = torch.Generator().manual_seed(seed)
    total, attn, n_attn = 0.0, 0.0, 0
    for d in range(draws):
        t = ((torch.arange(len(z)) * sched.n // len(z) + d * sched.n // (draws * len(z))) % sched.n).to(z.device)
        noise = torch.randn(z.shape, generator=gen).to(z.device)
        for s in range(0, len(z), 32):
            sl = slice(s, s + 32)
            if grounding is not None:
                grounding.keep(True)
            total += F.mse_loss(unet(sched.q_sample(z[sl], t[sl], noise[sl]), t[sl], ctx[sl]), noise[sl],
                                reduction="sum").item()
            if grounding is not None:
                la = grounding(list(range(s, min(s + 32, len(z)))), captions[sl])
                grounding.keep(False)
                if la is not None:
                    attn, n_attn = attn + la.item(), n_attn + 1
    unet.train(was)
    v = total / (draws * z.numel())
    return v if grounding is None else (v, attn / max(n_attn, 1))


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=2e-4, batch=32)
    P.add_split_args(ap)
    P.add_vae_args(ap)
    P.add_text_args(ap)
    ap.add_argument("--drop", type=float, default=0.1, help="empty-caption probability")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--sample-every", type=int, default=0)
    ap.add_argument("--val-every", type=int, default=0,
                    help="every N steps, the EMA weights' diffusion loss on the held-out images (fixed noise)")
    P.add_export_best_args(ap, "--val-every")
    ap.add_argument("--init", help="exported UNet to continue from (its config replaces --config; the export's "
                    "record keeps what it had seen)")
    ap.add_argument("--attn-loss", type=float, default=0.0,
                    help="weight of a token grounding loss on the text cross-attention (dgtrain/attn_loss.py): "
                    "object tokens' attention pushed inside their class masks; 0 = off")
    ap.add_argument("--attn-pixel", type=float, default=0.0,
                    help="--attn-loss's pixel term: this weight x the BCE of each object token's attention (its "
                    "share of the softmax over the text) against its class mask, beside the token term")
    ap.add_argument("--attn-loss-levels", type=int, nargs="*",
                    help="query lengths (h*w) of the attn2 layers the loss reads (default: the largest)")
    P.add_speed_args(ap)
    ap.set_defaults(warmup=500)
    args = ap.parse_args(argv)
    P.check_export_best(args, "--val-every", "train_unet")
    dev = P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)

    train, val = split_data(args)
    vae = load_vae(args.vae, dev)
    text = TextCond(args.text_encoder, args.tokenizer, args.text_config, dev)
    ck, state = P.Checkpoint.begin(args, log, command)
    init_record = None
    if args.init:
        unet, cfg = ldm_unet.load_unet(args.init, dev, frozen=False)
        init_record = {"weights": args.init, "training": load_json_beside(args.init).get("training")}
        if cfg["context_dim"] != text.dim:
            raise SystemExit(f"train_unet: {args.init} has context_dim {cfg['context_dim']}, the text encoder "
                             f"{args.text_encoder} gives {text.dim}")
    if state:  # a resumed run keeps the architecture it was started with
        cfg = state["config"]
    elif not args.init:
        cfg = ldm_unet.load_config(args.config) if args.config else dict(ldm_unet.DEFAULT_SMALL)
        cfg["context_dim"] = text.dim
    z_all = cached_latents(args, vae, train, dev, "train")
    if args.val_every:
        z_val = cached_latents(args, vae, val, dev, "val")
        ctx_val = text([c[0] for c in val.captions])
    if not args.init:
        unet = ldm_unet.UNetModel(cfg).to(dev)
    ema = P.EMA(unet, args.ema)
    opt = P.adamw(unet.parameters(), dev, lr=args.lr, weight_decay=0.01)
    batches = P.Batches(len(train), args.batch, args.seed, device=dev if args.resident else None)
    sched = diffusion.Schedule()
    step = 0
    if state:
        unet.load_state_dict(state["unet"])
        ema.shadow = {k: v.to(dev) for k, v in state["ema"].items()}
        opt.load_state_dict(state["opt"])
        step = ck.restore(state, batches)
    else:
        log(f"unet: {P.param_count(unet)} parameters, config {cfg}; latents {tuple(z_all.shape)}, "
            f"latent std {z_all.std():.4f}; {len(train)} train / {len(val)} val images")

    def snapshot():
        return dict(P.Checkpoint.common(step, batches), unet=unet.state_dict(), ema=ema.shadow, opt=opt.state_dict(),
                    config=cfg, best_val=best.value, val_start=val_start)

    def export(val=None):
        record = f"{command} | steps {step} | EMA {args.ema}" + (f" | val loss {val:.5f}" if val is not None else "")
        with ema.applied(unet):
            path = export_files(args.export, unet.state_dict(), "model.diffusion_model.", cfg,
                                {"training": record, "latent_shape": list(z_all.shape[1:]),
                                 **({"init": init_record} if init_record else {})})
        log(f"exported EMA weights to {args.export} and {path}")

    grounding_val = None
    if args.attn_loss and args.val_every:
        grounding_val = attn_loss.AttnLoss(unet, val, [args.val or args.data], text.tok, z_all.shape[1:], text.dim, dev,
                                           args.attn_loss_levels, log, pixel=args.attn_pixel)

    val_start = state.get("val_start") if state else None

    def val_score(model):
        """(score --export-best compares, log text, diffusion loss): the diffusion loss; with --attn-loss W, the
        diffusion loss plus W x the held-out grounding loss, counted only while the diffusion loss stays within 2%
        of the starting weights' (grounding must not be bought with image quality)."""
        if grounding_val is None:
            v = val_loss(model, z_val, ctx_val, sched)
            return v, f"loss {v:.5f}", v
        v, a = val_loss(model, z_val, ctx_val, sched, grounding=grounding_val, captions=[c[0] for c in val.captions])
        score, note = v + args.attn_loss * a, ""
        if val_start is not None and v > 1.02 * val_start:
            score, note = math.inf, f" (diffusion loss over 1.02 x the start's {val_start:.5f})"
        return score, f"loss {v:.5f} attn {a:.5f} score {score:.5f}{note}", v

    best = P.BestScore(lower_is_better=True, value=state.get("best_val") if state else None)
    if args.export_best and args.init and best.value is None:
        score, text_v, val_start = val_score(unet)
        best.offer(score)
        log(f"val of the starting weights: {text_v}")

    if args.resident:  # everything a step reads on the device; batches, captions, t and noise drawn there
        t0 = time.time()
        z_res, captions = z_all.to(dev), resident.Captions(train.captions, text, dev)
        log(f"resident on {dev}: latents {resident.megabytes(z_res):.0f} MiB, {len(captions)} distinct captions "
            f"{captions.nbytes / 2 ** 20:.0f} MiB, in {time.time() - t0:.1f} s")
    gen = torch.Generator(device=dev if args.resident else "cpu").manual_seed(args.seed + step)
    fwd = P.compiled(unet, args, log)
    meter = P.Meter()
    unet.train()
    grounding = None
    if args.attn_loss:
        grounding = attn_loss.AttnLoss(unet, train, [args.data] + list(getattr(args, "extra_data", None) or []),
                                       text.tok, z_all.shape[1:], text.dim, dev, args.attn_loss_levels, log,
                                       texts=captions.texts if args.resident else None, pixel=args.attn_pixel)
    def measure():
        with ema.applied(unet):
            return val_score(unet)[:2]

    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        idx = batches.next()
        if args.resident:
            if grounding is not None:
                z0, (ctx, cid) = z_res[idx], captions.draw(idx, gen, args.drop, with_ids=True)
            else:
                z0, ctx = z_res[idx], captions.draw(idx, gen, args.drop)
        else:
            caps = train.draw_captions(idx, gen, args.drop)
            z0, ctx = z_all[idx].to(dev), text(caps)
        t = torch.randint(0, sched.n, (len(idx),), generator=gen, device=gen.device).to(dev)
        noise = torch.randn(z0.shape, generator=gen, device=gen.device).to(dev)
        if grounding is not None:
            grounding.keep(True)
        with P.autocast(args, dev):
            loss = F.mse_loss(fwd(sched.q_sample(z0, t, noise), t, ctx).float(), noise)
        if grounding is not None:
            la = grounding.by_ids(idx, cid) if args.resident else grounding(idx, caps)
            grounding.keep(False)
            diff_loss = loss
            if la is not None:
                loss = loss + args.attn_loss * la
        P.set_lr(opt, P.lr_at(step, args.steps, args.lr, args.warmup))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        ema.update(unet, step)
        step += 1
        if grounding is not None:
            meter.add(len(idx), loss=diff_loss, **({"attn": la} if la is not None else {}))
        else:
            meter.add(len(idx), loss=loss)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            attn = f" attn {r['attn']:.5f}" if "attn" in r else ""
            log(f"step {step} loss {r['loss']:.5f}{attn} s/step {r['s_per_step']:.3f} "
                f"samples/s {r['samples_per_s']:.1f}")
        if args.sample_every and step % args.sample_every == 0:
            caps = [val.captions[i][0] for i in range(min(8, len(val)))]
            sample_grid(unet, vae, text, caps, z_all.shape[1:], dev, os.path.join(args.out, f"samples_{step}.png"))
        P.validate_and_save(args, step, ck, snapshot, best, measure, log, export)
    log(meter.summary("unet"))
    ck.save(snapshot, force=True)
    if args.export and not args.export_best:
        export()


if __name__ == "__main__":
    main()
