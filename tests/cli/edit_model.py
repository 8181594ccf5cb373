#!/usr/bin/python3
"""Copies a Dirigent model folder and damages it as a careless or hostile user might, for the CLI tests.

usage: edit_model.py SRC DST EDIT...   (DST is replaced)
  config PART KEY=JSON    set KEY of PART.safetensors' `config` metadata (PART: unet, vae, text_encoder, ...)
  config-raw PART TEXT    replace PART's `config` metadata with TEXT (JSON or not)
  sidecar PART TEXT       write TEXT to PART.json beside PART.safetensors
  fill PART TENSOR VALUE  set every element of TENSOR (e.g. nan, inf, 0) in PART.safetensors
  drop PART TENSOR        remove TENSOR (its bytes too) from PART.safetensors
"""
import json
import shutil
import struct
import sys

CODES = {"F32": "f", "F16": "e"}


def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), bytearray(data[8 + n:])


def write(path, header, payload):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + bytes(payload))


def main(argv):
    src, dst, edits = argv[1], argv[2], argv[3:]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    while edits:
        kind, part = edits[0], edits[1]
        path = f"{dst}/{part}.safetensors"
        header, payload = read(path)
        meta = header.setdefault("__metadata__", {})
        if kind == "config":
            key, value = edits[2].split("=", 1)
            config = json.loads(meta.get("config", "{}"))
            config[key] = json.loads(value)
            meta["config"] = json.dumps(config)
            edits = edits[3:]
        elif kind == "config-raw":
            meta["config"] = edits[2]
            edits = edits[3:]
        elif kind == "sidecar":
            open(f"{dst}/{part}.json", "w").write(edits[2])
            edits = edits[3:]
            continue
        elif kind == "fill":
            t = header[edits[2]]
            begin, end = t["data_offsets"]
            code = CODES[t["dtype"]]
            size = struct.calcsize(code)
            payload[begin:end] = struct.pack(f"<{(end - begin) // size}{code}", *[float(edits[3])] * ((end - begin) // size))
            edits = edits[4:]
        elif kind == "drop":
            begin, end = header.pop(edits[2])["data_offsets"]
            del payload[begin:end]
            for k, t in header.items():
                if k != "__metadata__" and t["data_offsets"][0] >= end:
                    t["data_offsets"] = [o - (end - begin) for o in t["data_offsets"]]
            edits = edits[3:]
        else:
            sys.exit(f"edit_model.py: unknown edit {kind}")
        write(path, header, payload)


main(sys.argv)
