"""The plumbing every trainer shares (train_clip, train_segmenter, train_vae, train_unet, train_controlnet): one
argument parser, thread and seed set-up, one index sampler (Batches), one checkpoint with resume, one log with
running means, one time budget, one learning-rate schedule, the EMA of weights, and the recorded command line;
and the switches of the GPU path (add_speed_args: --resident, --bf16, --compile; dgtrain.resident).
Exported files follow dgtrain.exports (PATH.safetensors + PATH.json)."""
import argparse
import contextlib
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
    ap.add_argument("--lr-ref-batch", type=int, default=0,
                    help="--lr is the rate of this batch size: the run uses --lr x sqrt(--batch / this), for large "
                         "batches on a GPU (0: --lr as given)")
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
    add_extra_data_arg(ap)


def add_extra_data_arg(ap):
    ap.add_argument("--extra-data", action="append", default=[],
                    help="another dataset mixed into training (repeat; e.g. painted layouts), drawn in proportion")


def add_text_args(ap):
    ap.add_argument("--text-encoder", required=True, help="text encoder safetensors (HF CLIPTextModel names)")
    ap.add_argument("--text-config", help="its config JSON (default: beside the weights)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder (vocab.json + merges.txt)")


def add_vae_args(ap):
    ap.add_argument("--vae", required=True, help="VAE safetensors (first_stage_model.* names) with .json config beside")


def add_speed_args(ap):
    """The GPU path's switches; each defaults to on with --device cuda and off on the CPU."""
    ap.add_argument("--resident", action=argparse.BooleanOptionalAction, default=None,
                    help="keep the whole training set on the device (latents, caption embeddings, layouts) and draw "
                         "batches there by index (default: on with --device cuda); batches then come from the "
                         "device's generator")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                    help="forward passes and losses under torch.autocast(bfloat16) (default: on with --device cuda)")
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the trained network (torch 2 and later; compiling takes a minute or more)")


def autocast(args, device):
    """The context of forward passes and losses: bfloat16 autocast with --bf16, else nothing."""
    if not getattr(args, "bf16", False):
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


def compiled(model, args, log):
    """torch.compile(model) with --compile where this torch has it; the model itself otherwise."""
    if not getattr(args, "compile", False):
        return model
    if not hasattr(torch, "compile"):
        log(f"--compile: torch {torch.__version__} has no torch.compile; running eagerly")
        return model
    return torch.compile(model)


def setup(args):
    """Threads, the run folder and the seeds of every generator, the GPU path's defaults (add_speed_args) and
    the learning rate scaled by --lr-ref-batch; returns the torch device."""
    if hasattr(args, "resident"):
        args.resident = args.device == "cuda" if args.resident is None else args.resident
        args.bf16 = args.device == "cuda" if args.bf16 is None else args.bf16
    if getattr(args, "lr_ref_batch", 0):
        args.lr_given, args.lr = args.lr, args.lr * math.sqrt(args.batch / args.lr_ref_batch)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device")
    if args.device == "cuda":  # TF32 for what runs in float32, and the fastest convolutions for fixed shapes
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
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
        self.total_steps, self.total_samples, self.start, self.cpu_start = 0, 0, time.time(), time.process_time()

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
        self.total_steps += 1
        self.total_samples += samples

    @staticmethod
    def _sync():
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()  # the queued steps count in the time they took

    def report(self):
        """{name: mean, s_per_step, cpu_s_per_step, samples_per_s}; starts the next window."""
        self._sync()
        wall = time.time() - self.t0
        out = {k: float(v) / self.counts[k] for k, v in self.sums.items()}
        out["s_per_step"] = wall / max(1, self.n)
        # CPU seconds of this process per step: less sensitive than wall time to other jobs on the machine
        out["cpu_s_per_step"] = (time.process_time() - self.c0) / max(1, self.n)
        out["samples_per_s"] = self.samples / wall if wall > 0 else 0.0
        self._reset()
        return out

    def summary(self, stage):
        """The line a trainer logs at its end: steps, samples and samples per second of its training loop."""
        self._sync()
        wall, cpu = time.time() - self.start, time.process_time() - self.cpu_start
        return (f"done: {stage} trained {self.total_steps} steps, {self.total_samples} samples in {wall:.1f} s: "
                f"{self.total_samples / max(wall, 1e-9):.1f} samples/s ({cpu:.1f} CPU s of this process: "
                f"{self.total_samples / max(cpu, 1e-9):.1f} samples per CPU s)")


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
    fresh permutation. Its state is part of the checkpoint. With a device (the resident path) the generator and
    the permutations live there and next() returns a LongTensor on it (on the CPU, the same indices as a list)."""

    def __init__(self, n, batch, seed, device=None):
        if n == 0:
            raise SystemExit("training set is empty")
        self.n, self.batch = n, batch
        self.device = None if device is None else torch.device(device)
        self.gen = torch.Generator(device=self.device or "cpu").manual_seed(seed)
        self.perm, self.pos = self._shuffle(), 0

    def _shuffle(self):
        return torch.randperm(self.n, generator=self.gen, device=self.device or "cpu")

    def next(self):
        out, have = [], 0
        while have < self.batch:
            if self.pos >= self.n:
                self.perm, self.pos = self._shuffle(), 0
            take = min(self.batch - have, self.n - self.pos)
            out.append(self.perm[self.pos:self.pos + take])
            self.pos += take
            have += take
        if self.device is None:
            return [i for part in out for i in part.tolist()]
        return out[0] if len(out) == 1 else torch.cat(out)

    def indices(self, steps):
        """Every index the next `steps` batches will hold (from a copy: this one does not advance)."""
        copy = Batches(self.n, self.batch, 0, self.device)
        copy.load_state_dict(self.state_dict())
        out = []
        for _ in range(steps):
            b = copy.next()
            out += b if isinstance(b, list) else b.tolist()
        return out

    def state_dict(self):
        return {"gen": self.gen.get_state(), "perm": self.perm.cpu(), "pos": self.pos, "n": self.n,
                "device": None if self.device is None else self.device.type}

    def load_state_dict(self, s):
        """Also reads the sampler state of the text-side trainers' older checkpoints ({n, rng, order, pos,
        epoch}: the epoch under way is finished in its order, the next ones drawn from this generator)."""
        if "order" in s:
            s = {"perm": torch.tensor(s["order"], dtype=torch.long), "pos": s["pos"], "n": s["n"]}
        n = s.get("n", len(s["perm"]))
        if n != self.n:
            print(f"sampler: dataset size changed {n} -> {self.n}; reshuffling", file=sys.stderr)
            return
        here = None if self.device is None else self.device.type
        if "gen" in s and s.get("device") == here:
            self.gen.set_state(s["gen"])
        elif "gen" in s:  # a CPU generator's state does not fit a CUDA one: later epochs come from this seed
            print(f"sampler: resumed on {here or 'cpu'} from a {s.get('device') or 'cpu'} sampler; the epoch under "
                  f"way keeps its order", file=sys.stderr)
        self.perm, self.pos = s["perm"].to(self.device or "cpu"), s["pos"]
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
        if getattr(args, "lr_given", None) is not None:
            log(f"lr {args.lr:.4g}: --lr {args.lr_given:g} x sqrt(batch {args.batch} / --lr-ref-batch {args.lr_ref_batch})")
        if getattr(args, "resident", None) is not None:
            log(f"device {args.device}, resident {'on' if args.resident else 'off'}, bf16 {'on' if args.bf16 else 'off'}, "
                f"compile {'on' if args.compile else 'off'}, torch {torch.__version__}")
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
        """Writes when forced or when `every` seconds have passed; returns whether it wrote. `state` may be a
        function that makes it, called only then (a GPU step is not held up by building state dicts)."""
        if not force and time.time() - self.last < self.every:
            return False
        state = state() if callable(state) else state
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
        self._live = None  # (model, its state tensors): views of the weights, which the optimiser updates in place

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        if self._live is None or self._live[0] is not model:
            self._live = (model, list(model.state_dict().items()))
        live = self._live[1]
        floats = [k for k, v in live if v.dtype.is_floating_point]
        if floats:  # one fused call per list instead of one per tensor (the same arithmetic)
            shadow = [self.shadow[k] for k in floats]
            torch._foreach_mul_(shadow, d)
            torch._foreach_add_(shadow, [v.float() for k, v in live if v.dtype.is_floating_point], alpha=1 - d)
        for k, v in live:
            if not v.dtype.is_floating_point:
                self.shadow[k].copy_(v)

    def copy_to(self, model):
        own = model.state_dict()  # once: a state_dict() per key made this quadratic in the number of tensors
        model.load_state_dict({k: v.to(own[k].dtype) for k, v in self.shadow.items()})

    @contextlib.contextmanager
    def applied(self, model):
        """The averaged weights in `model` for the block (an evaluation, an export), its own weights after."""
        live = {k: v.clone() for k, v in model.state_dict().items()}
        self.copy_to(model)
        try:
            yield model
        finally:
            model.load_state_dict(live)


def add_export_best_args(ap, every):
    ap.add_argument("--export-best", action="store_true",
                    help=f"export at each {every} check that beats every earlier one (and the --init weights), not "
                         "at the end: a continuous run that may be stopped at any time")


def check_export_best(args, every, name):
    if args.export_best and not (getattr(args, every.lstrip("-").replace("-", "_")) and args.export):
        raise SystemExit(f"{name}: --export-best needs {every} and --export")


def validate_and_save(args, step, ck, snapshot, best, measure, log, export):
    """The end of a training step: at every --val-every step, measure() -> (score, text) is logged, export(score)
    runs when --export-best is set and the score beats `best`, and the checkpoint is written; at other steps the
    checkpoint is written when its interval has passed."""
    if not (args.val_every and step % args.val_every == 0):
        ck.save(snapshot)
        return
    score, text = measure()
    log(f"val step {step} {text}{best.note()}")
    if args.export_best and best.offer(score):
        export(score)
    ck.save(snapshot, force=True)


class BestScore:
    """--export-best's record: the best held-out score so far (the starting weights' first), kept in checkpoints
    through `value`."""

    def __init__(self, lower_is_better, value=None):
        self.lower, self.value = lower_is_better, value

    def offer(self, score):
        """True, and `score` kept as the best, when it beats the best so far."""
        if self.value is not None and (score >= self.value if self.lower else score <= self.value):
            return False
        self.value = score
        return True

    def note(self):
        return f" (best {self.value:.5g})" if self.value is not None else ""


def adamw(params, device, **kw):
    """torch.optim.AdamW, fused into one kernel per step on CUDA where this torch has it (2.0 and later)."""
    if torch.device(device).type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        kw["fused"] = True
    return torch.optim.AdamW(params, **kw)


def param_count(m):
    return sum(p.numel() for p in m.parameters())
