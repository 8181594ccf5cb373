"""Reader of the procedural world's datasets (docs/world-format.md), shared by every training script.

Image datasets: `WorldImages(root)` yields dicts with the image in [-1, 1], the class-id label map
(255 = unlabelled), the captions and their token roles as character spans. Video datasets: `WorldVideos` (items
with labels and stages), `WorldClips` (frames in memory, for the video trainer).
"""
import json
import os
import random
import warnings

import numpy as np
import torch
from PIL import Image

from . import REPO

UNLABELLED = 255


def read_index(root):
    """All entries of root/index.jsonl (blank lines skipped)."""
    entries = []
    with open(os.path.join(root, "index.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{root}/index.jsonl line {n}: {e}") from None
    return entries


def load_palette(path="assets/palettes/world.json"):
    """The class palette: {"unlabelled": 255, "names": [...], "colors": uint8 [N,3], "classes": [...]}.
    A relative path that does not exist from the working directory is resolved from the repository root."""
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(REPO, path)
    with open(path, encoding="utf-8") as f:
        pal = json.load(f)
    classes = sorted(pal["classes"], key=lambda c: c["id"])
    if [c["id"] for c in classes] != list(range(len(classes))):
        raise ValueError(f"{path}: class ids must be dense from 0")
    pal["names"] = [c["name"] for c in classes]
    pal["colors"] = np.array([c["color"] for c in classes], dtype=np.uint8)
    pal.setdefault("unlabelled", UNLABELLED)
    return pal


def _rgb8_array(path):
    """uint8 numpy [3,H,W] (numpy only: also runs in the decode workers)."""
    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1))


LAYOUT_SURE, LAYOUT_NEAR, LAYOUT_MIN_NEAR = 8, 16, 0.75  # app/dg_layout_read.h


def colour_label(rgba, path, palette=None):
    """World class ids [H,W] of a colour-coded label map (uint8 [H,W,4]), read as the engine reads a painted
    layout (app/dg_layout_read.c, docs/palettes.md) in the world palette: within 8 of a class colour that class;
    within 16 that class unless beside a pixel of another class within 8; blends along edges take the class of
    a resolved 8-neighbour whose colour is nearest theirs; alpha below 128 is unlabelled. Under 75% of the
    opaque pixels within 16 of a class colour is not a layout (ValueError naming the file)."""
    pal = palette or load_palette()
    colours = np.concatenate([pal["colors"], np.zeros((1, 3), np.uint8)]).astype(np.int64)  # unlabelled: black
    ids = np.append(np.arange(len(pal["colors"])), UNLABELLED).astype(np.uint8)
    rgb, opaque = rgba[..., :3].astype(np.int64), rgba[..., 3] >= 128
    d2 = ((rgb[:, :, None, :] - colours[None, None]) ** 2).sum(-1)
    nearest, dmin = d2.argmin(-1), d2.min(-1)
    near = opaque & (dmin <= LAYOUT_NEAR ** 2)
    if opaque.any() and near.sum() < LAYOUT_MIN_NEAR * opaque.sum():
        raise ValueError(f"{path}: not a colour-coded layout: {100 * near.sum() / opaque.sum():.0f}% of its pixels "
                         f"are within {LAYOUT_NEAR} of a world class colour (at least 75% needed)")
    h, w = nearest.shape
    sure = opaque & (dmin <= LAYOUT_SURE ** 2)
    unsure = near & ~sure

    def neighbours(a, fill):
        """a's 8 neighbours of every pixel: [8,H,W], `fill` outside the image."""
        p = np.pad(a, 1, constant_values=fill)
        return np.stack([p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])

    nb_sure, nb_class = neighbours(sure, False), neighbours(nearest, -1)
    edge = unsure & (nb_sure & (nb_class != nearest[None])).any(0)
    resolved = (sure | unsure) & ~edge
    pending = opaque & ~resolved
    label = nearest.copy()
    for _ in range(250):
        if not pending.any():
            break
        nb_res, nb_lab = neighbours(resolved, False), neighbours(label, 0)
        dist = ((rgb[None] - colours[nb_lab]) ** 2).sum(-1)
        dist = np.where(nb_res, dist, np.iinfo(np.int64).max)
        k = dist.argmin(0)
        got = pending & nb_res.any(0)
        label = np.where(got, np.take_along_axis(nb_lab, k[None], 0)[0], label)
        resolved, pending = resolved | got, pending & ~got
    out = ids[label]
    out[~opaque] = UNLABELLED
    return out


def _label8_array(path):
    """An 8-bit palette or grey label PNG's class ids; a colour-coded one (RGB, RGBA: a hand-painted test set) read
    by colour_label."""
    with Image.open(path) as im:
        if im.mode in ("P", "L"):
            return np.array(im, dtype=np.uint8)
        if im.mode in ("RGB", "RGBA", "LA"):
            return colour_label(np.asarray(im.convert("RGBA")), path)
        raise ValueError(f"{path}: label PNG must be 8-bit palette or grey, or colour-coded RGB, not {im.mode}")


def _read_rgb8(path):
    return torch.from_numpy(_rgb8_array(path))


def _read_label8(path):
    return torch.from_numpy(_label8_array(path))


def _pair_arrays(root, e):
    """An index entry's (image uint8 [3,H,W], label uint8 [H,W]) as numpy arrays."""
    img, lab = _rgb8_array(os.path.join(root, e["image"])), _label8_array(os.path.join(root, e["label"]))
    if img.shape[1:] != lab.shape:
        raise ValueError(f"{e['id']}: image {tuple(img.shape[1:])} and label {tuple(lab.shape)} differ")
    return img, lab


def caption_texts(e):
    """The caption texts of an index entry."""
    return [c["text"] for c in e.get("captions", [])]


def load_image(path):
    """RGB8 PNG -> float32 tensor [3,H,W] in [-1,1]."""
    return _read_rgb8(path).float() / 127.5 - 1.0


def load_label(path):
    """8-bit label PNG (palette or grey; pixel value = class id) -> int64 tensor [H,W]."""
    return _read_label8(path).long()


def _roles(caption):
    out = []
    for r in caption.get("roles", []) or []:
        attr = r.get("attribute")
        out.append({"object": list(r["object"]), "attribute": list(attr) if attr is not None else None})
    return out


DECODED = "decoded"  # root/decoded/{images,labels}.npy: every still image decoded once (see decode_dataset)


def _decode_chunk(args):
    """Decodes entries[start:start+len] straight into the shared arrays (no images sent between processes).
    numpy only: workers running torch ops (a thread pool each) decoded 20k images in 3 minutes on 16 cores."""
    root, out, start, entries = args
    images, labels = (np.load(os.path.join(out, f"{n}.tmp.npy"), mmap_mode="r+") for n in ("images", "labels"))
    for k, e in enumerate(entries, start):
        img, lab = _pair_arrays(root, e)
        if img.shape != images.shape[1:] or lab.shape != labels.shape[1:]:
            raise ValueError(f"{root}: {e['id']} is {img.shape[1:]}, not {images.shape[2:]} like the first image")
        images[k], labels[k] = img, lab
    images.flush()
    labels.flush()


def decode_dataset(root, workers=None):
    """Decodes every still image and label of a dataset once, in parallel, into root/decoded/images.npy
    (uint8 [N,3,H,W]) and labels.npy (uint8 [N,H,W]), in index order, so that several training processes
    memory-map one copy instead of each decoding 20k PNGs."""
    import multiprocessing
    entries = [e for e in read_index(root) if "frames" not in e]
    if not entries:
        raise ValueError(f"{root}: no still images to decode")
    out = os.path.join(root, DECODED)
    os.makedirs(out, exist_ok=True)
    img, lab = _pair_arrays(root, entries[0])
    for name, shape in (("images", img.shape), ("labels", lab.shape)):
        np.lib.format.open_memmap(os.path.join(out, f"{name}.tmp.npy"), "w+", np.uint8,
                                  (len(entries),) + shape).flush()
    chunk = 256
    with multiprocessing.Pool(workers) as pool:
        pool.map(_decode_chunk, [(root, out, s, entries[s:s + chunk]) for s in range(0, len(entries), chunk)])
    for name in ("images", "labels"):
        os.replace(os.path.join(out, f"{name}.tmp.npy"), os.path.join(out, f"{name}.npy"))
    return len(entries)


def load_decoded(root, count):
    """(images, labels) memory-mapped from root/decoded when decode_dataset wrote them for `count` items, else None."""
    paths = [os.path.join(root, DECODED, f"{n}.npy") for n in ("images", "labels")]
    if not all(os.path.exists(p) for p in paths):
        return None
    images, labels = (np.load(p, mmap_mode="r") for p in paths)
    if images.shape[0] != count or labels.shape[0] != count:
        return None  # stale: the dataset grew or shrank since
    return images, labels


class WorldImages(torch.utils.data.Dataset):
    """Still images of a world dataset; clip entries (with "frames") are skipped. Reads root/decoded when present.
    cache=True keeps the decoded 8-bit image and label of every item read (about 130 KB per 128x256 item)."""

    def __init__(self, root, hflip=False, cache=False):
        self.root = root
        self.hflip = hflip
        self.entries = [e for e in read_index(root) if "frames" not in e]
        self.decoded = load_decoded(root, len(self.entries))
        self.cache = {} if cache and self.decoded is None else None

    def __len__(self):
        return len(self.entries)

    def _read(self, i):
        if self.decoded is not None:
            return torch.from_numpy(np.array(self.decoded[0][i])), torch.from_numpy(np.array(self.decoded[1][i]))
        if self.cache is not None and i in self.cache:
            return self.cache[i]
        pair = tuple(torch.from_numpy(a) for a in _pair_arrays(self.root, self.entries[i]))
        if self.cache is not None:
            self.cache[i] = pair
        return pair

    def __getitem__(self, i):
        e = self.entries[i]
        rgb, lab = self._read(i)
        image = rgb.float() / 127.5 - 1.0
        label = lab.long()
        if self.hflip and random.random() < 0.5:
            image = image.flip(-1)
            label = label.flip(-1)
        return {
            "image": image,
            "label": label,
            "captions": caption_texts(e),
            "roles": [_roles(c) for c in e.get("captions", [])],
            "id": e["id"],
        }


class WorldVideos(torch.utils.data.Dataset):
    """Video clips of a world dataset (entries with "frames"); still images are skipped."""

    def __init__(self, root, hflip=False):
        self.root = root
        self.hflip = hflip
        self.entries = [e for e in read_index(root) if "frames" in e]

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, i):
        e = self.entries[i]
        frames = torch.stack([load_image(os.path.join(self.root, p)) for p in e["frame_images"]])
        labels = torch.stack([load_label(os.path.join(self.root, p)) for p in e["frame_labels"]])
        if frames.shape[0] != e["frames"] or labels.shape[0] != e["frames"]:
            raise ValueError(f"{e['id']}: expected {e['frames']} frames, got {frames.shape[0]} images, {labels.shape[0]} labels")
        if self.hflip and random.random() < 0.5:
            frames = frames.flip(-1)
            labels = labels.flip(-1)
        return {
            "frames": frames,
            "labels": labels,
            "caption": e.get("caption", ""),
            "stages": [dict(s) for s in e.get("stages", [])],
            "transition": e.get("transition"),
            "id": e["id"],
        }


class WorldClips:
    """A world video dataset held in memory: uint8 frames [N,F,3,H,W] (PNG decoding once), each clip's single
    overall caption (the training text), transition kind and stages (ground truth for evaluation only: the stage
    captions are never training text)."""

    def __init__(self, root, max_clips=0):
        ds = WorldVideos(root)
        entries = ds.entries[:max_clips] if max_clips else ds.entries
        if not entries:
            raise SystemExit(f"{root}: no video clips (dirigent-cli world dataset --video --frames 16)")
        frames = {e["frames"] for e in entries}
        if len(frames) > 1:
            raise SystemExit(f"{root}: clips of different lengths {sorted(frames)}")
        self.captions = [e.get("caption", "") for e in entries]
        self.ids = [e["id"] for e in entries]
        self.transitions = [e.get("transition") for e in entries]
        self.stages = [e.get("stages", []) for e in entries]
        self.frames = np.stack([np.stack([_rgb8_array(os.path.join(root, p)) for p in e["frame_images"]])
                                for e in entries])
        self.frames = torch.from_numpy(self.frames)

    def __len__(self):
        return self.frames.shape[0]

    def as_images(self):
        """The frames as a WorldTensors of N*F images (clip-major; ids CLIP/K), for latents.cached_latents."""
        out = object.__new__(WorldTensors)
        n, f = self.frames.shape[:2]
        out.images, out.labels = self.frames.reshape((n * f,) + tuple(self.frames.shape[2:])), None
        out.captions = [[c] for c in self.captions for _ in range(f)]
        out.ids = [f"{i}/{k}" for i in self.ids for k in range(f)]
        return out


def caption_corpus(root):
    """Every caption text of a dataset (image captions, clip captions and stage texts), in index order."""
    out = []
    for e in read_index(root):
        for c in e.get("captions", []) or []:
            out.append(c["text"])
        if "caption" in e:
            out.append(e["caption"])
        for s in e.get("stages", []) or []:
            out.append(s["text"])
    return out


def collate_images(batch):
    """Batch WorldImages items: stacked image/label, lists for the rest."""
    return {
        "image": torch.stack([b["image"] for b in batch]),
        "label": torch.stack([b["label"] for b in batch]),
        "captions": [b["captions"] for b in batch],
        "roles": [b["roles"] for b in batch],
        "id": [b["id"] for b in batch],
    }


class WorldTensors:
    """A world image dataset held in memory as uint8 images [N,3,H,W] and uint8 labels [N,H,W] (PNG decoding
    once, not every step), with its captions."""

    def __init__(self, root, max_images=0, indices=None):
        ds = WorldImages(root)
        n = len(ds) if not max_images else min(max_images, len(ds))
        idx = list(range(n)) if indices is None else [i for i in indices if i < n]
        if not idx:
            raise SystemExit(f"{root}: no images")
        self.captions = [caption_texts(ds.entries[i]) or [""] for i in idx]
        self.ids = [ds.entries[i]["id"] for i in idx]
        if ds.decoded is not None:  # decode_dataset already did the work
            if idx == list(range(len(ds))):  # the whole set: mapped, so runs side by side share the page cache
                with warnings.catch_warnings():  # read-only memory: nothing here writes into a dataset
                    warnings.simplefilter("ignore")
                    self.images, self.labels = (torch.from_numpy(a) for a in ds.decoded)
            else:
                self.images = torch.from_numpy(np.ascontiguousarray(ds.decoded[0][idx]))
                self.labels = torch.from_numpy(np.ascontiguousarray(ds.decoded[1][idx]))
            return
        # Filled one 8-bit item at a time: holding every decoded float image first would need ~16 GB for 20k.
        self.images = self.labels = None
        for k, i in enumerate(idx):
            img, lab = ds._read(i)
            if self.images is None:
                self.images = torch.empty((len(idx),) + tuple(img.shape), dtype=torch.uint8)
                self.labels = torch.empty((len(idx),) + tuple(lab.shape), dtype=torch.uint8)
            self.images[k], self.labels[k] = img, lab

    def __len__(self):
        return self.images.shape[0]

    def subset(self, idx):
        out = object.__new__(WorldTensors)
        idx = list(idx)
        out.images, out.labels = self.images[idx], self.labels[idx]
        out.captions, out.ids = [self.captions[i] for i in idx], [self.ids[i] for i in idx]
        return out

    def batch(self, idx, device, hflip=False, gen=None):
        """(images float [-1,1], labels int64 with 255 unlabelled, one random caption each)."""
        img = self.images[idx].float() / 127.5 - 1.0
        lab = self.labels[idx].long()
        if hflip:
            flip = torch.rand(len(idx), generator=gen) < 0.5
            img[flip] = img[flip].flip(-1)
            lab[flip] = lab[flip].flip(-1)
        return img.to(device), lab.to(device), self.draw_captions(idx, gen)

    def draw_captions(self, idx, gen=None, drop=None):
        """One random caption of each image of idx (from the host generator gen), and with `drop` each replaced
        by "" with that probability (classifier-free guidance): the host path's draws (resident.Captions.draw
        makes them on a device)."""
        caps = [self.captions[i][int(torch.randint(len(self.captions[i]), (1,), generator=gen))] for i in idx]
        if drop is None:
            return caps
        return ["" if float(torch.rand(1, generator=gen)) < drop else c for c in caps]


def concat(parts):
    """One WorldTensors of several (same image size), in order."""
    if len(parts) == 1:
        return parts[0]
    shapes = {tuple(p.images.shape[1:]) for p in parts}
    if len(shapes) > 1:
        raise SystemExit(f"datasets of different image sizes cannot be mixed: {sorted(shapes)}")
    out = object.__new__(WorldTensors)
    out.images = torch.cat([p.images for p in parts])
    out.labels = torch.cat([p.labels for p in parts])
    out.captions = [c for p in parts for c in p.captions]
    out.ids = [i for p in parts for i in p.ids]
    out.parts = [len(p) for p in parts]  # per-dataset caches (latents) stay valid across mixes
    return out


def split_data(args):
    """(train, val) WorldTensors from the arguments --data, --val, --val-frac, --max-images and --extra-data: --val
    if given, else the last val_frac of --data; --extra-data joins training."""
    if getattr(args, "extra_data", None):
        import argparse
        train, val = split_data(argparse.Namespace(**dict(vars(args), extra_data=[])))
        return concat([train] + [WorldTensors(d, args.max_images) for d in args.extra_data]), val
    data = WorldTensors(args.data, args.max_images)
    if args.val:
        return data, WorldTensors(args.val, max(1, min(len(data) // 10, 200)) if args.max_images else 200)
    n_val = max(1, int(round(len(data) * args.val_frac))) if len(data) > 1 else 0
    n_tr = len(data) - n_val
    return data.subset(range(n_tr)), data.subset(range(n_tr, len(data))) if n_val else data


if __name__ == "__main__":
    import sys
    if len(sys.argv) < 3 or sys.argv[1] != "decode":
        raise SystemExit("usage: python3 -m dgtrain.world_data decode DATASET_DIR...")
    import time
    for d in sys.argv[2:]:
        t0 = time.time()
        n = decode_dataset(d)
        print(f"{d}: decoded {n} images into {os.path.join(d, DECODED)} in {time.time() - t0:.1f} s")
