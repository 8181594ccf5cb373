#!/usr/bin/python3
"""Rewrites exported safetensors with float16 tensors (half the size; the engine and the PyTorch loaders widen
them to float32 at load, and an image made from them differs by ~0.01 of a level on average).

    /usr/bin/python3 tools/train/to_f16.py assets/models/*.safetensors
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dgtrain import safetensors_io as S  # noqa: E402


def main(paths):
    for p in paths:
        sd, meta = S.load(p)
        S.save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, p + ".tmp", meta)
        os.replace(p + ".tmp", p)
        print(f"{p}: {os.path.getsize(p) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
