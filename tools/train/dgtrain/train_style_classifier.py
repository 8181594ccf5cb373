"""Trains the style classifier of dgtrain.style_classifier (time of day and weather of world images, the judge of
style mixing) on a world split's "style" fields and reports its held-out accuracy.

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.train_style_classifier \
    --data ../../data/world/train --val ../../data/world/val --val-count 500 --out ../../runs/style_cls \
    --steps 600 --export ../../runs/style_cls/style_cls
"""
import torch
import torch.nn.functional as F

from . import plumbing as P
from .exports import export, load_json_beside
from .style_classifier import StyleNet, accuracy, style_targets
from .world_data import WorldTensors


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=2e-3, batch=32)
    ap.add_argument("--val-count", type=int, default=500, help="held-out images of the reported accuracy")
    args = ap.parse_args(argv)
    P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)
    data, targets = WorldTensors(args.data), style_targets(args.data)
    val = WorldTensors(args.val, max_images=args.val_count) if args.val else None
    model = StyleNet(load_json_beside("", args.config) if args.config else None)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    batches = P.Batches(len(data), args.batch, args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    meter = P.Meter()
    for step in range(1, args.steps + 1):
        idx = batches.next()
        img = data.batch(idx, "cpu", hflip=True, gen=gen)[0]
        lt, lw = model(img)
        loss = F.cross_entropy(lt, targets[0][idx]) + F.cross_entropy(lw, targets[1][idx])
        P.set_lr(opt, P.lr_at(step, args.steps, args.lr, warmup=20, decay=True))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        meter.add(len(idx), loss=loss.item())
        if step % args.log_every == 0:
            log(f"step {step} loss {meter.report()['loss']:.4f}")
    summary = {"steps": args.steps, "config": model.cfg}
    if val is not None:
        summary["val"] = dict(accuracy(model, val, style_targets(args.val, args.val_count)), images=len(val))
        log(f"held-out accuracy {summary['val']}")
    if args.export:
        export(args.export, {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")},
               "", model.cfg, {"format": "dirigent-style-classifier", "training": {"command": command, **summary}})
        summary["export"] = args.export
    P.write_summary(args.out, summary, command, log)
    return summary


if __name__ == "__main__":
    main()
