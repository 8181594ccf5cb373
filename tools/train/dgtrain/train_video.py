"""Trains the VideoCrafter2-style micro text-to-video UNet (dgtrain.video_unet) on VAE latents of the world's
16-frame clips (all four transition kinds), each with its single overall caption (never the stage captions,
which VSTAR supplies at inference): the default image UNet inflated (temporal layers zero on their outputs, so
the start equals the image model on every frame), spatial layers frozen (--spatial-lr-scale tunes them lightly),
the clip's fps through fps_embedding, epsilon prediction, 10% empty-caption dropout, EMA of the weights.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.train_video --data ../../data/video/train \
        --val ../../data/video/val --out ../../runs/video --init ../../assets/models/unet.safetensors \
        --vae ../../assets/models/vae.safetensors --text-encoder ../../assets/models/text_encoder.safetensors \
        --tokenizer ../../assets/tokenizer --steps 2000 --batch 2 --val-every 50 --export-best \
        --export ../../runs/video.safetensors
Frame latents are cached beside the run folder; resumes from runs/NAME/ckpt.pt; log in runs/NAME/log.txt.
Exports carry VideoCrafter2's names (model.diffusion_model.*; export_video_checkpoint.py)."""
import time

import torch
import torch.nn.functional as F

from . import diffusion, video_common, video_unet
from . import plumbing as P
from .clip_text import TextCond
from .ldm_vae import load_vae
from .world_data import WorldClips


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=1e-4, batch=2)
    ap.add_argument("--max-clips", type=int, default=0, help="use at most this many training clips (0 = all)")
    ap.add_argument("--max-val-clips", type=int, default=16)
    P.add_vae_args(ap)
    P.add_text_args(ap)
    ap.add_argument("--init", required=True, help="exported image UNet to inflate (assets/models/unet.safetensors)")
    ap.add_argument("--temporal-from", help="a video UNet export whose temporal layers start a fresh run "
                    "(the shipped video_unet.safetensors when the base UNet changed)")
    ap.add_argument("--fps", type=float, default=8.0, help="the clips' frame rate, given to fps_embedding")
    ap.add_argument("--spatial-lr-scale", type=float, default=0.0,
                    help="0: spatial layers frozen; > 0: tuned at --lr times this")
    ap.add_argument("--drop", type=float, default=0.1, help="empty-caption probability")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--val-every", type=int, default=0,
                    help="every N steps, the EMA weights' diffusion loss on the held-out clips (fixed noise)")
    P.add_export_best_args(ap, "--val-every")
    P.add_speed_args(ap)
    ap.set_defaults(warmup=50)
    args = ap.parse_args(argv)
    P.check_export_best(args, "--val-every", "train_video")
    if args.val_every and not args.val:
        raise SystemExit("train_video: --val-every needs --val (held-out clips)")
    dev = P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)

    train = WorldClips(args.data, args.max_clips)
    vae = load_vae(args.vae, dev)
    text = TextCond(args.text_encoder, args.tokenizer, args.text_config, dev)
    ck, state = P.Checkpoint.begin(args, log, command)
    unet, cfg = video_common.inflated_from_image(args.init, dev)
    if state:  # a resumed run keeps the architecture it was started with
        if not args.spatial_lr_scale:
            video_common.check_same_base(state["unet"], unet, args.init)
        cfg = state["config"]
        unet = video_unet.UNet3DModel(cfg).to(dev)
    elif args.temporal_from:
        log(f"temporal layers from {args.temporal_from} ({video_common.load_temporal(unet, args.temporal_from)} tensors)")
    if cfg["context_dim"] != text.dim:
        raise SystemExit(f"train_video: {args.init} has context_dim {cfg['context_dim']}, the text encoder gives {text.dim}")
    t0 = time.time()
    z_all = video_common.clip_latents(args, vae, train, dev, "video_train")
    if args.val_every:
        val = WorldClips(args.val, args.max_val_clips)
        z_val = video_common.clip_latents(args, vae, val, dev, "video_val")
        ctx_val = text(val.captions)
    log(f"clip latents {tuple(z_all.shape)} (std {z_all.std():.4f}) in {time.time() - t0:.1f} s")
    del vae
    opt = P.adamw(video_common.param_groups(unet, args.lr, args.spatial_lr_scale), dev, lr=args.lr,
                  weight_decay=0.01)
    ema = P.EMA(unet, args.ema)
    batches = P.Batches(len(train), args.batch, args.seed, device=None)
    sched = diffusion.Schedule()
    step = 0
    if state:
        unet.load_state_dict(state["unet"])
        ema.shadow = {k: v.to(dev) for k, v in state["ema"].items()}
        opt.load_state_dict(state["opt"])
        step = ck.restore(state, batches)
    else:
        temporal, spatial = video_common.split_params(unet)
        log(f"{video_unet.describe(unet)}; trained: {sum(p.numel() for p in temporal)} temporal parameters"
            + (f" + {sum(p.numel() for p in spatial)} spatial at x{args.spatial_lr_scale}" if args.spatial_lr_scale
               else " (spatial frozen)") + f"; {len(train)} train clips, fps {args.fps:g}")
    best = P.BestScore(lower_is_better=True, value=state.get("best_val") if state else None)
    if args.export_best and best.value is None:
        best.offer(video_common.val_loss(unet, z_val, ctx_val, sched, args.fps))
        log(f"val loss at the start ({'temporal layers from ' + args.temporal_from if args.temporal_from else 'the inflated image model'}) {best.value:.5f}")

    def snapshot():
        return dict(P.Checkpoint.common(step, batches), unet=unet.state_dict(), ema=ema.shadow,
                    opt=opt.state_dict(), config=cfg, best_val=best.value, gen=gen.get_state())

    def export(v=None):
        record = f"{command} | steps {step} | EMA {args.ema}" + (f" | val loss {v:.5f}" if v is not None else "")
        with ema.applied(unet):
            path = video_common.export_video(args.export, unet.state_dict(), cfg,
                                {"training": record, "latent_shape": list(z_all.shape[1:]), "fps": args.fps,
                                 "init": {"weights": args.init}})
        log(f"exported EMA weights to {args.export} and {path}")

    gen = torch.Generator().manual_seed(args.seed)
    if state and "gen" in state:
        gen.set_state(state["gen"])
    if dev.type == "cuda":
        z_all = z_all.to(dev)
    fwd = P.compiled(unet, args, log)
    meter = P.Meter()
    unet.train()
    def measure():
        with ema.applied(unet):
            v = video_common.val_loss(unet, z_val, ctx_val, sched, args.fps)
        return v, f"loss {v:.5f}"

    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        idx = batches.next()
        z0 = z_all[idx].to(dev)
        ctx = text(["" if float(torch.rand(1, generator=gen)) < args.drop else train.captions[i] for i in idx])
        t = torch.randint(0, sched.n, (len(idx),), generator=gen).to(dev)
        noise = torch.randn(z0.shape, generator=gen).to(dev)
        with P.autocast(args, dev):
            loss = F.mse_loss(fwd(sched.q_sample(z0, t, noise), t, ctx, fps=args.fps).float(), noise)
        video_common.set_group_lr(opt, P.lr_at(step, args.steps, args.lr, args.warmup))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in unet.parameters() if p.requires_grad], 1.0)
        opt.step()
        ema.update(unet, step)
        step += 1
        meter.add(len(idx), loss=loss)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            log(f"step {step} loss {r['loss']:.5f} s/step {r['s_per_step']:.3f} clips/s {r['samples_per_s']:.2f}")
        P.validate_and_save(args, step, ck, snapshot, best, measure, log, export)
    log(meter.summary("video"))
    ck.save(snapshot, force=True)
    if args.export and not args.export_best:
        export()
    return unet, ema


if __name__ == "__main__":
    main()
