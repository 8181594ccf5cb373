"""Minimal safetensors reader/writer (the format: 8-byte little-endian header length, a JSON header
mapping names to {dtype, shape, data_offsets}, then the raw little-endian data). Debian has no
python3-safetensors, and the format is small enough to own."""
import json
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "F64": np.float64}
_NAME = {np.dtype(v): k for k, v in _NP.items()}


def save(tensors, path, metadata=None):
    """tensors: dict name -> torch.Tensor or numpy array (bf16 tensors are written as BF16)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().contiguous()
            if t.dtype == torch.bfloat16:
                raw, dtype = t.view(torch.int16).numpy().tobytes(), "BF16"
            else:
                arr = t.numpy()
                raw, dtype = arr.tobytes(), _NAME[arr.dtype]
        else:
            arr = np.ascontiguousarray(t)
            raw, dtype = arr.tobytes(), _NAME[arr.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns (dict name -> torch.Tensor (float32 for BF16), metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        raw = data[base + a:base + b]
        if info["dtype"] == "BF16":
            i16 = np.frombuffer(raw, dtype=np.int16).astype(np.int32) << 16
            arr = i16.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_NP[info["dtype"]])
        out[name] = torch.from_numpy(arr.copy().reshape(info["shape"]))
    return out, meta
