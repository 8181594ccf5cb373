#!/usr/bin/env python3
"""Checks that no layer includes upward (docs/architecture.md, "Layers"). Every C file under the layer
folders is read; each `#include "dg_x.h"` is resolved to the folder that holds dg_x.h (all module
folders are include directories, so a header's name is unique) and must sit in the same layer or a
lower one. Exits 1 and names each offending line otherwise.

    tools/check_layers.py [SOURCE_ROOT]
"""
import os
import re
import sys

# Lowest first. render/io sits beside render/gpu: it may use gpu (status, tensors), gpu never uses
# it, and everything from render/ops up may use both. render/ops/ref (the CPU references, linked by
# tests only) belongs to render/ops. The editor and the CLI are both on top and never include each other.
LAYERS = [
    ("compute-shaders", 0),
    ("render/gpu", 1),
    ("render/io", 1.5),
    ("render/ops", 2),
    ("render/nn", 3),
    ("render/models", 4),
    ("render/pipelines", 5),
    ("app", 6),  # app/world, app/image, app/eval too
    ("app/cli", 7),
    ("ui", 7),
]
# Headers generated into the build folder, by the layer that generates them.
GENERATED = {"dg_paths.h": "app"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The layer folder a source path belongs to (the longest matching prefix), or None."""
    best = None
    for folder, _ in LAYERS:
        if path == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best):
                best = folder
    return best


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    rank = dict(LAYERS)
    sources, headers = [], dict(GENERATED)
    for folder, _ in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if f.endswith((".c", ".h", ".comp", ".glsl")):
                    sources.append(rel)
                if f.endswith((".h", ".glsl")):
                    if f in headers and headers[f] != layer_of(rel):
                        print(f"check_layers: {f} is both in {headers[f]} and {layer_of(rel)}")
                        return 1
                    headers[f] = layer_of(rel)
    bad = 0
    for rel in sorted(set(sources)):
        own = layer_of(rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = headers.get(os.path.basename(m.group(1)))
                if target is None:
                    continue  # a system or third-party header
                sideways = {own, target} == {"app/cli", "ui"}
                if rank[target] > rank[own] or sideways:
                    print(f"{rel}:{n}: {own} includes {m.group(1)} of {target}, a higher layer")
                    bad += 1
    print(f"check_layers: {len(set(sources))} files, {bad} upward includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
