#!/usr/bin/env python3
"""The benchmark's PyTorch side: times one computation on this CPU and prints seconds per iteration.
Usage: torch_ref.py OP ARGS... (see the OPS table)."""
import sys
import time

import torch

torch.set_num_threads(2)


def bench(fn, seconds=1.0):
    fn()
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        dt = time.perf_counter() - t0
        if dt >= seconds or iters >= 1 << 20:
            return dt / iters
        iters = min(iters * 10, int(iters * seconds / max(dt, 1e-9) * 1.1) + 1)


def elementwise_add(n):
    a, b = torch.randn(int(n)), torch.randn(int(n))
    out = torch.empty_like(a)
    return lambda: torch.add(a, b, out=out)


def matmul(m, k, n):
    a, b = torch.randn(int(m), int(k)), torch.randn(int(k), int(n))
    out = torch.empty(int(m), int(n))
    return lambda: torch.matmul(a, b, out=out)


def linear(m, k, n):
    x, w, b = torch.randn(int(m), int(k)), torch.randn(int(n), int(k)), torch.randn(int(n))
    return lambda: torch.nn.functional.linear(x, w, b)


def conv2d(cin, cout, hw, k):
    x = torch.randn(1, int(cin), int(hw), int(hw))
    w, b = torch.randn(int(cout), int(cin), int(k), int(k)), torch.randn(int(cout))
    return lambda: torch.nn.functional.conv2d(x, w, b, padding=int(k) // 2)


OPS = {"add": elementwise_add}
OPS["matmul"] = matmul
OPS["linear"] = linear
OPS["conv2d"] = conv2d

if __name__ == "__main__":
    with torch.no_grad():
        print(bench(OPS[sys.argv[1]](*sys.argv[2:])))
