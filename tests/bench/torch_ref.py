#!/usr/bin/env python3
"""The benchmark's PyTorch side: times one computation on this CPU and prints seconds per iteration.
Usage: torch_ref.py OP ARGS... (see the OPS table)."""
import os
import sys
import time

import torch

# As dirigent-bench's side: LP_NUM_THREADS threads (lavapipe's default here is 2), and with
# DG_BENCH_CPU=1 process CPU time rather than wall time.
torch.set_num_threads(int(os.environ.get("LP_NUM_THREADS") or 2))
CPU_TIME = int(os.environ.get("DG_BENCH_CPU") or 0) > 0
clock = time.process_time if CPU_TIME else time.perf_counter


def bench(fn, seconds=1.0):
    fn()
    iters = 1
    while True:
        t0 = clock()
        for _ in range(iters):
            fn()
        dt = clock() - t0
        if dt >= seconds or iters >= 1 << 20:
            return dt / iters
        iters = min(iters * 10, int(iters * seconds / max(dt, 1e-9) * 1.1) + 1)


def elementwise_add(n):
    a, b = torch.randn(int(n)), torch.randn(int(n))
    out = torch.empty_like(a)
    return lambda: torch.add(a, b, out=out)


def attention(n, lq, lk, d, heads):
    # As LDM's CrossAttention: heads folded into the batch, einsum scores, softmax, einsum.
    b, lq, lk, d = int(n) * int(heads), int(lq), int(lk), int(d)
    q, k, v = torch.randn(b, lq, d), torch.randn(b, lk, d), torch.randn(b, lk, d)
    scale = d ** -0.5
    return lambda: torch.einsum("bij,bjd->bid", (torch.einsum("bid,bjd->bij", q, k) * scale).softmax(-1), v)


OPS = {"add": elementwise_add}
OPS["attention"] = attention


def group_norm(n, c, h, w, groups):
    x, c = torch.randn(int(n), int(c), int(h), int(w)), int(c)
    weight, bias = torch.ones(c), torch.zeros(c)
    return lambda: torch.nn.functional.group_norm(x, int(groups), weight, bias, 1e-5)


def layer_norm(rows, dim):
    x, dim = torch.randn(int(rows), int(dim)), int(dim)
    weight, bias = torch.ones(dim), torch.zeros(dim)
    return lambda: torch.nn.functional.layer_norm(x, (dim,), weight, bias, 1e-5)


OPS["group_norm"] = group_norm
OPS["layer_norm"] = layer_norm
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


OPS["matmul"] = matmul
OPS["linear"] = linear
OPS["conv2d"] = conv2d

if __name__ == "__main__":
    with torch.no_grad():
        print(bench(OPS[sys.argv[1]](*sys.argv[2:])))
