"""Writes the PyTorch checkpoint fixtures of tests/io/data/ckpt with torch.save itself, from the tensors of
the committed safetensors fixtures (real SD 1.5 / LDM key names), so the C reader (render/io/dg_ckpt.c)
can be compared tensor by tensor with the safetensors route (tests/io/test_ckpt.c):

- sd15_tiny.ckpt: every tensor of tests/io/data/sd15_tiny.safetensors (UNet, VAE, CLIP, ControlNet;
  F32/F16/BF16/I64) in a Lightning-style {'state_dict': ..., 'epoch', 'global_step', 'optimizer_states',
  'lr_schedulers', ...} with the safetensors metadata as top-level strings.
- sd15_tiny_bin/: the diffusers VAE encoder and text encoder as diffusion_pytorch_model.bin /
  pytorch_model.bin (plain state dicts, as diffusers and transformers save them).
- aldm.ckpt: ALDM's ControlNet (control_model.*, a 5-conv id-embedding hint of zeros) under 'state_dict'.
- vc2.ckpt: VideoCrafter2 names (the whole UNet, a temporal conv, init_attn, fps_embedding, the OpenCLIP
  tower; the extras zeros) as a Lightning DeepSpeed checkpoint: {'module': {'_forward_module.<name>': ...}}.
  (test_ckpt.c builds the same ALDM and VC2 tensors into safetensors at run time.)
- deepspeed.pt: VAE tensors under {'module': {'module.first_stage_model....'}} (the DeepSpeed/DDP prefix).
- vae_f16.pt: VAE tensors converted to f16 (plain dict); clip_bf16.pth: the CLIP text encoder in bf16.
- zip64.ckpt: clip_bf16.pth's entries rewritten as a ZIP64 archive (ZIP64 end records, saturated
  central-directory fields, the ZIP64 extra field), as torch.save writes files past 4 GiB.
- tiny.ckpt: three small tensors (a seed for fuzzing).
- bad/*.ckpt: checkpoints that must be refused with a clear error: malicious pickles (os/posix.system
  by GLOBAL and STACK_GLOBAL, builtins.eval/exec, subprocess.Popen, an allowed OrderedDict applied to a
  refused global, a tensor subclass through _rebuild_from_type_v2), a legacy (non-zip) torch.save, a
  deflated pickle, and hand-written pickles with a wrong storage size, a view past its storage, a
  negative shape, a missing storage, non-contiguous strides, no tensors, an unsafe or duplicate entry name.
Every file is the same at each run except bad/legacy.pt (the legacy format keys storages by address).
Nothing here is ever unpickled; the malicious objects' __reduce__ runs only at pickling time, to name
what to call.

Run: OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools/train /usr/bin/python3 -m dgtrain.make_fixtures_ckpt
"""
import collections
import io
import json
import os
import shutil
import struct
import subprocess
import warnings
import zipfile
import zlib

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "tests", "io", "data")
OUT = os.path.join(DATA, "ckpt")

UNET, VAE, CLIP, CONTROL, OPENCLIP = ("model.diffusion_model.", "first_stage_model.", "cond_stage_model.transformer.",
                                      "control_model.", "cond_stage_model.model.")
_DT = {"F32": torch.float32, "F16": torch.float16, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8,
       "F64": torch.float64}


def load(path):
    """name -> tensor with the stored dtype (BF16 kept), and the metadata."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.zeros(0, dtype=torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=_DT[info["dtype"]]) if raw else torch.zeros(0, dtype=_DT[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path, **kw)
    return path


def only(sd, prefix, strip=False):
    return collections.OrderedDict((k[len(prefix):] if strip else k, v) for k, v in sorted(sd.items())
                                   if k.startswith(prefix))


def zeros16(*shape):
    return torch.zeros(shape, dtype=torch.float16)


# ---- ZIP64 rewrite -------------------------------------------------------------------------------
def zip64(src, dst):
    """Rewrites a stored zip as ZIP64: every central header with saturated sizes and offset and the
    ZIP64 extra field, the ZIP64 end record and locator, and a saturated end record."""
    z = zipfile.ZipFile(src)
    out, central = bytearray(), bytearray()
    for info in z.infolist():
        data = z.read(info.filename)
        name = info.filename.encode()
        crc = zlib.crc32(data)
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0x21, crc, 0xffffffff, 0xffffffff, len(name),
                           len(extra)) + name + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc, 0xffffffff, 0xffffffff,
                               len(name), len(cextra), 0, 0, 0, 0, 0xffffffff) + name + cextra
    cd_offset, n = len(out), len(z.infolist())
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064b50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
    open(os.path.join(OUT, dst), "wb").write(out)  # (an absolute dst stays as it is)


# ---- hand-written pickles ------------------------------------------------------------------------
def ustr(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def bint(i):
    return b"J" + struct.pack("<i", i)


def rebuild(key, storage, numel, offset, size, stride):
    """_rebuild_tensor_v2 of persistent id ('storage', torch.<storage>, key, 'cpu', numel), as torch.save."""
    pid = b"(" + ustr("storage") + b"ctorch\n" + storage.encode() + b"\n" + ustr(key) + ustr("cpu") + bint(numel) + b"t"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"Q" + bint(offset) + b"(" +
            b"".join(bint(s) for s in size) + b"t(" + b"".join(bint(s) for s in stride) + b"t\x89" +
            b"ccollections\nOrderedDict\n)Rtr" + struct.pack("<I", 0) + b"R")


def pickled_dict(items):
    return b"\x80\x02}(" + b"".join(ustr(k) + v for k, v in items) + b"u."


def archive(name, pkl, storages, method=zipfile.ZIP_STORED, extra=()):
    """A torch.save-like zip: archive/data.pkl, archive/data/<key>, archive/version (+ extra entries)."""
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as z:
        warnings.simplefilter("ignore")  # a duplicate name, on purpose
        for n, data, m in [("archive/data.pkl", pkl, method), ("archive/version", b"3\n", zipfile.ZIP_STORED)] + [
                ("archive/data/" + k, v, zipfile.ZIP_STORED) for k, v in storages.items()] + list(extra):
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = m
            z.writestr(info, data)


# ---- malicious objects: their __reduce__ names a call, which the reader must refuse ---------------------
class Reduce:
    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


class EvilTensor(torch.Tensor):
    pass


def marker(what):
    return "/tmp/dg_ckpt_pwned_" + what


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(0)
    sd, meta = load(os.path.join(DATA, "sd15_tiny.safetensors"))

    # Lightning: the state dict plus training state that is not read.
    lightning = collections.OrderedDict(
        [("epoch", 3), ("global_step", 1000), ("pytorch-lightning_version", "1.4.2"), ("state_dict", only(sd, "")),
         ("optimizer_states", [{"state": {0: {"step": 10, "exp_avg": torch.ones(3)}}, "param_groups": [
             {"lr": 1e-4, "betas": (0.9, 0.999), "params": [0]}]}]), ("lr_schedulers", []), ("loops", None)])
    lightning.update(meta)  # top-level strings: the reader offers them as metadata
    save(lightning, "sd15_tiny.ckpt")

    # The encoder half of the VAE (its mid-block attention included: [C, C] Linear weights that map to
    # [C, C, 1, 1]) keeps the file small; the folder needs no other part.
    for part, file, keep in [("vae", "diffusion_pytorch_model", "encoder."), ("text_encoder", "model", "")]:
        src, _ = load(os.path.join(DATA, "sd15_tiny_diffusers", part, file + ".safetensors"))
        bin_name = "diffusion_pytorch_model.bin" if part == "vae" else "pytorch_model.bin"
        save(only(src, keep), os.path.join("sd15_tiny_bin", part, bin_name))

    aldm = only(sd, CONTROL)
    for k in [k for k in aldm if k.startswith(CONTROL + "input_hint_block.")]:
        del aldm[k]
    ch = [16, 16, 12, 8, 8, 2]
    for i in range(5):
        aldm[f"{CONTROL}input_hint_block.{2 * i}.weight"] = zeros16(ch[i + 1], ch[i], 3, 3)
        aldm[f"{CONTROL}input_hint_block.{2 * i}.bias"] = zeros16(ch[i + 1])
    save({"state_dict": aldm, "epoch": 0, "global_step": 0}, "aldm.ckpt")

    vc2 = only(sd, UNET)  # the whole UNet, so the file is detected as a VideoCrafter2 UNet3D
    vc2[UNET + "input_blocks.1.0.temopral_conv.conv1.3.weight"] = zeros16(2, 2, 3, 1, 1)
    vc2[UNET + "init_attn.0.proj_in.weight"] = zeros16(2, 2)
    vc2[UNET + "fps_embedding.0.weight"] = zeros16(8, 2)
    vc2[OPENCLIP + "token_embedding.weight"] = zeros16(32, 8)
    vc2[OPENCLIP + "positional_embedding"] = zeros16(77, 8)
    for layer in range(2):
        vc2[f"{OPENCLIP}transformer.resblocks.{layer}.mlp.c_fc.weight"] = zeros16(16, 8)
        vc2[f"{OPENCLIP}transformer.resblocks.{layer}.attn.in_proj_weight"] = zeros16(24, 8)
    vc2[OPENCLIP + "ln_final.weight"] = zeros16(8)
    save({"module": collections.OrderedDict(("_forward_module." + k, v) for k, v in vc2.items()),
          "buffer_names": [], "ds_version": "0.9.0"}, "vc2.ckpt")

    vae = only(sd, VAE + "encoder.down.0.")
    vae.update(only(sd, VAE + "quant_conv."))
    save({"module": collections.OrderedDict(("module." + k, v) for k, v in vae.items()),
          "global_steps": 5, "ds_config": {"fp16": {"enabled": True}}}, "deepspeed.pt")
    save(collections.OrderedDict((k, v.float().half()) for k, v in only(sd, VAE + "decoder.up.0.").items()),
         "vae_f16.pt")
    save(collections.OrderedDict((k, v.float().bfloat16()) for k, v in only(sd, CLIP).items()
                                 if v.is_floating_point()), "clip_bf16.pth")
    zip64(os.path.join(OUT, "clip_bf16.pth"), "zip64.ckpt")
    w = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
    save({"state_dict": collections.OrderedDict([
        ("a.weight", w), ("a.bias", torch.tensor([0.5, -1.0, 2.0], dtype=torch.float16)),
        ("steps", torch.tensor([1, 2], dtype=torch.int64)), ("view", w[1])])}, "tiny.ckpt")

    # Malicious pickles (each would run its call under torch.load(weights_only=False)).
    import os as os_module
    evil = {
        "global_system": (Reduce(os_module.system, ("touch " + marker("system"),)), {}),
        "stack_global_system": (Reduce(os_module.system, ("touch " + marker("stack"),)), {"pickle_protocol": 4}),
        "eval": (Reduce(eval, ("__import__('os').system('touch " + marker("eval") + "')",)), {}),
        "exec": (Reduce(exec, ("import os; os.system('touch " + marker("exec") + "')",)), {"pickle_protocol": 4}),
        "popen": (Reduce(subprocess.Popen, (["touch", marker("popen")],)), {"pickle_protocol": 4}),
        "nested": (Reduce(collections.OrderedDict, ([("x", Reduce(os_module.system, ("touch " + marker("nested"),)))],)),
                   {}),
        "subclass": (torch.zeros(2).as_subclass(EvilTensor), {}),
    }
    for name, (obj, kw) in evil.items():
        save({"state_dict": {"w": torch.zeros(2), "x": obj}}, os.path.join("bad", name + ".ckpt"), **kw)
    save({"w": torch.zeros(2)}, os.path.join("bad", "legacy.pt"), _use_new_zipfile_serialization=False)

    f4 = struct.pack("<4f", 1, 2, 3, 4)
    good = rebuild("0", "FloatStorage", 4, 0, [2, 2], [2, 1])
    archive("bad/deflated.ckpt", pickled_dict([("w", good)]), {"0": f4}, zipfile.ZIP_DEFLATED)
    archive("bad/storage_size.ckpt", pickled_dict([("w", rebuild("0", "FloatStorage", 6, 0, [2, 3], [3, 1]))]),
            {"0": f4})
    archive("bad/view_past.ckpt", pickled_dict([("w", rebuild("0", "FloatStorage", 4, 2, [2, 2], [2, 1]))]),
            {"0": f4})
    archive("bad/negative_shape.ckpt", pickled_dict([("w", rebuild("0", "FloatStorage", 4, 0, [-2, 2], [2, 1]))]),
            {"0": f4})
    archive("bad/missing_storage.ckpt", pickled_dict([("w", rebuild("7", "FloatStorage", 4, 0, [2, 2], [2, 1]))]),
            {"0": f4})
    archive("bad/strided.ckpt", pickled_dict([("w", rebuild("0", "FloatStorage", 4, 0, [2, 2], [1, 2]))]),
            {"0": f4})
    archive("bad/no_tensors.ckpt", pickled_dict([("epoch", bint(3))]), {})
    archive("bad/dtype_size.ckpt", pickled_dict([("w", rebuild("0", "DoubleStorage", 4, 0, [4], [1]))]), {"0": f4})
    archive("bad/unsafe_name.ckpt", pickled_dict([("w", good)]), {"0": f4},
            extra=[("archive/../../etc/x", b"x", zipfile.ZIP_STORED)])
    archive("bad/duplicate_entry.ckpt", pickled_dict([("w", good)]), {"0": f4},
            extra=[("archive/data/0", f4, zipfile.ZIP_STORED)])
    archive("good_handmade.ckpt", pickled_dict([("w", good), ("v", rebuild("0", "FloatStorage", 4, 1, [3], [1]))]),
            {"0": f4})

    # Seeds of tests/fuzz/fuzz_ckpt (each under 8 KiB): whole images (starting with "PK") and bare
    # pickles, which the target stores beside storages archive/data/K of 16 * (K + 1) bytes.
    # (Written over, the folder kept: it also holds the merged finds of fuzzing runs.)
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_ckpt")
    os.makedirs(seeds, exist_ok=True)
    zip64(os.path.join(OUT, "tiny.ckpt"), os.path.join(seeds, "tiny_zip64.ckpt"))
    for d, _, files in os.walk(OUT):
        for f in sorted(files):
            path = os.path.join(d, f)
            if os.path.getsize(path) > 8192:
                continue
            tag = os.path.relpath(path, OUT).replace("/", "_")
            shutil.copy(path, os.path.join(seeds, tag))
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as z:
                    pkl = [n for n in z.namelist() if n.endswith("data.pkl")]
                    if pkl and z.getinfo(pkl[0]).compress_type == zipfile.ZIP_STORED:
                        open(os.path.join(seeds, tag + ".pkl"), "wb").write(z.read(pkl[0]))
    harness = pickled_dict([("a", rebuild("0", "FloatStorage", 4, 0, [2, 2], [2, 1])),
                            ("b", rebuild("1", "HalfStorage", 16, 4, [3, 4], [4, 1])),
                            ("c", rebuild("3", "LongStorage", 8, 0, [8], [1])),
                            ("d", rebuild("2", "BFloat16Storage", 24, 0, [2, 3, 4], [12, 4, 1]))])
    open(os.path.join(seeds, "storages.pkl"), "wb").write(harness)
    lightning = b"\x80\x02}(" + ustr("state_dict") + harness[3:-1] + ustr("epoch") + bint(3) + b"u."
    open(os.path.join(seeds, "lightning.pkl"), "wb").write(lightning)

    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print(f"wrote {OUT}: {total / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
