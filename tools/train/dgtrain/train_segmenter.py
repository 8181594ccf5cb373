"""Trains the UperNet-style evaluation segmenter on a world dataset (cross-entropy, 255 ignored).

Example: cd tools/train && /usr/bin/python3 -m dgtrain.train_segmenter --data ../../data/world/train \
    --val ../../data/world/test --out ../../runs/seg --steps 4000 --batch 16 --lr 2e-3 \
    --export ../../assets/models/world_segmenter
Resumes from runs/NAME/ckpt.pt; log in runs/NAME/log.txt; summary.json at the end.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

from . import plumbing as P
from . import segmenter as S
from .exports import export_paths
from .world_data import WorldImages, load_palette


def random_crops(tensors, size, per_image, seed):
    """per_image random size x size patches of each image of every tensor [B, ..., H, W] (the same places in
    all of them) -> tensors [B * per_image, ..., size, size]."""
    h, w = tensors[0].shape[-2:]
    g = torch.Generator().manual_seed(seed)
    n = tensors[0].shape[0] * per_image
    ys = torch.randint(0, h - size + 1, (n,), generator=g).tolist()
    xs = torch.randint(0, w - size + 1, (n,), generator=g).tolist()
    return tuple(torch.stack([t[i // per_image, ..., y:y + size, x:x + size] for i, (y, x) in enumerate(zip(ys, xs))])
                 for t in tensors)


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=1e-3)
    ap.add_argument("--no-cache", action="store_true", help="do not keep decoded training images in memory")
    ap.add_argument("--eval-every", type=int, default=0, help="evaluate on --val every N steps (0: only at the end)")
    ap.add_argument("--eval-limit", type=int, default=None, help="evaluate on at most N images")
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--balanced", type=float, default=0.0,
                    help="weight of the class-balanced cross-entropy (ALDM's, x num_classes = mean per-class CE) "
                         "mixed into the plain one: lifts the small classes (person, pole, sign)")
    ap.add_argument("--refine-only", type=int, default=0, metavar="CROP",
                    help="train only the refinement head (config 'refine'), the rest frozen as --init gave it, on "
                         "4 random CROPxCROP patches per image: at full resolution its small convs cost ~60x more "
                         "per pixel on this CPU than on 64x64 patches")
    ap.add_argument("--refine-crop", type=int, default=0, metavar="CROP",
                    help="train the whole network: the upsampled coarse logits on whole images, the refinement "
                         "head (fed those logits, gradients flowing back) on 4 CROPxCROP patches per image")
    P.add_extra_data_arg(ap)
    ap.add_argument("--init", help="segmenter safetensors to start from (same config), e.g. to fine-tune with "
                                   "another loss; recorded in the export")
    args = ap.parse_args(argv)
    P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)

    cfg = S.load_config(args.config)
    pal = load_palette()
    if cfg["num_classes"] != len(pal["names"]):
        print(f"note: num_classes {cfg['num_classes']} differs from the palette's {len(pal['names'])}", file=sys.stderr)
    train = WorldImages(args.data, hflip=True, cache=not args.no_cache)
    if args.extra_data:  # e.g. painted layouts' renders, so the judge reads those images too
        train = torch.utils.data.ConcatDataset(
            [train] + [WorldImages(d, hflip=True, cache=not args.no_cache) for d in args.extra_data])
    val = WorldImages(args.val) if args.val else None
    init_record = None  # what the starting weights had seen, kept in the export's record
    if args.init and os.path.exists(export_paths(args.init)[1]):
        with open(export_paths(args.init)[1]) as f:
            init_record = {"weights": args.init, "training": json.load(f).get("training")}
    model = (S.load_segmenter(args.init, cfg, new=("refine.",)) if args.init else S.UperNet(cfg)).float().to(args.device)
    crop = args.refine_only or args.refine_crop
    if crop and (model.refine is None or not args.init):
        raise SystemExit("train_segmenter: --refine-only/--refine-crop need a config with 'refine' > 0 and --init")
    trained = model.refine if args.refine_only else model
    opt = torch.optim.AdamW(trained.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    batches = P.Batches(len(train), args.batch, args.seed)
    ck, state = P.Checkpoint.begin(args, log, command)
    step, extra = ck.restore_model(state, batches, model, opt) if state else (0, {})  # a checkpoint replaces --init
    warmup = args.warmup if args.warmup is not None else min(500, args.steps // 20)
    nparams = sum(p.numel() for p in model.parameters())
    log(f"segmenter: {nparams} parameters, {len(train)} training images, config {cfg}")

    def snapshot():
        return P.Checkpoint.model_state(step, batches, model, opt, {"evals": evals})

    meter = P.Meter()
    last = {}
    evals = extra.get("evals", [])

    def train_mode():
        model.train(not args.refine_only)  # a frozen base keeps its BatchNorm statistics
        trained.train()
    train_mode()
    k = cfg["num_classes"]

    def ce(logits, y):
        loss = F.cross_entropy(logits, y, ignore_index=S.IGNORE)
        return (1 - args.balanced) * loss + args.balanced * k * S.balanced_ce(logits, y, k) if args.balanced else loss

    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        lr = P.lr_at(budget.sched_step(step), args.steps, args.lr, warmup, decay=True)
        P.set_lr(opt, lr)
        items = [train[i] for i in batches.next()]
        x = torch.stack([it["image"] for it in items]).to(args.device)
        y = torch.stack([it["label"] for it in items]).to(args.device)
        loss = 0
        if crop:
            with torch.set_grad_enabled(not args.refine_only):
                coarse = model.coarse(x)
            if not args.refine_only:
                loss = ce(coarse, y)
            x, coarse, y = random_crops((x, coarse, y), crop, 4, args.seed * 1000003 + step)
            logits = model.refine(x, coarse)
        else:
            logits = model(x)
        loss = loss + ce(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        with torch.no_grad():
            keep = y != S.IGNORE
            acc = (logits.argmax(1)[keep] == y[keep]).float().mean().item() if keep.any() else 0.0
        meter.add(len(items), loss=loss.item(), acc=acc)
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            last = r
            log(f"step {step} loss {r['loss']:.4f} pixacc {r['acc']:.4f} lr {lr:.2e} s/step {r['s_per_step']:.3f} "
                f"cpu_s/step {r['cpu_s_per_step']:.3f} samples/s {r['samples_per_s']:.1f}")
        if val is not None and args.eval_every and step % args.eval_every == 0 and not budget.done(step):
            ev = S.evaluate(model, val, device=args.device, limit=args.eval_limit)
            evals.append({"step": step, "miou": ev["miou"], "acc": ev["acc"]})
            log(f"eval step {step} mIoU {ev['miou']:.4f} pixacc {ev['acc']:.4f}")
            train_mode()
        ck.save(snapshot)
    log(meter.summary("segmenter"))
    ck.save(snapshot, force=True)

    summary = {"steps": step, "parameters": nparams, "config": cfg, "train_images": len(train), "evals": evals,
               "last_log": last}
    if val is not None:
        ev = S.evaluate(model, val, device=args.device, limit=args.eval_limit)
        names = pal["names"] if cfg["num_classes"] == len(pal["names"]) else [str(i) for i in range(cfg["num_classes"])]
        summary["val"] = {"data": args.val, "images": ev["images"], "miou": ev["miou"], "pixacc": ev["acc"],
                          "iou": {n: (v if v == v else None) for n, v in zip(names, ev["iou"])}}  # NaN: absent
        log(f"final eval mIoU {ev['miou']:.4f} pixacc {ev['acc']:.4f}")
    if args.export:
        w, c = export_paths(args.export)
        model.cpu()
        S.save_segmenter(model, w, c, {"format": "dirigent-segmenter"},
                         {"class_names": pal["names"], "ignore_index": S.IGNORE,
                          "input": "RGB in [-1,1], any size divisible by 32",
                          "training": {"command": command, "steps": step, "val": summary.get("val"),
                                       **({"init": init_record} if init_record else {})}})
        summary["export"] = w
        log(f"exported {w} and {c}")
    P.write_summary(args.out, summary, command, log)
    return summary


if __name__ == "__main__":
    main()
