"""Seconds per image and per sampling step of the engine (`dirigent-cli generate`, Vulkan) against the PyTorch
reference on the same CPU and model, text-to-image and layout-to-image, DDIM with CFG, plus peak resident memory
and the engine's GPU time per op. Run on an idle machine for numbers worth quoting.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.bench_generate [--model DIR] [--steps 25]
"""
import argparse
import os
import resource
import subprocess
import tempfile
import time

import torch

from . import REPO
from .generate import Generator
from .world_data import load_label
PROMPT = "a red car on a snowy street at night"


def engine(cli, model, steps, cfg, layout, out, profile=False):
    cmd = [cli, "generate", "--model", model, "--prompt", PROMPT, "--steps", str(steps), "--cfg", str(cfg),
           "--seed", "1", "--quiet", "--out", out] + (["--layout", layout] if layout else []) + \
        (["--profile"] if profile else [])
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)}: {r.stderr.strip()}")
    peak = next((float(line.split(":")[1].split()[0]) for line in r.stdout.splitlines()
                 if line.startswith("peak resident memory")), float("nan"))
    # "wrote OUT (WxH, seed S, T s)": the generation alone, without start-up and model loading
    gen_s = next((float(line.rsplit(",", 1)[1].split()[0]) for line in r.stdout.splitlines()
                  if line.startswith("wrote ")), wall)
    return gen_s, wall, peak, r.stdout


def reference(gen, steps, cfg, labels):
    t = time.time()
    gen([PROMPT], labels, 1, steps=steps, cfg=cfg)
    return time.time() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "assets", "models"))
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "app", "cli", "dirigent-cli"))
    ap.add_argument("--control", default="controlnet_aldm")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (lavapipe uses every core)")
    ap.add_argument("--layout", help="label PNG (default: a world layout written by the CLI)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tmp = tempfile.mkdtemp(prefix="dg_bench_gen_")
    layout = args.layout
    if not layout:
        subprocess.run([args.cli, "world", "sample", "--seed", "7", "--out", tmp], check=True, capture_output=True)
        layout = os.path.join(tmp, "world-7-label.png")
    m = lambda n: os.path.join(args.model, n + ".safetensors")  # noqa: E731
    tok = os.path.join(args.model, "tokenizer") if os.path.isdir(os.path.join(args.model, "tokenizer")) \
        else os.path.join(REPO, "assets", "tokenizer")
    rows = []
    for name, lay in (("text-to-image", None), ("layout-to-image", layout)):
        # Timed without --profile (GPU timestamps cost time); a second run gives the time per op.
        e_wall, e_total, _, _ = engine(args.cli, args.model, args.steps, args.cfg, lay, os.path.join(tmp, "e.png"))
        _, _, e_peak, profile = engine(args.cli, args.model, args.steps, args.cfg, lay, os.path.join(tmp, "e.png"), True)
        gen = Generator(m("unet"), m("vae"), m("text_encoder"), tok, controlnet_path=m(args.control) if lay else None)
        labels = load_label(lay)[None] if lay else None
        r_wall = reference(gen, args.steps, args.cfg, labels)
        rows.append((name, e_wall, r_wall, e_peak))
        print(f"{name}: engine {e_wall:.2f} s ({e_wall / args.steps:.3f} s/step, {e_total:.2f} s with start-up and "
              f"model loading, peak {e_peak:.0f} MiB), "
              f"PyTorch {r_wall:.2f} s ({r_wall / args.steps:.3f} s/step), engine/PyTorch {e_wall / r_wall:.2f}")
        print("\n".join("    " + line for line in profile.splitlines()[1:13]))
    print(f"PyTorch process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"| case | engine s/image | engine s/step | PyTorch s/image | ratio | engine peak MiB |\n|---|---|---|---|---|---|")
    for name, e, r, p in rows:
        print(f"| {name} | {e:.2f} | {e / args.steps:.3f} | {r:.2f} | {e / r:.2f} | {p:.0f} |")


if __name__ == "__main__":
    main()
