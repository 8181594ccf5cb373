"""Shared plumbing of the training scripts: arguments, threads, in-memory world data, resumable checkpoints,
the log file, text conditioning through the frozen CLIP text tower, and safetensors export."""
import argparse
import functools
import hashlib
import json
import os
import random
import time
import warnings

import numpy as np
import torch

from . import safetensors_io


def base_parser(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", required=True, help="world dataset directory (docs/world-format.md)")
    ap.add_argument("--out", required=True, help="run directory, e.g. runs/NAME (checkpoint, log)")
    ap.add_argument("--steps", type=int, required=True, help="total optimisation steps (resumes count)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", help="model config JSON (default: the small default)")
    ap.add_argument("--max-images", type=int, default=0, help="use at most this many images (0 = all)")
    ap.add_argument("--val-frac", type=float, default=0.05, help="held-out fraction when no --val is given")
    ap.add_argument("--val", help="validation dataset directory (e.g. the test split)")
    ap.add_argument("--extra-data", action="append", default=[],
                    help="another dataset mixed into training (repeat; e.g. painted layouts), drawn in proportion")
    ap.add_argument("--ckpt-every", type=float, default=300.0, help="seconds between checkpoints")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--export", help="write the trained weights (safetensors) and PATH.json config at the end")
    add_budget_arg(ap)
    return ap


def add_budget_arg(ap):
    ap.add_argument("--budget-seconds", type=float, default=0.0,
                    help="also stop (and export) after this many seconds of training; schedules then follow time")


class Budget:
    """Ends training at --steps or after --budget-seconds, whichever comes first. sched_step() is the step that
    step-based schedules (learning rate, ramps) should see: the later of the real step and the elapsed fraction
    of the time budget, so a run cut short by time still finishes its schedule."""

    def __init__(self, steps, seconds):
        self.steps, self.seconds, self.t0 = steps, seconds, time.time()
        self._done_at = None  # (step, answer): every check within one step agrees (log, eval and loop)

    def elapsed_fraction(self):
        return (time.time() - self.t0) / self.seconds if self.seconds > 0 else 0.0

    def done(self, step):
        if self._done_at is None or self._done_at[0] != step:
            self._done_at = (step, step >= self.steps or (self.seconds > 0 and self.elapsed_fraction() >= 1.0))
        return self._done_at[1]

    def sched_step(self, step):
        return max(step, min(self.steps, int(self.elapsed_fraction() * self.steps)))


def setup(args):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device")
    os.makedirs(args.out, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    return torch.device(args.device)


class Log:
    def __init__(self, out):
        self.path = os.path.join(out, "log.txt")

    def __call__(self, msg):
        line = time.strftime("%Y-%m-%dT%H:%M:%S ") + msg
        print(line, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


class WorldTensors:
    """A world image dataset held in memory as uint8 images [N,3,H,W] and uint8 labels [N,H,W] (PNG decoding
    once, not every step), with its captions."""

    def __init__(self, root, max_images=0, indices=None):
        from .world_data import WorldImages, caption_texts
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
        caps = [self.captions[i][int(torch.randint(len(self.captions[i]), (1,), generator=gen))] for i in idx]
        return img.to(device), lab.to(device), caps


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
    """(train, val) WorldTensors: --val if given, else the last val_frac of --data; --extra-data joins training."""
    if getattr(args, "extra_data", None):
        train, val = split_data(argparse.Namespace(**dict(vars(args), extra_data=[])))
        return concat([train] + [WorldTensors(d, args.max_images) for d in args.extra_data]), val
    data = WorldTensors(args.data, args.max_images)
    if args.val:
        return data, WorldTensors(args.val, max(1, min(len(data) // 10, 200)) if args.max_images else 200)
    n_val = max(1, int(round(len(data) * args.val_frac))) if len(data) > 1 else 0
    n_tr = len(data) - n_val
    return data.subset(range(n_tr)), data.subset(range(n_tr, len(data))) if n_val else data


class Batches:
    """Endless shuffled index batches from a seeded generator (the same order for the same seed)."""

    def __init__(self, n, batch, seed):
        self.n, self.batch = n, batch
        self.gen = torch.Generator().manual_seed(seed)
        self.perm, self.pos = torch.randperm(n, generator=self.gen), 0

    def next(self):
        out = []
        while len(out) < self.batch:
            if self.pos >= self.n:
                self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
            take = min(self.batch - len(out), self.n - self.pos)
            out += self.perm[self.pos:self.pos + take].tolist()
            self.pos += take
        return out

    def indices(self, steps):
        """Every index the next `steps` batches will hold (from a copy: this one does not advance)."""
        copy = Batches(self.n, self.batch, 0)
        copy.load_state_dict(self.state_dict())
        return [i for _ in range(steps) for i in copy.next()]

    def state_dict(self):
        return {"gen": self.gen.get_state(), "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, s):
        self.gen.set_state(s["gen"])
        self.perm, self.pos = s["perm"], s["pos"]


class Checkpoint:
    """runs/NAME/ckpt.pt, written atomically every `every` seconds and at the end."""

    def __init__(self, out, every):
        self.path = os.path.join(out, "ckpt.pt")
        self.every, self.last = every, time.time()

    def load(self):
        if os.path.exists(self.path):
            return torch.load(self.path, map_location="cpu")
        return None

    def save(self, state, force=False):
        if not force and time.time() - self.last < self.every:
            return False
        tmp = self.path + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.path)
        self.last = time.time()
        return True


class EMA:
    def __init__(self, model, decay=0.999):
        self.decay = decay
        self.shadow = {k: v.detach().clone().float() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach().float(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)

    def copy_to(self, model):
        model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in self.shadow.items()})


RECORD_KEYS = ("training", "init")  # how a model was made, not what it is: never carried over from another record


def export(path, state, prefix, config, metadata=None):
    """Writes PATH (safetensors, keys = prefix + LDM names, float32) and PATH with .json: the config plus the
    metadata (this export's record, which replaces any record keys a config read from another export holds)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tensors = {prefix + k: v.detach().float().cpu().contiguous() for k, v in state.items()}
    config = {k: v for k, v in config.items() if k not in RECORD_KEYS}
    meta = dict(metadata or {})
    meta["config"] = json.dumps(config, allow_nan=False)
    cfg_path = os.path.splitext(path)[0] + ".json"
    write_record(cfg_path, dict(config, **(metadata or {})))
    safetensors_io.save(tensors, path, metadata=meta)
    return cfg_path


def write_record(path, record):
    """A model's JSON record; NaN or infinity is refused before the file is touched (the engine's parser refuses
    them too, so such a file would only fail later, far from its cause). Exporters write it before the weights,
    so a refused record leaves both files as they were."""
    text = json.dumps(record, indent=1, allow_nan=False)
    with open(path, "w") as f:
        f.write(text)


@functools.lru_cache(maxsize=None)
def file_digest(path):
    """sha1 of a file's bytes: a cache key that survives rewriting the same weights (to_f16, a fresh clone)."""
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


@functools.lru_cache(maxsize=None)
def encoder_digest(vae_path):
    """sha1 of what a VAE's latents depend on (encoder and quant_conv weights, scale factor): a latent cache keyed
    on it survives training the decoder alone."""
    sd, _ = load_prefixed(vae_path, "first_stage_model.")
    h = hashlib.sha1(repr(load_json_beside(vae_path).get("scale_factor")).encode())
    for k in sorted(sd):
        if k.startswith(("encoder.", "quant_conv.")):
            h.update(k.encode())
            h.update(sd[k].float().numpy().tobytes())
    return h.hexdigest()


def load_prefixed(path, prefix):
    """State dict of a single-file safetensors with the prefix removed (keys without it are skipped)."""
    sd, meta = safetensors_io.load(path)
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}, meta


def load_json_beside(path, config=None):
    """The config JSON given, else PATH with .json, else the "config" metadata of the safetensors file."""
    cfg_path = config or os.path.splitext(path)[0] + ".json"
    if not config and not os.path.exists(cfg_path) and path.endswith(".safetensors"):
        meta = safetensors_io.load(path)[1]
        if "config" in meta:
            return json.loads(meta["config"])
    with open(cfg_path) as f:
        return json.load(f)


class TextCond:
    """Frozen CLIP text tower + tokenizer: captions -> last_hidden_state [B,77,D], cached per caption (f16)."""

    def __init__(self, weights, tokenizer_dir, config=None, device="cpu", cache_max=20000):
        from .clip_text import load_text_encoder
        from .tokenizer import Tokenizer
        cfg = load_json_beside(weights, config)
        self.model = load_text_encoder(weights, cfg).eval().to(device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tok = Tokenizer.from_dir(tokenizer_dir)
        self.device, self.cache, self.cache_max = device, {}, cache_max
        self.dim = self.model.config["width"]

    @torch.no_grad()
    def __call__(self, captions):
        missing = [c for c in dict.fromkeys(captions) if c not in self.cache]
        if missing:
            h, _ = self.model(self.tok(missing).to(self.device))
            for c, v in zip(missing, h):
                if len(self.cache) < self.cache_max:
                    self.cache[c] = v.half().cpu()
            if len(self.cache) >= self.cache_max:
                fresh = dict(zip(missing, h))
                return torch.stack([fresh[c].float() if c in fresh else self.cache[c].float().to(self.device)
                                    for c in captions]).to(self.device)
        return torch.stack([self.cache[c] for c in captions]).float().to(self.device)

    @torch.no_grad()
    def pooled(self, texts):
        _, p = self.model(self.tok(texts).to(self.device))
        return p


def add_text_args(ap):
    ap.add_argument("--text-encoder", required=True, help="text encoder safetensors (HF CLIPTextModel names)")
    ap.add_argument("--text-config", help="its config JSON (default: beside the weights)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder (vocab.json + merges.txt)")


def add_vae_args(ap):
    ap.add_argument("--vae", required=True, help="VAE safetensors (first_stage_model.* names) with .json config beside")


def load_vae(path, device):
    from .ldm_vae import AutoencoderKL
    sd, _ = load_prefixed(path, "first_stage_model.")
    cfg = load_json_beside(path)
    vae = AutoencoderKL(cfg)
    vae.load_state_dict(sd)
    vae.eval().to(device)
    for p in vae.parameters():
        p.requires_grad_(False)
    return vae


def param_count(m):
    return sum(p.numel() for p in m.parameters())
