"""UperNet-style semantic segmenter: a small ResNet-like backbone with 4 stages (strides 4/8/16/32), a
pyramid pooling module on the last stage and an FPN decoder that fuses all levels at stride 4, upsampled
bilinearly to the input size. With "refine": R > 0, a full-resolution head corrects those logits from two
3x3 convs on the image itself (R channels): the world's railings, poles and signs are a few pixels wide,
finer than anything a stride-4 map can draw.

It is the evaluation segmenter (14 world classes, 255 ignored) and, with num_classes = N + 1 (the extra
class "fake"), ALDM's segmenter discriminator; the class count is a config value.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from . import config
from .ldm_unet import GroupNorm32

IGNORE = 255

DEFAULT = {
    "num_classes": 14,
    "in_channels": 3,
    "stem": 32,
    "channels": [32, 64, 128, 256],
    "blocks": [1, 2, 2, 1],
    "fpn_dim": 64,
    "pool_scales": [1, 2, 3, 6],
    "norm": "bn",  # "bn" or "gn" (GroupNorm; batch-independent, for use as a discriminator)
    "refine": 0,  # channels of the full-resolution refinement head (0: none)
}


def load_config(path_or_dict=None):
    cfg = config.merged(path_or_dict, DEFAULT)
    if len(cfg["channels"]) != 4 or len(cfg["blocks"]) != 4:
        raise ValueError("segmenter: channels and blocks need 4 stages")
    return cfg


def _norm(kind, c):
    # GroupNorm in float32 (ldm_unet.GroupNorm32): the same for float32 inputs, and usable under a CPU autocast
    return nn.BatchNorm2d(c) if kind == "bn" else GroupNorm32(c, groups=min(32, c // 4) or 1)


class ConvNormAct(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, norm="bn"):
        super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), _norm(norm, cout), nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = _norm(norm, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = _norm(norm, cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(norm, cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)), inplace=True)
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)), inplace=True)


class Backbone(nn.Module):
    """Stem: two 3x3 convs (the first stride 2) + 3x3 stride-2 max-pool -> stride 4; stages 1..4 of
    BasicBlocks, stages 2..4 halve the resolution. Returns the 4 stage outputs."""

    def __init__(self, cfg):
        super().__init__()
        n = cfg["norm"]
        self.stem = nn.Sequential(ConvNormAct(cfg["in_channels"], cfg["stem"], 3, 2, n), ConvNormAct(cfg["stem"], cfg["stem"], 3, 1, n),
                                  nn.MaxPool2d(3, 2, 1))
        self.stages = nn.ModuleList()
        cin = cfg["stem"]
        for i, (c, b) in enumerate(zip(cfg["channels"], cfg["blocks"])):
            blocks = [BasicBlock(cin, c, 1 if i == 0 else 2, n)] + [BasicBlock(c, c, 1, n) for _ in range(b - 1)]
            self.stages.append(nn.Sequential(*blocks))
            cin = c

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return feats


class PPM(nn.Module):
    def __init__(self, cin, dim, scales, norm):
        super().__init__()
        self.scales = scales
        self.convs = nn.ModuleList([ConvNormAct(cin, dim, 1, 1, "gn" if norm == "gn" else "bn") for _ in scales])
        self.bottleneck = ConvNormAct(cin + len(scales) * dim, dim, 3, 1, norm)

    def forward(self, x):
        outs = [x]
        for s, conv in zip(self.scales, self.convs):
            p = conv(F.adaptive_avg_pool2d(x, s))
            outs.append(F.interpolate(p, size=x.shape[2:], mode="bilinear", align_corners=False))
        return self.bottleneck(torch.cat(outs, 1))


class Refine(nn.Module):
    """logits + out(head(cat(stem(image), logits))): a residual correction at full resolution."""

    def __init__(self, cin, r, k, norm):
        super().__init__()
        self.stem = nn.Sequential(ConvNormAct(cin, r, 3, 1, norm), ConvNormAct(r, r, 3, 1, norm))
        self.head = ConvNormAct(r + k, r, 3, 1, norm)
        self.out = nn.Conv2d(r, k, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: a trained coarse model keeps its answers
        nn.init.zeros_(self.out.bias)

    def forward(self, image, logits):
        return logits + self.out(self.head(torch.cat([self.stem(image), logits], 1)))


class UperNet(nn.Module):
    """forward(images [B,3,H,W] in [-1,1]) -> logits [B,num_classes,H,W]."""

    def __init__(self, cfg=None):
        super().__init__()
        self.config = load_config(cfg)
        c = self.config
        d, n = c["fpn_dim"], c["norm"]
        self.backbone = Backbone(c)
        self.ppm = PPM(c["channels"][3], d, c["pool_scales"], n)
        self.lateral = nn.ModuleList([ConvNormAct(ch, d, 1, 1, n) for ch in c["channels"][:3]])
        self.fpn_out = nn.ModuleList([ConvNormAct(d, d, 3, 1, n) for _ in range(3)])
        self.fuse = ConvNormAct(4 * d, d, 3, 1, n)
        self.classifier = nn.Conv2d(d, c["num_classes"], 1)
        self.refine = Refine(c["in_channels"], c["refine"], c["num_classes"], n) if c["refine"] else None

    def features(self, x):
        """The fused stride-4 feature map [B,fpn_dim,H/4,W/4]."""
        f = self.backbone(x)
        top = self.ppm(f[3])
        levels = [top]
        for i in (2, 1, 0):
            lat = self.lateral[i](f[i])
            top = lat + F.interpolate(top, size=lat.shape[2:], mode="bilinear", align_corners=False)
            levels.insert(0, self.fpn_out[i](top))
        size = levels[0].shape[2:]
        up = [levels[0]] + [F.interpolate(l, size=size, mode="bilinear", align_corners=False) for l in levels[1:]]
        return self.fuse(torch.cat(up, 1))

    def coarse(self, x):
        """The stride-4 logits upsampled to the input size (what the refinement head, if any, corrects)."""
        return F.interpolate(self.classifier(self.features(x)), size=x.shape[2:], mode="bilinear", align_corners=False)

    def forward(self, x):
        logits = self.coarse(x)
        return self.refine(x, logits) if self.refine is not None else logits



def balanced_ce(logits, label, n_classes):
    """Class-balanced cross-entropy (ALDM's loss sampler V1): coef_c = (N_valid / count_c) / (n_present *
    n_classes); pixel weight coef[label]; loss = sum(CE * w) / N_valid (IGNORE pixels left out)."""
    valid = label != IGNORE
    nv = valid.sum().clamp_min(1)
    lab = label.clone()
    lab[~valid] = 0
    counts = torch.bincount(lab[valid], minlength=n_classes).float()
    present = (counts > 0).sum().clamp_min(1)
    coef = torch.where(counts > 0, nv / counts.clamp_min(1), torch.zeros_like(counts)) / (present * n_classes)
    ce = F.cross_entropy(logits, lab, reduction="none")
    return (ce * coef[lab] * valid).sum() / nv

def confusion(pred, label, num_classes, ignore=IGNORE):
    """[num_classes, num_classes] counts (rows: truth, columns: prediction), ignoring `ignore` pixels."""
    keep = label != ignore
    idx = label[keep] * num_classes + pred[keep]
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def iou_from_confusion(conf):
    """Per-class IoU (NaN for classes absent in both truth and prediction), mIoU over the present ones,
    and pixel accuracy."""
    conf = conf.double()
    tp = conf.diag()
    union = conf.sum(0) + conf.sum(1) - tp
    iou = tp / union
    iou[union == 0] = float("nan")
    present = ~torch.isnan(iou)
    miou = iou[present].mean().item() if present.any() else float("nan")
    acc = (tp.sum() / conf.sum()).item() if conf.sum() > 0 else float("nan")
    return iou.tolist(), miou, acc


@torch.no_grad()
def evaluate(model, dataset, batch=16, device="cpu", limit=None):
    """mIoU of model on a WorldImages dataset: {"miou", "acc", "iou": per class, "images"}."""
    model.eval()
    k = model.config["num_classes"]
    conf = torch.zeros(k, k, dtype=torch.long)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for s in range(0, n, batch):
        items = [dataset[i] for i in range(s, min(n, s + batch))]
        x = torch.stack([it["image"] for it in items]).to(device)
        y = torch.stack([it["label"] for it in items])
        pred = model(x).argmax(1).cpu()
        conf += confusion(pred, y, k)
    iou, miou, acc = iou_from_confusion(conf)
    return {"miou": miou, "acc": acc, "iou": iou, "images": n}


def save_segmenter(model, weights_path, config_path=None, metadata=None, extra=None):
    from .safetensors_io import save
    if config_path:  # the record first (write_record)
        cfg = dict(model.config)
        cfg.update(extra or {})
        from .exports import write_record
        write_record(config_path, cfg)
    save({k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}, weights_path, metadata)


def load_segmenter(weights_path, config, new=()):
    """The segmenter of `config` with the weights of weights_path; tensors whose names start with one of `new`
    may be absent (they keep their initialisation: a refinement head added to a trained model)."""
    from .safetensors_io import load
    model = UperNet(config)
    sd, _ = load(weights_path)
    model.load_state_dict(sd, strict=False)
    missing = [k for k in model.state_dict()
               if k not in sd and not k.endswith("num_batches_tracked") and not k.startswith(tuple(new))]
    if missing:
        raise ValueError(f"segmenter: {weights_path} lacks {missing[:5]}")
    return model
