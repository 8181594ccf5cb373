"""Rewrites exported safetensors with float16 tensors (half the size; the engine and the PyTorch loaders widen
them to float32 at load, and an image made from them differs by ~0.01 of a level on average).

    cd tools/train && /usr/bin/python3 -m dgtrain.to_f16 ../../assets/models/*.safetensors
"""
import os
import sys

from . import safetensors_io as S


def main(paths):
    for p in paths:
        sd, meta = S.load(p)
        S.save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, p + ".tmp", meta)
        os.replace(p + ".tmp", p)
        print(f"{p}: {os.path.getsize(p) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
