"""Dirigent's host RNG for sampling noise: Philox4x32-10 (Salmon et al. 2011, Random123) + Box-Muller,
specified in docs/rng.md so the C engine reproduces it bit for bit. Integer part in numpy (exact); the
transcendental part through Python's `math` (the C library's log/sqrt/cos/sin, as the engine calls them)."""
import math

import numpy as np

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """ctr: uint32 array [n,4]; key: (k0, k1). Returns uint32 [n,4]."""
    c = [ctr[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = np.uint64(key[0] & _MASK), np.uint64(key[1] & _MASK)
    m0, m1, mask, s32 = np.uint64(_M0), np.uint64(_M1), np.uint64(_MASK), np.uint64(32)
    for r in range(10):
        if r:
            k0 = (k0 + np.uint64(_W0)) & mask
            k1 = (k1 + np.uint64(_W1)) & mask
        p0 = c[0] * m0
        p1 = c[2] * m1
        hi0, lo0 = p0 >> s32, p0 & mask
        hi1, lo1 = p1 >> s32, p1 & mask
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return np.stack(c, axis=1).astype(np.uint32)


def uint32_stream(seed, n_blocks, stream=0, first_block=0):
    """Raw Philox output: block b uses counter (b lo, b hi, stream lo, stream hi), key (seed lo, seed hi)."""
    b = np.arange(first_block, first_block + n_blocks, dtype=np.uint64)
    ctr = np.stack([b & np.uint64(_MASK), b >> np.uint64(32),
                    np.full_like(b, stream & _MASK), np.full_like(b, (stream >> 32) & _MASK)], axis=1)
    return philox4x32_10(ctr.astype(np.uint32), (seed & _MASK, (seed >> 32) & _MASK))


def randn(seed, shape, stream=0):
    """Standard normal float32 array of `shape` (C order). Element 4b+j comes from Philox block b: words
    (u0,u1) give elements 4b, 4b+1 and (u2,u3) give 4b+2, 4b+3 by Box-Muller in double precision:
    a = (u_even + 0.5) * 2^-32, c = (u_odd + 0.5) * 2^-32, r = sqrt(-2 log a), theta = 2 pi c,
    z_even = r cos(theta), z_odd = r sin(theta), each rounded to float32."""
    n = int(np.prod(shape)) if len(shape) else 1
    words = uint32_stream(seed, (n + 3) // 4, stream).reshape(-1, 2, 2)
    out = np.empty(((n + 3) // 4) * 4, dtype=np.float64)
    two_pi = 2.0 * math.pi
    inv = 2.0 ** -32
    k = 0
    for a32, c32 in words.reshape(-1, 2).tolist():
        r = math.sqrt(-2.0 * math.log((a32 + 0.5) * inv))
        th = two_pi * ((c32 + 0.5) * inv)
        out[k] = r * math.cos(th)
        out[k + 1] = r * math.sin(th)
        k += 2
    return out[:n].astype(np.float32).reshape(shape)


def randn_torch(seed, shape, stream=0, device="cpu"):
    import torch
    return torch.from_numpy(randn(seed, tuple(shape), stream)).to(device)
