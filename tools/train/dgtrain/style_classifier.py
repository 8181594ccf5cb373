"""A small style classifier of world images, the judge of style mixing (docs/evaluation.md): four stride-2
conv + BN + ReLU stages on the image at half size, global average pooling, two linear heads, time of day
(day / sunset / night) and weather (clear / fog / rain / snow). dgtrain.train_style_classifier trains it with
the sum of both cross-entropies on a world split's "style" fields (hflip augmentation). Never used to train a
generator or an encoder."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .exports import load_json_beside, load_prefixed
from .world_data import read_index

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
