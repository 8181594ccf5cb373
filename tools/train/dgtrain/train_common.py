"""Shared plumbing of the training scripts: arguments, threads, resumable checkpoints, the log file."""
import argparse
import os
import random
import time

import numpy as np
import torch



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


def add_text_args(ap):
    ap.add_argument("--text-encoder", required=True, help="text encoder safetensors (HF CLIPTextModel names)")
    ap.add_argument("--text-config", help="its config JSON (default: beside the weights)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder (vocab.json + merges.txt)")


def add_vae_args(ap):
    ap.add_argument("--vae", required=True, help="VAE safetensors (first_stage_model.* names) with .json config beside")


def param_count(m):
    return sum(p.numel() for p in m.parameters())
