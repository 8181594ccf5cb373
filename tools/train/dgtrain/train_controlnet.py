"""Trains the layout ControlNet (cldm naming) on a frozen text-to-image UNet: --mode baseline (diffusion loss
only) or --mode aldm (ALDM, methods.md section 2: segmenter discriminator with N+1 classes, adversarial loss on
the decoded predicted x0, multistep unrolling).

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.train_controlnet --mode aldm \
        --data ../../data/world/train --out ../../runs/cn_aldm --unet ../../assets/models/unet.safetensors \
        --vae ../../assets/models/vae.safetensors --text-encoder ../../assets/models/text_encoder.safetensors \
        --tokenizer ../../assets/tokenizer --steps 10000 --batch 16 --lr 1e-4 \
        --export ../../assets/models/controlnet_aldm.safetensors

Layout input (--hint id, ALDM's): each pixel's class becomes the pooled text embedding of "a photo of {class}"
(the null embedding, of the empty prompt, for unlabelled pixels), nearest-resized to 2x latent resolution.
--hint color: the palette colours at image resolution in [0,1] (stock ControlNet-seg style).

ALDM (per optimisation step s; baseline and ALDM draw the same batches, timesteps and noise for the diffusion
loss from the same seeded generators):
- L = L_diff + lambda_adv * ramp(s) * L_adv, ramp linear 0 -> 1 over [--ramp-start, --ramp-end], and L_adv only
  every --lazy (8) steps and from --d-warmup on.
- L_adv: from a random index i in [K, S) of the S = 25 DDIM schedule, noise z0 to t_i, predict eps (gradient
  through the ControlNet), DDIM-step to x0_hat_0, decode with the frozen VAE (gradient flows), clamp, per-pixel
  CE_0 of the discriminator against the true layout; then K (= --unroll, 9) further DDIM steps without gradient,
  each with its CE_k. Per pixel: CE_0 * mean_k(CE_k, k = 0..K) / stopgrad(CE_0), summed over labelled pixels and
  divided by their number.
- Discriminator (UperNet, N+1 classes, GroupNorm): class-balanced CE on real images (ALDM's loss sampler V1) +
  --w-fake * CE(decoded x0_hat_0, all pixels "fake"), updated every --lazy steps and at every step before
  --d-warmup (the warm-up, during which the generator gets no adversarial loss).
Resumes from runs/NAME/ckpt.pt automatically; losses are appended to runs/NAME/log.txt. With --device cuda the
latents, caption states, hints (and the images and layouts the ALDM terms need) are resident on the GPU, batches
and draws made there, under bfloat16 autocast (--resident, --bf16; docs/train-image-models.md).
"""
import os
import time

import torch
import torch.nn.functional as F

from . import REPO, controlnet, diffusion
from . import plumbing as P
from . import resident
from .clip_text import TextCond
from .exports import export as export_files
from .exports import export_paths, load_json_beside, load_prefixed
from .generate import sample_grid
from .latents import cached_latents
from .ldm_unet import load_unet
from .ldm_vae import load_vae
from .segmenter import IGNORE, balanced_ce
from .world_data import WorldTensors, load_palette, split_data


def class_table(text, names):
    """[N+1, D]: pooled embeddings of "a photo of {name}", and of the empty prompt last (the null embedding)."""
    return torch.cat([text.pooled([f"a photo of {n}" for n in names]), text.pooled([""])]).float()


def per_pixel_ce(logits, label):
    lab = label.clone()
    lab[label == IGNORE] = 0
    return F.cross_entropy(logits, lab, reduction="none")


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=1e-4, batch=16)
    P.add_split_args(ap)
    P.add_vae_args(ap)
    P.add_text_args(ap)
    ap.add_argument("--unet", required=True, help="frozen UNet safetensors (model.diffusion_model.*), .json beside")
    ap.add_argument("--mode", choices=["baseline", "aldm"], default="aldm")
    ap.add_argument("--hint", choices=["id", "color"], default="id")
    ap.add_argument("--drop", type=float, default=0.1, help="empty-caption probability")
    ap.add_argument("--lambda-adv", type=float, default=0.1)
    ap.add_argument("--ramp-start", type=int, default=500)
    ap.add_argument("--ramp-end", type=int, default=1000)
    ap.add_argument("--unroll", type=int, default=9, help="K further DDIM steps (0: adversarial loss only)")
    ap.add_argument("--ddim-steps", type=int, default=25)
    ap.add_argument("--lazy", type=int, default=8, help="adversarial terms every N steps")
    ap.add_argument("--d-warmup", type=int, default=500, help="steps of discriminator-only training")
    ap.add_argument("--d-lr", type=float, default=2e-4)
    ap.add_argument("--w-fake", type=float, default=0.01)
    ap.add_argument("--adv-batch", type=int, default=4, help="images of the batch used for the adversarial terms")
    ap.add_argument("--d-config", help="discriminator (segmenter) config JSON; num_classes is set to N+1")
    ap.add_argument("--d-init", help="segmenter safetensors (N classes) to initialise the discriminator from")
    ap.add_argument("--sample-every", type=int, default=0)
    ap.add_argument("--init", help="exported ControlNet to continue from (its config and class table are kept)")
    ap.add_argument("--val-every", type=int, default=0,
                    help="every N steps, layout alignment on held-out layouts: DDIM --val-steps with CFG 7.5, the "
                         "evaluation segmenter's mIoU against the layouts")
    ap.add_argument("--val-data", action="append", default=[],
                    help="held-out datasets for --val-every (repeat; default --val); the score is their mean mIoU")
    ap.add_argument("--val-count", type=int, default=32, help="layouts per --val-data set")
    ap.add_argument("--val-steps", type=int, default=10)
    ap.add_argument("--judge", default=os.path.join(REPO, "assets", "models", "eval_segmenter.safetensors"),
                    help="the evaluation segmenter that scores --val-every")
    P.add_export_best_args(ap, "--val-every")
    P.add_speed_args(ap)
    args = ap.parse_args(argv)
    P.check_export_best(args, "--val-every", "train_controlnet")
    dev = P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    pal = load_palette()
    names, n_cls = pal["names"], len(pal["names"])

    train, val = split_data(args)
    vae = load_vae(args.vae, dev)
    text = TextCond(args.text_encoder, args.tokenizer, args.text_config, dev)
    unet, ucfg = load_unet(args.unet, dev)
    z_all = cached_latents(args, vae, train, dev, "train", only=P.Batches(len(train), args.batch, args.seed).indices(args.steps))
    lat_hw = tuple(z_all.shape[2:])
    table = class_table(text, names).to(dev)
    ck, state = P.Checkpoint.begin(args, log, command)
    # a resumed run keeps the architecture it was started with
    init_record = None
    if args.init and not state:
        init_net, init_cfg, init_table = controlnet.load_controlnet(args.init)
        ccfg = {k: v for k, v in init_cfg.items() if k in controlnet.SD15_ID}
        if init_table is not None:
            table = init_table.to(dev)
        init_record = {"weights": args.init, "training": init_cfg.get("training")}
    else:
        ccfg = state["config"] if state else controlnet.small_config(ucfg, args.hint, embed_dim=table.shape[1])
    cnet = controlnet.ControlNet(ccfg).to(dev)
    cnet.load_from_unet(unet)
    if args.init and not state:
        cnet.load_state_dict(init_net.state_dict())
        for p in cnet.parameters():
            p.requires_grad_(True)
    if state and state.get("init"):
        init_record = state["init"]
    opt = P.adamw(cnet.parameters(), dev, lr=args.lr, weight_decay=0.0)

    disc = dopt = None
    if args.mode == "aldm":
        from . import segmenter
        dcfg = segmenter.load_config(args.d_config) if args.d_config else dict(segmenter.DEFAULT, norm="gn")
        dcfg["num_classes"] = n_cls + 1
        disc = segmenter.UperNet(dcfg).to(dev)
        if args.d_init:
            sd, _ = load_prefixed(args.d_init, "")
            own = disc.state_dict()
            for k, v in sd.items():
                if k in own and own[k].shape == v.shape:
                    own[k] = v
                elif k in own and k.startswith("classifier.") and own[k].shape[1:] == v.shape[1:]:
                    own[k][:v.shape[0]] = v  # the extra "fake" row keeps its initialisation
            disc.load_state_dict(own)
        dopt = P.adamw(disc.parameters(), dev, lr=args.d_lr, weight_decay=1e-4)

    rdev = dev if args.resident else None  # where batches and draws come from
    batches = P.Batches(len(train), args.batch, args.seed, device=rdev)
    sched = diffusion.Schedule()
    ddim = diffusion.DDIM(sched, args.ddim_steps)
    gen = torch.Generator(device=rdev or "cpu").manual_seed(args.seed)  # diffusion loss: identical in both modes
    gen_adv = torch.Generator(device=rdev or "cpu").manual_seed(args.seed + 1)  # adversarial terms only
    step = 0
    if state:
        table = state["table"].to(dev)
        cnet.load_state_dict(state["cnet"])
        opt.load_state_dict(state["opt"])
        if state.get("gen_device", "cpu") == gen.device.type:  # else (resident switched) they start afresh
            gen.set_state(state["gen"])
            gen_adv.set_state(state["gen_adv"])
        if disc is not None:
            disc.load_state_dict(state["disc"])
            dopt.load_state_dict(state["dopt"])
        step = ck.restore(state, batches)
    else:
        log(f"controlnet ({args.mode}, hint {args.hint}): {P.param_count(cnet)} parameters"
            + (f"; discriminator {P.param_count(disc)}" if disc is not None else "")
            + f"; frozen unet {P.param_count(unet)}; {len(train)} train images; latents {tuple(z_all.shape)}")

    def snapshot():
        s = dict(P.Checkpoint.common(step, batches), cnet=cnet.state_dict(), opt=opt.state_dict(), gen=gen.get_state(),
                 gen_adv=gen_adv.get_state(), gen_device=gen.device.type, config=ccfg, table=table.cpu(), init=init_record, best_val=best.value)
        if disc is not None:
            s.update(disc=disc.state_dict(), dopt=dopt.state_dict())
        return s

    def hint_of(label):
        if args.hint == "id":
            return controlnet.id_hint(label, table, (2 * lat_hw[0], 2 * lat_hw[1]))
        return controlnet.colour_hint(label, torch.as_tensor(pal["colors"]))

    def decode(z):
        return vae.decode(z / vae.scale_factor).clamp(-1, 1)

    def export(score=None):
        cfg = dict(ccfg, class_names=names, mode=args.mode, unroll=args.unroll if args.mode == "aldm" else 0,
                   class_embeddings="dirigent.class_embeddings" if args.hint == "id" else None,
                   hint_resolution="2x latent" if args.hint == "id" else "image")
        record = f"{command} | steps {step}" + (f" | val mIoU {score:.4f}" if score is not None else "")
        path = export_files(args.export, cnet.state_dict(), "control_model.", cfg,
                            {"training": record, **({"init": init_record} if init_record else {})})
        if args.hint == "id":  # the class-embedding table travels in the same file, outside control_model.
            from .safetensors_io import load, save
            weights = export_paths(args.export)[0]
            sd, meta = load(weights)
            sd["dirigent.class_embeddings"] = table.cpu()
            save(sd, weights, metadata=meta)
        log(f"exported {args.export} and {path}")

    val_sets = []
    if args.val_every:
        from . import segmenter as S
        judge = S.load_segmenter(args.judge, load_json_beside(args.judge)).eval().to(dev)
        for d in args.val_data or [args.val]:
            v = WorldTensors(d, args.val_count)
            val_sets.append((os.path.basename(os.path.dirname(os.path.abspath(d))) + "/" + os.path.basename(d),
                             v.labels.long(), [c[0] for c in v.captions]))

    @torch.no_grad()
    def val_miou():
        """Mean over the --val-data sets of the judge's mIoU on images generated from their layouts (fixed seeds)."""
        cnet.eval()
        scores = {}
        for name, labels, caps in val_sets:
            conf = 0
            for s0 in range(0, len(caps), 8):
                lab = labels[s0:s0 + 8].to(dev)
                b, hint = len(lab), hint_of(lab)
                imgs = sample_grid(unet, vae, text, caps[s0:s0 + 8], z_all.shape[1:], dev, None, seed=1000 + s0,
                                   steps=args.val_steps,
                                   control_fn=lambda x, t, c: cnet(x, torch.cat([hint] * (x.shape[0] // b)), t, c))
                seg = judge(imgs.clamp(-1, 1)).argmax(1)
                for i in range(b):
                    conf = conf + S.confusion(seg[i], lab[i], n_cls)
            scores[name] = S.iou_from_confusion(conf)[1]
        cnet.train()
        return sum(scores.values()) / len(scores), scores

    best = P.BestScore(lower_is_better=False, value=state.get("best_val") if state else None)
    if args.export_best and args.init and best.value is None:
        score, parts = val_miou()
        best.offer(score)
        log(f"val mIoU of the starting weights {score:.4f} {parts}")

    if args.resident:  # latents, captions, layouts (and images for the discriminator) on the device
        t0 = time.time()
        z_res, captions = z_all.to(dev), resident.Captions(train.captions, text, dev)
        full = args.mode == "aldm" or args.hint == "color"  # whole layouts: the adversarial terms or colour hints
        res_lab = resident.to_device(train.labels, dev) if full else None
        res_img = resident.to_device(train.images, dev) if args.mode == "aldm" else None
        res_hint = (resident.layout_index(train.labels, table.shape[0] - 1, (2 * lat_hw[0], 2 * lat_hw[1]), dev)
                    if args.hint == "id" else None)
        log(f"resident on {dev}: latents, layouts and images {resident.megabytes(z_res, res_lab, res_img, res_hint):.0f} "
            f"MiB, {len(captions)} distinct captions {captions.nbytes / 2 ** 20:.0f} MiB, in {time.time() - t0:.1f} s")
    cnet_fwd, unet_fwd = P.compiled(cnet, args, log), P.compiled(unet, args, log)

    def eps_fn(x, t, ctx, hint):  # with --compile, compiled
        return unet_fwd(x, t, ctx, cnet_fwd(x, hint, t, ctx))

    meter = P.Meter()
    cnet.train()
    def measure():
        score, parts = val_miou()
        return score, f"mIoU {score:.4f} {parts}"

    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        idx = batches.next()
        if args.resident:
            z0, ctx = z_res[idx], captions.draw(idx, gen, args.drop)
            img, lab = resident.image_batch(res_img, res_lab, idx)
            hint = controlnet.id_hint_of_index(res_hint[idx], table) if args.hint == "id" else hint_of(lab)
        else:
            z0 = z_all[idx].to(dev)
            img, lab, _ = train.batch(idx, dev)
            ctx = text(train.draw_captions(idx, gen, args.drop))
            hint = hint_of(lab)
        t = torch.randint(0, sched.n, (len(idx),), generator=gen, device=gen.device).to(dev)
        noise = torch.randn(z0.shape, generator=gen, device=gen.device).to(dev)
        with P.autocast(args, dev):
            l_diff = F.mse_loss(eps_fn(sched.q_sample(z0, t, noise), t, ctx, hint).float(), noise)
        loss = l_diff
        logs = {"diff": l_diff.detach()}

        s_eff = budget.sched_step(step)  # time-budgeted runs still pass through the warm-up and the ramp
        warm = s_eff < args.d_warmup
        adv_step = disc is not None and (step % args.lazy == 0 or warm)
        fake_img = None
        if adv_step:
            b = min(args.adv_batch, len(idx))
            i0 = int(torch.randint(args.unroll, args.ddim_steps, (1,), generator=gen_adv, device=gen_adv.device))
            ti = torch.full((b,), int(ddim.ts[i0]), dtype=torch.long, device=dev)
            n2 = torch.randn((b,) + tuple(z0.shape[1:]), generator=gen_adv, device=gen_adv.device).to(dev)
            xt = sched.q_sample(z0[:b], ti, n2)
            ramp = min(1.0, max(0.0, (s_eff - args.ramp_start) / max(1, args.ramp_end - args.ramp_start)))
            g_on = not warm and ramp > 0 and step % args.lazy == 0
            with P.autocast(args, dev):  # bfloat16 on a GPU (--bf16)
                if g_on:
                    disc.eval()
                    for p in disc.parameters():
                        p.requires_grad_(False)
                    x_prev, x0h = ddim.step(xt, eps_fn(xt, ti, ctx[:b], hint[:b]), i0)
                    fake_img = decode(x0h)
                    ce0 = per_pixel_ce(disc(fake_img), lab[:b])
                    ces = [ce0.detach()]
                    with torch.no_grad():
                        x = x_prev
                        for k in range(1, args.unroll + 1):
                            tk = torch.full((b,), int(ddim.ts[i0 - k]), dtype=torch.long, device=dev)
                            x, x0k = ddim.step(x, eps_fn(x, tk, ctx[:b], hint[:b]), i0 - k)
                            ces.append(per_pixel_ce(disc(decode(x0k)), lab[:b]))
                    valid = (lab[:b] != IGNORE).float()
                    mean_ce = torch.stack(ces).mean(0)
                    l_adv = (ce0 * mean_ce / ce0.detach().clamp_min(1e-8) * valid).sum() / valid.sum().clamp_min(1)
                    loss = loss + args.lambda_adv * ramp * l_adv
                    logs.update(adv=l_adv.detach(), adv_last=(ces[-1] * valid).sum() / valid.sum().clamp_min(1))
                    for p in disc.parameters():
                        p.requires_grad_(True)
                    disc.train()
                else:
                    with torch.no_grad():
                        _, x0h = ddim.step(xt, eps_fn(xt, ti, ctx[:b], hint[:b]), i0)
                        fake_img = decode(x0h)

        P.set_lr(opt, P.lr_at(step, args.steps, args.lr, args.warmup or 0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(cnet.parameters(), 1.0)
        opt.step()

        if adv_step:
            with P.autocast(args, dev):
                d_real = balanced_ce(disc(img[:b]), lab[:b], n_cls + 1)
                fake_lab = torch.full(lab[:b].shape, n_cls, dtype=torch.long, device=dev)
                d_fake = F.cross_entropy(disc(fake_img.detach()), fake_lab)
            d_loss = d_real + args.w_fake * d_fake
            dopt.zero_grad(set_to_none=True)
            d_loss.backward()
            dopt.step()
            logs.update(d_real=d_real.detach(), d_fake=d_fake.detach())

        step += 1
        meter.add(len(idx), **logs)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            log(f"step {step} " + " ".join(f"{k} {r[k]:.5f}" for k in ("diff", "adv", "adv_last", "d_real", "d_fake") if k in r)
                + f" s/step {r['s_per_step']:.3f} samples/s {r['samples_per_s']:.1f}")
        if args.sample_every and step % args.sample_every == 0:
            k = min(8, len(val))
            vl = val.labels[:k].long().to(dev)
            vh = hint_of(vl)
            sample_grid(unet, vae, text, [val.captions[i][0] for i in range(k)], z_all.shape[1:], dev,
                        os.path.join(args.out, f"samples_{step}.png"),
                        control_fn=lambda x, tt, c: cnet(x, torch.cat([vh] * (x.shape[0] // k)), tt, c))
            cnet.train()
        P.validate_and_save(args, step, ck, snapshot, best, measure, log, export)
    log(meter.summary(f"controlnet {args.mode}"))
    ck.save(snapshot, force=True)
    if args.export and not args.export_best:
        export()


if __name__ == "__main__":
    main()
