"""Distils the VAE decoder into the live frame's tiny decoder (dgtrain.tiny_decoder) on world images.

The teacher's targets are made once and kept in the run folder (resumable in chunks of 32 images): each image's
latent z (the posterior mean, unscaled, as the engine hands the decoder) and the VAE decoder's output for it.
--latents may name a cache of scaled latents of the first images of --data (e.g. a UNet run's
latents_train_*.pt.partial.0): used when it matches a fresh encode of the first 4 images, else refused.
Training draws random latent crops (--crop, latent pixels) with the matching target crops; the loss is L1 + 0.5
L1 of the image gradients against the teacher, over each crop less a 4-pixel margin (the zero padding at a
crop's edge is not the image's). Every --eval-every steps: PSNR of whole held-out images (the first --val-count
of --val) against the teacher's output and against the real image (both clamped to [-1, 1]); --export-best
exports at each improvement on the teacher (float16 safetensors under `tiny_decoder.`, JSON record beside).

    cd tools/train && nice -n 19 /usr/bin/python3 -m dgtrain.train_tiny_decoder --threads 1 \
        --vae ../../assets/models/vae.safetensors --data ../../data/world/train --val ../../data/world/val \
        --out ../../runs/tiny_decoder --steps 3000 --export ../../assets/models/tiny_decoder.safetensors --export-best
Resumes from runs/NAME/ckpt.pt; log in runs/NAME/log.txt.
"""
import json
import os
import time

import torch
import torch.nn.functional as F

from . import plumbing as P
from . import safetensors_io
from .exports import export_paths, write_record
from .ldm_vae import grad_l1, load_vae, psnr_each
from .tiny_decoder import DEFAULT, TinyDecoder
from .world_data import WorldTensors

CHUNK = 32


@torch.no_grad()
def teacher_targets(vae, data, path, log, latents=None):
    """{z: [N,4,h,w] unscaled latents, y: [N,3,H,W] float16 VAE decoder outputs} of every image of data, made in
    chunks kept as PATH.K (a killed run resumes) and saved as PATH."""
    if os.path.exists(path):
        t = torch.load(path)
        if t["z"].shape[0] == len(data):
            return t
    zs, ys, t0 = [], [], time.time()
    for k, s in enumerate(range(0, len(data), CHUNK)):
        part = f"{path}.{k}"
        if os.path.exists(part):
            c = torch.load(part)
        else:
            idx = list(range(s, min(len(data), s + CHUNK)))
            if latents is not None and idx[-1] < len(latents):
                z = latents[idx] / vae.scale_factor
            else:
                x = data.images[idx].float() / 127.5 - 1.0
                z = vae.encode(x)
            c = {"z": z, "y": torch.cat([vae.decode(z[i:i + 8]) for i in range(0, len(z), 8)]).half()}
            torch.save(c, part + ".tmp")
            os.replace(part + ".tmp", part)
            log(f"targets {os.path.basename(path)}: {s + len(idx)}/{len(data)} ({time.time() - t0:.0f} s)")
        zs.append(c["z"])
        ys.append(c["y"])
    t = {"z": torch.cat(zs), "y": torch.cat(ys)}
    torch.save(t, path + ".tmp")
    os.replace(path + ".tmp", path)
    for k in range(len(zs)):
        os.remove(f"{path}.{k}")
    return t


def checked_latents(path, vae, data):
    """Scaled latents of the first images of data from a cache file, refused unless the first 4 match a fresh
    encode (another VAE's or dataset's latents would teach the wrong decoder)."""
    c = torch.load(path)
    z = c["z"] if isinstance(c, dict) else c
    x = data.images[:4].float() / 127.5 - 1.0
    with torch.no_grad():
        fresh = vae.encode(x) * vae.scale_factor
    err = float((fresh - z[:4]).abs().max())
    if err > 1e-3:
        raise SystemExit(f"--latents {path}: not this VAE's latents of --data (max difference {err:.3g})")
    return z


@torch.no_grad()
def evaluate(model, val, real):
    """(PSNR against the teacher, against the real image, the teacher's against the real image), mean dB."""
    model.eval()
    p_t, p_r, p_tr = [], [], []
    for s in range(0, len(val["z"]), 8):
        y = model(val["z"][s:s + 8]).clamp(-1, 1)
        t = val["y"][s:s + 8].float().clamp(-1, 1)
        r = real[s:s + 8]
        p_t += psnr_each(t, y)
        p_r += psnr_each(r, y)
        p_tr += psnr_each(r, t)
    model.train()
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return mean(p_t), mean(p_r), mean(p_tr)


def export(path, model, cfg, record):
    """float16 weights under tiny_decoder. (the config in the metadata too) and the JSON record beside."""
    st, js = export_paths(path)
    write_record(js, dict(cfg, **record))
    tensors = {"tiny_decoder." + k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    safetensors_io.save(tensors, st + ".tmp", metadata={"config": json.dumps(cfg)})
    os.replace(st + ".tmp", st)


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=1e-3, batch=16)
    P.add_vae_args(ap)
    ap.add_argument("--max-images", type=int, default=512, help="training images (the first of --data)")
    ap.add_argument("--val-count", type=int, default=64, help="held-out images (the first of --val)")
    ap.add_argument("--latents", help="cache of scaled latents of the first images of --data (checked)")
    ap.add_argument("--crop", default="8x16", help="training crop in latent pixels, HxW")
    ap.add_argument("--eval-every", type=int, default=250)
    P.add_export_best_args(ap, "--eval-every")
    args = ap.parse_args(argv)
    if not args.val:
        raise SystemExit("train_tiny_decoder: --val (held-out images) is needed")
    P.check_export_best(args, "--eval-every", "train_tiny_decoder")
    dev = P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    ck, state = P.Checkpoint.begin(args, log, command)
    vae = load_vae(args.vae)
    train = WorldTensors(args.data, args.max_images)
    val_data = WorldTensors(args.val, args.val_count)
    lat = checked_latents(args.latents, vae, train) if args.latents else None
    tr = teacher_targets(vae, train, os.path.join(args.out, f"targets_train_{len(train)}.pt"), log, lat)
    va = teacher_targets(vae, val_data, os.path.join(args.out, f"targets_val_{len(val_data)}.pt"), log)
    real = val_data.images.float() / 127.5 - 1.0
    cfg = dict(state["config"]) if state else dict(DEFAULT)
    model = TinyDecoder(cfg).to(dev)
    opt = P.adamw(model.parameters(), dev, lr=args.lr, weight_decay=0.0)
    batches = P.Batches(len(train), args.batch, args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    best = P.BestScore(lower_is_better=False)
    step, extra = 0, {}
    if state:
        step, extra = ck.restore_model(state, batches, model, opt)
        gen.set_state(state["gen"])
        best.value = extra.get("best")
    log(f"tiny decoder {cfg}: {P.param_count(model)} parameters; {len(train)} training images, {len(val_data)} held out")
    ch, cw = (int(v) for v in args.crop.split("x"))
    lh, lw = tr["z"].shape[2:]
    m, budget, meter = 4, P.Budget(args.steps, args.budget_seconds), P.Meter()

    def snapshot():
        s = P.Checkpoint.model_state(step, batches, model, opt, dict(extra, best=best.value))
        return dict(s, config=cfg, gen=gen.get_state())

    def measure():
        pt, pr, ptr = evaluate(model, va, real)
        extra["val"] = {"step": step, "psnr_teacher_db": pt, "psnr_real_db": pr, "teacher_psnr_real_db": ptr,
                        "images": len(val_data)}
        return pt, f"psnr vs VAE decoder {pt:.3f} dB, vs real {pr:.3f} dB (VAE decoder vs real {ptr:.3f} dB)"

    def do_export(score):
        export(args.export, model, cfg, {"training": {"command": command, "steps": step, "val": extra["val"],
                                                      "parameters": P.param_count(model), "teacher": args.vae}})
        log(f"exported {args.export} at step {step} ({score:.3f} dB)")

    while not budget.done(step):
        idx = batches.next()
        y0 = torch.randint(0, lh - ch + 1, (len(idx),), generator=gen).tolist()
        x0 = torch.randint(0, lw - cw + 1, (len(idx),), generator=gen).tolist()
        z = torch.stack([tr["z"][i, :, a:a + ch, b:b + cw] for i, a, b in zip(idx, y0, x0)]).to(dev)
        t = torch.stack([tr["y"][i, :, 8 * a:8 * (a + ch), 8 * b:8 * (b + cw)] for i, a, b in zip(idx, y0, x0)])
        t = t.float().to(dev)[..., m:-m, m:-m]
        P.set_lr(opt, P.lr_at(budget.sched_step(step), args.steps, args.lr, warmup=50, decay=True))
        y = model(z)[..., m:-m, m:-m]
        l1 = (y - t).abs().mean()
        gl = grad_l1(y, t)
        loss = l1 + 0.5 * gl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        meter.add(len(idx), l1=l1, grad=gl, mse=F.mse_loss(y.detach(), t))
        if step % args.log_every == 0:
            r = meter.report()
            log(f"step {step} l1 {r['l1']:.4f} grad {r['grad']:.4f} mse {r['mse']:.5f} {r['s_per_step']:.2f} s/step")
        P.validate_and_save(argparse_ns(args), step, ck, snapshot, best, measure, log, do_export)
    if not args.export_best and args.export:
        measure()
        do_export(extra["val"]["psnr_teacher_db"])
    ck.save(snapshot, force=True)
    log(meter.summary("tiny decoder"))


def argparse_ns(args):
    """validate_and_save reads --val-every: this trainer's --eval-every."""
    args.val_every = args.eval_every
    return args


if __name__ == "__main__":
    main()
