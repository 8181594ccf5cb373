"""Issue #20's encoder tables (ISSA thesis Tables 3.1 and 3.2 on the procedural world): reconstruction and style
mixing of held-out world images through Masked Noise Encoder ablations on one frozen generator, with FDA as the
style-mixing baseline. JSON report and Markdown tables (docs/evaluation.md).

cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.eval_mne_tables \
    --encoder "W+ only=../../runs/mne_wplus/mne.safetensors" --encoder "noise=../../runs/mne_noise/mne.safetensors" \
    --encoder "masked noise=../../runs/mne_masked_step1841/mne.safetensors" \
    --generator ../../runs/stylegan_mne/g_snap1.safetensors --style-classifier ../../runs/style_cls/style_cls.safetensors \
    --data ../../data/world/val --start 500 --count 500 --out ../../docs/eval/mne_tables.json
Encoders can also be measured one run each (--no-baselines, their own --out, side by side) and the reports
combined with `--merge A.json B.json ... --out C.json` (refused unless measured on the same images, pairs,
bootstrap draws and judges), or added to an existing report with --update.

Reconstruction, per image of the set: MSE (pixels in 0..1), PSNR, the perceptual distance of dgtrain.perceptual
(the evaluation segmenter's early features; the encoders were trained with it, so it is not an independent
judge), the CLIP distance (1 - cosine of the evaluation CLIP's image embeddings, never used in training), and
over the set the Frechet distance of CLIP image-tower features to the real images; plus the evaluation
segmenter's mIoU on the reconstructions and the style classifier's accuracy on them (its domain gap on generator
images).
Style mixing: each image is the content of one pair, its exemplar a random other image of the set whose time of
day and weather both differ. Noise encoders: G(ws of the exemplar, noise maps of the content) (ISSA's mixing,
strength 1). W+ only: no maps to carry the content, so StyleGAN's layer swap, the content's coarse ws (the
course_styles heads) and the exemplar's others. FDA: the engine's defaults on the real images. Content kept =
the evaluation segmenter's mIoU on the mixed image against the content's labels; style taken = the style
classifier predicts the exemplar's time / weather on it.
Intervals: 95% bootstrap over the images (pairs), one draw shared by all rows (FD: its first 200 draws).
"""
import argparse
import json
import os
import time

import torch

from . import REPO
from . import mne as M
from . import segmenter as SG
from . import stylegan2 as S
from . import style_classifier as SC
from .mne import distances, encode, synthesize
from .judges import Judges
from .exports import load_json_beside
from .fda import fda
from .perceptual import Perceptual
from .stats import draw_weights, fd_ci, mean_ci, miou_ci
from .world_data import WorldTensors


def exemplar_pairs(times, weathers, seed=0):
    """For each item i a random j != i whose time and weather both differ from i's ([N] int64); -1 where none."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(len(times)):
        cand = ((times != times[i]) & (weathers != weathers[i])).nonzero().flatten()
        out.append(int(cand[torch.randint(len(cand), (1,), generator=g)]) if len(cand) else -1)
    return torch.tensor(out)


def wplus_swap(ws_content, ws_style, n_coarse):
    """StyleGAN's layer swap: the content's first n_coarse ws, the style's others."""
    return torch.cat([ws_content[:, :n_coarse], ws_style[:, n_coarse:]], 1)


class Judge:
    """What every row is measured with: the evaluation segmenter and CLIP (judges.Judges), the style
    classifier, the bootstrap weights and the real images' CLIP features."""

    def __init__(self, models, classifier, labels, styles, real, rounds, seed):
        self.j = Judges(models)
        self.cls = SC.load(classifier)
        self.labels, self.styles = labels, styles
        self.k = len(self.j.names)
        self.weights = draw_weights(len(real), rounds, seed)
        self.real_feats, self.real_emb = self.features(real)

    @torch.no_grad()
    def features(self, images, batch=50):
        fs = [self.j.features(images[s:s + batch]) for s in range(0, len(images), batch)]
        return torch.cat([f for f, _ in fs]), torch.cat([e for _, e in fs])

    def content(self, images):
        seg = self.j.segment(images)
        conf = torch.stack([SG.confusion(seg[i], self.labels[i], self.k) for i in range(len(seg))])
        return miou_ci(conf, self.weights)

    def style(self, images, target):
        """Per-item accuracy of the classifier against target (time ids, weather ids): time, weather, both."""
        t, w = SC.predict(self.cls, images)
        hit_t, hit_w = (t == target[0]).double(), (w == target[1]).double()
        return {k: mean_ci(v, self.weights) for k, v in (("time", hit_t), ("weather", hit_w), ("both", hit_t * hit_w))}

    def realism(self, images):
        feats, _ = self.features(images)
        return fd_ci(feats, self.real_feats, self.weights)


def recon_row(judge, rec, img, perc):
    d = distances(rec, img, perc)
    _, emb = judge.features(rec)
    d["clip_distance"] = 1 - (emb * judge.real_emb).sum(-1)
    row = {k: mean_ci(v, judge.weights) for k, v in d.items()}
    row["fd_clip"] = judge.realism(rec)
    row["miou"] = judge.content(rec)
    row["style_own"] = judge.style(rec, judge.styles)
    return row


def mixing_row(judge, mixed, pairs):
    exemplar = (judge.styles[0][pairs], judge.styles[1][pairs])
    return {"miou_content": judge.content(mixed), "style_exemplar": judge.style(mixed, exemplar),
            "style_content": judge.style(mixed, judge.styles), "fd_clip": judge.realism(mixed)}


def markdown(r):
    f = lambda v, d=3: f"{v[0]:.{d}f} [{v[1][0]:.{d}f}, {v[1][1]:.{d}f}]"  # noqa: E731
    lines = [f"{r['count']} images of {r['data']} (items {r['start']}..{r['start'] + r['count'] - 1}); 95% bootstrap "
             f"intervals over the images ({r['rounds']} draws; FD 200)", "",
             "| encoder (steps) | MSE | PSNR dB | perceptual (trained on) | CLIP distance | FD (CLIP features) | mIoU | "
             "style kept: time / weather |", "|---|---|---|---|---|---|---|---|"]
    rows = dict(r["reconstruction"])
    for name, x in rows.items():
        steps = r["encoders"].get(name, {}).get("steps", "")
        lines.append(f"| {name} ({steps}) | {f(x['mse'], 4)} | {f(x['psnr'], 2)} | {f(x['perceptual'])} | "
                     f"{f(x['clip_distance'])} | {f(x['fd_clip'], 2)} | {f(x['miou'])} | "
                     f"{x['style_own']['time'][0]:.3f} / {x['style_own']['weather'][0]:.3f} |")
    lines += ["", f"Style mixing, {r['pairs']} pairs (exemplar's time and weather both differ from the content's)", "",
              "| method | content mIoU | exemplar's time | exemplar's weather | both | content's time and weather kept | "
              "FD to real |", "|---|---|---|---|---|---|---|"]
    for name, x in r["mixing"].items():
        lines.append(f"| {name} | {f(x['miou_content'])} | {f(x['style_exemplar']['time'])} | "
                     f"{f(x['style_exemplar']['weather'])} | {f(x['style_exemplar']['both'])} | "
                     f"{f(x['style_content']['both'])} | {f(x['fd_clip'], 2) if 'fd_clip' in x else ''} |")
    return "\n".join(lines) + "\n"


SAME = ("data", "start", "count", "rounds", "seed", "generator", "style_classifier")  # what rows to combine share


def merge(reports):
    """One report of several measured on the same images, pairs, draws and judges (later rows replace earlier)."""
    out = dict(reports[0], encoders={}, reconstruction={}, mixing={})
    for r in reports:
        if any(r.get(k) != out.get(k) for k in SAME):
            raise SystemExit(f"reports measured on other images, draws or judges ({SAME}) cannot be merged")
        for k in ("encoders", "reconstruction", "mixing"):
            out[k].update(r[k])
    out["seconds"] = sum(r.get("seconds", 0) for r in reports)
    return out


def write(report, path):
    text = markdown(report)
    print(text)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)
            fh.write("\n")
        with open(os.path.splitext(path)[0] + ".md", "w") as fh:
            fh.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", action="append", metavar="NAME=PATH")
    ap.add_argument("--merge", nargs="+", metavar="REPORT",
                    help="only combine these JSON reports (runs of this script side by side) into --out")
    ap.add_argument("--generator")
    ap.add_argument("--style-classifier")
    ap.add_argument("--models", default=os.path.join(REPO, "assets", "models"))
    ap.add_argument("--data", default=os.path.join(REPO, "data", "world", "val"))
    ap.add_argument("--start", type=int, default=500, help="first item (train_mne validates on the first 32)")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="JSON report (and .md beside)")
    ap.add_argument("--update", action="store_true",
                    help="keep the rows of an existing --out report (same images, pairs and draws) and add or replace "
                         "these encoders' rows: encoders measured one at a time, e.g. as their training finishes")
    ap.add_argument("--no-baselines", action="store_true", help="skip the real-image and FDA rows")
    args = ap.parse_args(argv)
    if args.merge:
        reports = []
        for path in args.merge:
            with open(path) as fh:
                reports.append(json.load(fh))
        write(merge(reports), args.out)
        return merge(reports)
    if not args.generator or not args.style_classifier:
        ap.error("--generator and --style-classifier are needed (all but --merge)")
    if not args.encoder and args.no_baselines:
        ap.error("nothing to measure: give --encoder, or leave out --no-baselines")
    torch.set_num_threads(args.threads)
    t0 = time.time()
    data = WorldTensors(args.data, indices=range(args.start, args.start + args.count))
    times, weathers = SC.style_targets(args.data)
    sel = torch.arange(args.start, args.start + len(data))
    styles = (times[sel], weathers[sel])
    img, labels = data.images.float() / 127.5 - 1.0, data.labels.long()
    judge = Judge(args.models, args.style_classifier, labels, styles, img, args.rounds, args.seed)
    perc = Perceptual(os.path.join(args.models, "eval_segmenter.safetensors"))
    pairs = exemplar_pairs(*styles, seed=args.seed)
    if (pairs < 0).any():
        raise SystemExit("an item has no exemplar of another time and weather")
    g = S.load_generator(args.generator).eval()
    report = {"data": os.path.relpath(args.data, REPO), "start": args.start, "count": len(data), "pairs": len(pairs),
              "rounds": args.rounds, "generator": args.generator, "style_classifier": args.style_classifier,
              "seed": args.seed, "encoders": {}, "reconstruction": {}, "mixing": {}}
    if args.update and args.out and os.path.exists(args.out):
        with open(args.out) as fh:
            old = json.load(fh)
        report = merge([old, report])
    if not args.no_baselines:
        report["mixing"]["content image (real)"] = mixing_row(judge, img, pairs)
        report["mixing"]["exemplar image (real)"] = mixing_row(judge, img[pairs], pairs)
        report["mixing"]["FDA (beta 0.05, strength 0.8)"] = mixing_row(judge, fda(img, img[pairs]).clamp(-1, 1), pairs)
    for spec in args.encoder or []:
        name, path = spec.split("=", 1)
        e = M.load_encoder(path)
        record = load_json_beside(path)
        report["encoders"][name] = {"path": path, "mode": e.mode, "steps": record.get("training", {}).get("steps")}
        print(f"{name}: {e.mode}, step {report['encoders'][name]['steps']}", flush=True)
        ws, nz = encode(e, img)
        report["reconstruction"][name] = recon_row(judge, synthesize(e, g, ws, nz), img, perc)
        if nz:
            mixed = synthesize(e, g, ws[pairs], nz)
        else:
            mixed = synthesize(e, g, wplus_swap(ws, ws[pairs], e.cfg["style_split"][0]), nz)
        report["mixing"][name] = mixing_row(judge, mixed, pairs)
    report["seconds"] = round(time.time() - t0, 1)
    write(report, args.out)
    return report


if __name__ == "__main__":
    main()
