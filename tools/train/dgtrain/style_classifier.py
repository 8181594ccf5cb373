"""A small style classifier of world images, the judge of style mixing (docs/evaluation.md): four stride-2
conv + BN + ReLU stages on the image at half size, global average pooling, two linear heads, time of day
(day / sunset / night) and weather (clear / fog / rain / snow), trained with the sum of both cross-entropies on
a world split's "style" fields (hflip augmentation). Never used to train a generator or an encoder.

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.style_classifier \
    --data ../../data/world/train --val ../../data/world/val --val-count 500 --out ../../runs/style_cls \
    --steps 600 --export ../../runs/style_cls/style_cls
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import plumbing as P
from .exports import export, load_json_beside, load_prefixed
from .world_data import WorldTensors, read_index

TIMES = ("day", "sunset", "night")
WEATHERS = ("clear", "fog", "rain", "snow")
DEFAULT = {"widths": [16, 32, 64, 96], "scale": 0.5}


def style_targets(root, count=0):
    """(time ids, weather ids) int64 [N] of the still images of root, in WorldTensors order."""
    entries = [e for e in read_index(root) if "frames" not in e]
    entries = entries[:count] if count else entries
    return (torch.tensor([TIMES.index(e["style"]["time"]) for e in entries]),
            torch.tensor([WEATHERS.index(e["style"]["weather"]) for e in entries]))


class StyleNet(nn.Module):
    """images [B,3,H,W] in [-1,1] -> (time logits [B,3], weather logits [B,4])."""

    def __init__(self, cfg=None):
        super().__init__()
        self.cfg = dict(DEFAULT, **(cfg or {}))
        layers, cin = [], 3
        for w in self.cfg["widths"]:
            layers += [nn.Conv2d(cin, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            cin = w
        self.body = nn.Sequential(*layers)
        self.time = nn.Linear(cin, len(TIMES))
        self.weather = nn.Linear(cin, len(WEATHERS))

    def forward(self, x):
        s = self.cfg["scale"]
        if s != 1:
            x = F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False, antialias=True)
        h = self.body(x).mean(dim=(2, 3))
        return self.time(h), self.weather(h)


@torch.no_grad()
def predict(model, images, batch=64):
    """(time ids, weather ids) [N] of images [N,3,H,W] in [-1,1]."""
    model.eval()
    t, w = [], []
    for s in range(0, len(images), batch):
        a, b = model(images[s:s + batch])
        t.append(a.argmax(1))
        w.append(b.argmax(1))
    return torch.cat(t), torch.cat(w)


def load(path):
    sd, _ = load_prefixed(path, "")
    model = StyleNet({k: v for k, v in load_json_beside(path).items() if k in DEFAULT})
    model.load_state_dict(sd)
    return model.eval()


def accuracy(model, data, targets):
    """{"time": acc, "weather": acc} of model on WorldTensors data with (time, weather) targets."""
    t, w = predict(model, data.images.float() / 127.5 - 1.0)
    return {"time": (t == targets[0]).double().mean().item(), "weather": (w == targets[1]).double().mean().item()}


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
