"""A tiny synthetic dataset in the world format (docs/world-format.md), for tests and smoke runs only.

Scenes are layered rectangles (sky, optional mountain/cloud, ground, road, objects) with the class colours
of the palette plus per-scene colour shifts and noise, so a segmenter has something to learn; captions
name the coloured objects with their roles as character spans. Not a substitute for the real generator.
"""
import json
import os
import random

import numpy as np
from PIL import Image

from .world_data import UNLABELLED, load_palette

COLOURS = {"red": (200, 30, 30), "blue": (30, 60, 210), "green": (40, 170, 60), "yellow": (230, 210, 40),
           "white": (235, 235, 235), "black": (25, 25, 25)}
OBJECTS = ["car", "person", "tree", "sign", "building"]
ID = {n: i for i, n in enumerate(["sky", "cloud", "mountain", "water", "grass", "road", "sidewalk", "building",
                                  "tree", "car", "person", "pole", "fence", "sign"])}


def _caption(objs, style, kind):
    """objs: list of (name, colour word). Returns a caption dict with roles."""
    text, roles = "", []
    if kind == "count":
        text = f"{len(objs)} things: "
    else:
        text = "a "
    for k, (name, colour) in enumerate(objs):
        if k:
            text += " and a " if kind != "list" else ", a "
        a0 = len(text)
        text += colour
        a1 = len(text)
        text += " "
        o0 = len(text)
        text += name
        roles.append({"object": [o0, len(text)], "attribute": [a0, a1]})
    text += f" on a {style['season']} street at {style['time']}"
    o0 = text.index("street")
    roles.append({"object": [o0, o0 + 6], "attribute": None})
    return {"text": text, "kind": kind, "roles": roles}


def make_scene(rng, width, height, colors):
    img = np.zeros((height, width, 3), np.float32)
    lab = np.zeros((height, width), np.uint8)

    def paint(cls, y0, y1, x0, x1, colour=None):
        c = np.array(colour if colour is not None else colors[cls], np.float32)
        img[y0:y1, x0:x1] = c
        lab[y0:y1, x0:x1] = cls

    horizon = rng.randint(height // 3, height // 2)
    paint(ID["sky"], 0, horizon, 0, width)
    if rng.random() < 0.6:
        m0 = rng.randint(0, width // 2)
        paint(ID["mountain"], horizon - rng.randint(4, horizon // 2 + 4), horizon, m0, m0 + rng.randint(width // 4, width // 2))
    for _ in range(rng.randint(0, 2)):
        cx, cy = rng.randint(0, width - 20), rng.randint(0, max(1, horizon - 12))
        paint(ID["cloud"], cy, cy + rng.randint(4, 10), cx, cx + rng.randint(10, 30))
    paint(ID["grass"] if rng.random() < 0.5 else ID["sidewalk"], horizon, height, 0, width)
    road0 = horizon + (height - horizon) // 3
    paint(ID["road"], road0, height, 0, width)
    if rng.random() < 0.3:
        paint(ID["water"], horizon, road0, 0, rng.randint(width // 5, width // 2))
    objs = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(OBJECTS)
        colour = rng.choice(sorted(COLOURS))
        w = rng.randint(width // 12, width // 5)
        h = rng.randint(height // 8, height // 3)
        x = rng.randint(0, width - w)
        y = rng.randint(max(0, horizon - h // 2), height - h)
        paint(ID[name], y, y + h, x, x + w, COLOURS[colour])
        objs.append((name, colour))
    for _ in range(rng.randint(0, 2)):
        x = rng.randint(0, width - 3)
        paint(ID["pole"], rng.randint(0, horizon), height - rng.randint(0, 10), x, x + rng.randint(1, 3))
    if rng.random() < 0.3:
        paint(ID["fence"], road0 - 6, road0, 0, width)
    style = {"time": rng.choice(["day", "night", "dusk"]), "weather": rng.choice(["clear", "rain", "fog"]),
             "season": rng.choice(["summer", "winter", "autumn"])}
    brightness = {"day": 1.0, "dusk": 0.75, "night": 0.45}[style["time"]]
    img = img * brightness + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 6, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:  # erased region, as the real dataset's unlabelled pixels
        x = rng.randint(0, width - 8)
        lab[:, x:x + 4] = UNLABELLED
    return img, lab, objs, style


def write_dataset(root, n=16, width=64, height=32, seed=0, split="train", videos=0, frames=4):
    """Writes n images (and `videos` clips of `frames` frames) under root in the world format."""
    pal = load_palette()
    colors = pal["colors"]
    palette_bytes = bytearray(768)
    for i, c in enumerate(colors):
        palette_bytes[3 * i:3 * i + 3] = bytes(int(v) for v in c)
    for d in ("images", "labels", "scenes"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    rng = random.Random(seed)

    def save_label(lab, path):
        im = Image.fromarray(lab, mode="P")
        im.putpalette(bytes(palette_bytes))
        im.save(path)

    with open(os.path.join(root, "index.jsonl"), "w", encoding="utf-8") as f:
        for k in range(n):
            sid = f"{split}-{k:07d}"
            img, lab, objs, style = make_scene(rng, width, height, colors)
            Image.fromarray(img, mode="RGB").save(os.path.join(root, "images", sid + ".png"))
            save_label(lab, os.path.join(root, "labels", sid + ".png"))
            with open(os.path.join(root, "scenes", sid + ".json"), "w") as s:
                json.dump({"objects": [{"class": o, "colour": c} for o, c in objs]}, s)
            caps = [_caption(objs, style, kind) for kind in ("short", "list", "count")]
            f.write(json.dumps({"id": sid, "seed": seed * 100000 + k, "width": width, "height": height,
                                "image": f"images/{sid}.png", "label": f"labels/{sid}.png",
                                "scene": f"scenes/{sid}.json", "style": style, "captions": caps}) + "\n")
        for v in range(videos):
            vid = f"{split}-v{v:06d}"
            os.makedirs(os.path.join(root, "videos", vid), exist_ok=True)
            img, lab, _, _ = make_scene(rng, width, height, colors)
            fi, fl = [], []
            for t in range(frames):
                fimg = np.clip(img.astype(np.float32) * (1.0 - 0.5 * t / max(1, frames - 1)), 0, 255).astype(np.uint8)
                fi.append(f"videos/{vid}/img_{t:03d}.png")
                fl.append(f"videos/{vid}/lab_{t:03d}.png")
                Image.fromarray(fimg, mode="RGB").save(os.path.join(root, fi[-1]))
                save_label(lab, os.path.join(root, fl[-1]))
            half = frames // 2
            f.write(json.dumps({"id": vid, "seed": v, "width": width, "height": height, "frames": frames,
                                "frame_images": fi, "frame_labels": fl, "caption": "a street from day to night",
                                "transition": "time",
                                "stages": [{"text": "a street at day", "start": 0, "end": half - 1},
                                           {"text": "a street at night", "start": half, "end": frames - 1}]}) + "\n")
    return root


# Configs of tiny image models for tests: VAE f = 8, a one-level attention UNet, a GroupNorm segmenter.
TINY_CONFIGS = {
    "vae": {"ch": 32, "ch_mult": [1, 1, 1, 1], "num_res_blocks": 1},
    "unet": {"model_channels": 32, "channel_mult": [1, 1], "num_res_blocks": 1, "attention_resolutions": [2],
             "num_heads": 2, "num_head_channels": -1},
    "seg": {"stem": 16, "channels": [16, 16, 32, 32], "blocks": [1, 1, 1, 1], "fpn_dim": 32, "norm": "gn"},
}


def write_image_kit(root, n=6, seed=1):
    """A tiny dataset (root/data, n 64x32 images) with what the image trainers need beside it: TINY_CONFIGS as
    root/vae.json, unet.json, seg.json, a tokenizer learned on its captions (root/tok) and a random small text
    encoder (root/te.safetensors + .json). Returns (the data folder, the trainers' text arguments)."""
    import torch
    from . import clip_text, tokenizer
    from .world_data import WorldImages
    data = write_dataset(os.path.join(root, "data"), n=n, width=64, height=32, seed=seed)
    for name, cfg in TINY_CONFIGS.items():
        with open(os.path.join(root, name + ".json"), "w") as f:
            json.dump(cfg, f)
    caps = [c for it in WorldImages(data) for c in it["captions"]]
    vocab, merges, _ = tokenizer.learn_bpe(caps, 40)
    tokenizer.save_tokenizer(os.path.join(root, "tok"), vocab, merges)
    torch.manual_seed(0)
    te = clip_text.ClipTextModel(dict(clip_text.DEFAULT_SMALL, vocab_size=len(vocab), width=32, layers=1, heads=2,
                                      mlp=64))
    clip_text.save_text_encoder(te, os.path.join(root, "te.safetensors"), os.path.join(root, "te.json"))
    return data, ["--text-encoder", os.path.join(root, "te.safetensors"), "--tokenizer", os.path.join(root, "tok")]
