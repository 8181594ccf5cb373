"""Shared plumbing of the text-side training scripts (train_clip.py, train_segmenter.py): common arguments,
CPU thread setup, a resumable run folder (runs/NAME/ckpt.pt written atomically every few minutes, log.txt,
summary.json), an index sampler whose state is checkpointed, and the learning-rate schedule."""
import argparse
import datetime
import json
import math
import os
import random
import shlex
import sys
import time

import torch

from .train_common import add_budget_arg


def common_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", required=True, help="world dataset folder (index.jsonl)")
    ap.add_argument("--val", help="held-out world dataset folder for evaluation")
    ap.add_argument("--out", required=True, help="run folder, e.g. runs/NAME (resumed when ckpt.pt exists)")
    ap.add_argument("--steps", type=int, required=True, help="total optimisation steps")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: 5%% of --steps, at most 500)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", help="model config JSON (defaults to the module's DEFAULT)")
    ap.add_argument("--export", help="final weights: PATH.safetensors (+ PATH.json config)")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0, help="checkpoint interval")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--no-cache", action="store_true", help="do not keep decoded training images in memory")
    add_budget_arg(ap)
    return ap


def setup_threads(n):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(n)


def lr_at(step, total, base, warmup):
    """Linear warm-up, then cosine decay to 10% of base."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


class Sampler:
    """Endless shuffled index stream over n items; its state is part of the checkpoint."""

    def __init__(self, n, seed):
        if n == 0:
            raise ValueError("training set is empty")
        self.n, self.rng, self.order, self.pos, self.epoch = n, random.Random(seed), [], 0, 0

    def take(self, k):
        out = []
        while len(out) < k:
            if self.pos >= len(self.order):
                self.order = list(range(self.n))
                self.rng.shuffle(self.order)
                self.pos = 0
                self.epoch += 1
            out.append(self.order[self.pos])
            self.pos += 1
        return out

    def state(self):
        return {"n": self.n, "rng": self.rng.getstate(), "order": self.order, "pos": self.pos, "epoch": self.epoch}

    def load(self, s):
        if s["n"] != self.n:
            print(f"sampler: dataset size changed {s['n']} -> {self.n}; reshuffling", file=sys.stderr)
            return
        self.rng.setstate(s["rng"])
        self.order, self.pos, self.epoch = s["order"], s["pos"], s["epoch"]


class Run:
    """runs/NAME: ckpt.pt (model, optimiser, step, sampler and RNG states), log.txt, summary.json."""

    def __init__(self, out, args, ckpt_minutes=5.0):
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.ckpt = os.path.join(out, "ckpt.pt")
        self.ckpt_seconds = ckpt_minutes * 60
        self.last_save = time.time()
        self.command = " ".join(shlex.quote(a) for a in [os.path.basename(sys.executable)] + sys.argv)
        self.args = vars(args)

    def log(self, text):
        stamp = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(os.path.join(self.out, "log.txt"), "a", encoding="utf-8") as f:
            f.write(f"{stamp} {text}\n")
        print(text, flush=True)

    def resume(self, model, opt, sampler):
        """Loads ckpt.pt when present; returns (start step, extra dict)."""
        if not os.path.exists(self.ckpt):
            self.log(f"start: {self.command}")
            return 0, {}
        state = torch.load(self.ckpt, map_location="cpu")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sampler.load(state["sampler"])
        random.setstate(state["py_rng"])
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.log(f"resume at step {state['step']}: {self.command}")
        return state["step"], state.get("extra", {})

    def save(self, step, model, opt, sampler, extra=None):
        state = {"step": step, "model": model.state_dict(), "opt": opt.state_dict(), "sampler": sampler.state(),
                 "py_rng": random.getstate(), "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                 "extra": extra or {}, "args": self.args}
        tmp = self.ckpt + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.ckpt)
        self.last_save = time.time()

    def maybe_save(self, step, model, opt, sampler, extra=None):
        if time.time() - self.last_save >= self.ckpt_seconds:
            self.save(step, model, opt, sampler, extra)
            self.log(f"checkpoint at step {step}")

    def summary(self, data):
        data = dict(data)
        data["command"] = self.command
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump(data, f, indent=1, default=str)
        self.log("summary " + json.dumps(data, default=str))


class Meter:
    """Running means of named values since the last report, and wall / CPU seconds per step."""

    def __init__(self):
        self.sums, self.n, self.t0, self.c0 = {}, 0, time.time(), time.process_time()

    def add(self, **vals):
        for k, v in vals.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.n += 1

    def report(self):
        dt = (time.time() - self.t0) / max(1, self.n)
        out = {k: v / max(1, self.n) for k, v in self.sums.items()}
        out["s_per_step"] = dt
        # CPU seconds of this process per step: less sensitive than wall time to other jobs on the machine
        out["cpu_s_per_step"] = (time.process_time() - self.c0) / max(1, self.n)
        self.sums, self.n, self.t0, self.c0 = {}, 0, time.time(), time.process_time()
        return out
