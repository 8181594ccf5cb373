"""The plumbing every trainer shares (train_clip, train_segmenter, train_vae, train_unet, train_controlnet): one
argument parser, thread and seed set-up, one index sampler (Batches), one checkpoint with resume, one log with
running means, one time budget, one learning-rate schedule, the EMA of weights, and the recorded command line.
Exported files follow dgtrain.exports (PATH.safetensors + PATH.json)."""
import argparse
import datetime
import inspect
import json
import math
import os
import random
import shlex
import sys
import time

import numpy as np
import torch


def base_parser(description, lr=1e-4, batch=16):
    """The arguments of every trainer, with one set of defaults (a trainer may set its own with set_defaults)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", required=True, help="world dataset directory (docs/world-format.md)")
    ap.add_argument("--val", help="held-out dataset directory (e.g. the test split)")
    ap.add_argument("--out", required=True, help="run directory, e.g. runs/NAME (ckpt.pt, log.txt; resumed when "
                                                 "ckpt.pt exists)")
    ap.add_argument("--steps", type=int, required=True, help="total optimisation steps (resumes count)")
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--warmup", type=int, default=None,
                    help="learning-rate warm-up steps (default: the trainer's own; 0 = none)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", help="model config JSON (default: the model's small default)")
    ap.add_argument("--export", help="write the trained weights: PATH.safetensors (+ PATH.json, config and record)")
    ap.add_argument("--ckpt-every", type=float, default=300.0, help="seconds between checkpoints")
    ap.add_argument("--ckpt-minutes", dest="ckpt_every", type=lambda m: 60.0 * float(m),
                    help="the same interval in minutes")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--budget-seconds", type=float, default=0.0,
                    help="also stop (and export) after this many seconds of training; schedules then follow time")
    return ap


def add_split_args(ap):
    """The in-memory training set (world_data.split_data): a cap, the held-out fraction, datasets mixed in."""
    ap.add_argument("--max-images", type=int, default=0, help="use at most this many images (0 = all)")
    ap.add_argument("--val-frac", type=float, default=0.05, help="held-out fraction when no --val is given")
    ap.add_argument("--extra-data", action="append", default=[],
                    help="another dataset mixed into training (repeat; e.g. painted layouts), drawn in proportion")


def add_text_args(ap):
    ap.add_argument("--text-encoder", required=True, help="text encoder safetensors (HF CLIPTextModel names)")
    ap.add_argument("--text-config", help="its config JSON (default: beside the weights)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder (vocab.json + merges.txt)")


def add_vae_args(ap):
    ap.add_argument("--vae", required=True, help="VAE safetensors (first_stage_model.* names) with .json config beside")


def setup(args):
    """Threads, the run folder and the seeds of every generator; returns the torch device."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device")
    os.makedirs(args.out, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    return torch.device(args.device)


def command_line(module, argv=None):
    """How this run was started, as a shell command: `python3 -m MODULE ARGS` (the record of an export)."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(shlex.quote(a) for a in [os.path.basename(sys.executable), "-m", module] + args)


class Log:
    """runs/NAME/log.txt: every line stamped (UTC) and also printed."""

    def __init__(self, out):
        self.path = os.path.join(out, "log.txt")

    def __call__(self, msg):
        line = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ ") + msg
        print(line, flush=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Meter:
    """Running means of named values since the last report (each over the steps that gave it), with wall and
    CPU seconds per step and samples per second. Values may be tensors: they are summed where they are (in
    float64, exactly as Python floats would be) and read once per report, so a GPU step is not held up by them."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self.sums, self.counts, self.n, self.samples = {}, {}, 0, 0
        self.t0, self.c0 = time.time(), time.process_time()

    def add(self, samples=0, **vals):
        """One step that trained on `samples` examples, with its values."""
        for k, v in vals.items():
            v = v.detach().double() if torch.is_tensor(v) else float(v)
            self.sums[k] = self.sums[k] + v if k in self.sums else v
            self.counts[k] = self.counts.get(k, 0) + 1
        self.n += 1
        self.samples += samples

    def report(self):
        """{name: mean, s_per_step, cpu_s_per_step, samples_per_s}; starts the next window."""
        wall = time.time() - self.t0
        out = {k: float(v) / self.counts[k] for k, v in self.sums.items()}
        out["s_per_step"] = wall / max(1, self.n)
        # CPU seconds of this process per step: less sensitive than wall time to other jobs on the machine
        out["cpu_s_per_step"] = (time.process_time() - self.c0) / max(1, self.n)
        out["samples_per_s"] = self.samples / wall if wall > 0 else 0.0
        self._reset()
        return out


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


def lr_at(step, total, base, warmup=0, decay=False):
    """Linear warm-up over `warmup` steps, then `base` (decay=False) or a cosine decay to 10% of it by `total`."""
    if step < warmup:
        return base * ((step + 1) / warmup)
    if not decay:
        return base
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


class Batches:
    """Endless shuffled index batches from a seeded generator (the same order for the same seed): each epoch a
    fresh permutation. Its state is part of the checkpoint."""

    def __init__(self, n, batch, seed):
        if n == 0:
            raise SystemExit("training set is empty")
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
        return {"gen": self.gen.get_state(), "perm": self.perm, "pos": self.pos, "n": self.n}

    def load_state_dict(self, s):
        """Also reads the sampler state of the text-side trainers' older checkpoints ({n, rng, order, pos,
        epoch}: the epoch under way is finished in its order, the next ones drawn from this generator)."""
        if "order" in s:
            s = {"perm": torch.tensor(s["order"], dtype=torch.long), "pos": s["pos"], "n": s["n"]}
        n = s.get("n", len(s["perm"]))
        if n != self.n:
            print(f"sampler: dataset size changed {n} -> {self.n}; reshuffling", file=sys.stderr)
            return
        if "gen" in s:
            self.gen.set_state(s["gen"])
        self.perm, self.pos = s["perm"], s["pos"]
        if len(self.perm) != self.n:  # an epoch not begun yet
            self.pos = self.n


class Checkpoint:
    """runs/NAME/ckpt.pt, written atomically every `every` seconds and at the end. A trainer's state is its own
    dict (models, optimisers, its generators) plus common(): the step, the sampler and the global RNG states."""

    def __init__(self, out, every, log=None):
        self.path = os.path.join(out, "ckpt.pt")
        self.every, self.last, self.log = every, time.time(), log

    @classmethod
    def begin(cls, args, log, command):
        """The run's checkpoint and its state (None for a fresh start); logs the command and how it starts."""
        ck = cls(args.out, args.ckpt_every, log)
        state = ck.load()
        log(f"resume at step {state['step']}: {command}" if state else f"start: {command}")
        return ck, state

    def load(self):
        if os.path.exists(self.path):
            return torch.load(self.path, map_location="cpu")
        return None

    @staticmethod
    def common(step, batches):
        return {"step": step, "batches": batches.state_dict(), "rng": torch.get_rng_state(),
                "py_rng": random.getstate(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}

    def restore(self, state, batches):
        """Sampler and RNG states from a checkpoint (this one's, or an older trainer's names for them); returns
        its step."""
        batches.load_state_dict(state["batches"] if "batches" in state else state["sampler"])
        rng = state.get("rng", state.get("torch_rng"))
        if rng is not None:
            torch.set_rng_state(rng)
        if state.get("py_rng") is not None:
            random.setstate(state["py_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if self.log:
            self.log(f"resumed at step {state['step']} from {self.path}")
        return state["step"]

    def restore_model(self, state, batches, model, opt):
        """restore() for a trainer of one model and one optimiser (model_state's keys); returns (step, extra)."""
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        return self.restore(state, batches), state.get("extra", {})

    @classmethod
    def model_state(cls, step, batches, model, opt, extra):
        """The state of a trainer of one model and one optimiser, `extra` its own records (evaluations)."""
        return dict(cls.common(step, batches), model=model.state_dict(), opt=opt.state_dict(), extra=extra)

    def save(self, state, force=False):
        """Writes when forced or when `every` seconds have passed; returns whether it wrote."""
        if not force and time.time() - self.last < self.every:
            return False
        tmp = self.path + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.path)
        self.last = time.time()
        if self.log and not force:
            self.log(f"checkpoint at step {state['step']}")
        return True


def write_summary(out, data, command, log):
    """runs/NAME/summary.json: the final numbers of a run and its command."""
    data = dict(data, command=command)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(data, f, indent=1, default=str)
    log("summary " + json.dumps(data, default=str))


class EMA:
    """Exponential moving average of a model's weights (with LDM's warm-up of the decay)."""

    def __init__(self, model, decay=0.999):
        self.decay = decay
        self.shadow = {k: v.detach().clone().float() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        floats = [(self.shadow[k], v.detach().float()) for k, v in model.state_dict().items() if v.dtype.is_floating_point]
        if floats:  # one fused call per list instead of one per tensor (the same arithmetic)
            shadow, live = zip(*floats)
            torch._foreach_mul_(list(shadow), d)
            torch._foreach_add_(list(shadow), list(live), alpha=1 - d)
        for k, v in model.state_dict().items():
            if not v.dtype.is_floating_point:
                self.shadow[k].copy_(v)

    def copy_to(self, model):
        model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in self.shadow.items()})


def adamw(params, device, **kw):
    """torch.optim.AdamW, fused into one kernel per step on CUDA where this torch has it (2.0 and later)."""
    if torch.device(device).type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        kw["fused"] = True
    return torch.optim.AdamW(params, **kw)


def param_count(m):
    return sum(p.numel() for p in m.parameters())
