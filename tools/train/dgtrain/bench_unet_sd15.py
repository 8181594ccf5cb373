"""A UNet with Stable Diffusion 1.5's real dimensions (860M parameters, LDM names) and random weights, for the GPU
check (tools/gpu-check.sh): writes it for the engine (f16, PATH.safetensors + PATH.json), and times PyTorch's forward
of the same model on the same sizes (fp16 on CUDA; f32 on the CPU) with the CFG batch of 2, so that the engine's
dirigent-bench-unet numbers stand beside PyTorch's on one card.

    python3 -m dgtrain.bench_unet_sd15 --write /tmp/sd15/unet        # the engine's input
    python3 -m dgtrain.bench_unet_sd15 --torch --size 512 --steps 20  # PyTorch's seconds per step and it/s
"""
import argparse
import sys
import time

import torch

from . import exports, safetensors_io
from .ldm_unet import SD15, UNetModel


def build(seed):
    torch.manual_seed(seed)
    model = UNetModel(dict(SD15)).eval()
    # LDM zero-initialises the output convolutions; random weights there keep every path busy and the
    # activations finite in f16 (default init, no training: numbers of a forward, not of an image).
    for name, p in model.named_parameters():
        if p.abs().sum() == 0 and p.dim() > 1:
            torch.nn.init.normal_(p, std=0.02)
    return model


def write(model, path):
    weights, cfg_path = exports.export_paths(path)
    tensors = {"model.diffusion_model." + k: v.detach().half() for k, v in model.state_dict().items()}
    exports.write_record(cfg_path, dict(SD15, training="random weights (dgtrain.bench_unet_sd15), for benchmarks only"))
    safetensors_io.save(tensors, weights)
    n = sum(v.numel() for v in tensors.values())
    print(f"wrote {weights} ({n / 1e6:.0f}M parameters, f16) and {cfg_path}")


def time_torch(model, size, batch, steps, device):
    dtype = torch.float16 if device == "cuda" else torch.float32
    model = model.to(device, dtype)
    h = size // 8
    x = torch.randn(batch, 4, h, h, device=device, dtype=dtype)
    ctx = torch.randn(batch, 77, SD15["context_dim"], device=device, dtype=dtype)
    t = torch.full((batch,), 500, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.no_grad():
        for _ in range(2):  # warm-up: cuDNN autotuning, allocator
            model(x, t, ctx)
        sync()
        t0 = time.time()
        for _ in range(steps):
            model(x, t, ctx)
        sync()
    s = (time.time() - t0) / steps
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"pytorch {torch.__version__} {device} ({name}) {dtype}: UNet {size}x{size} batch {batch}: "
          f"{s:.4f} s/step, {1 / s:.2f} it/s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", help="write the random UNet to PATH(.safetensors) with PATH.json")
    ap.add_argument("--torch", action="store_true", help="time PyTorch's forward")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=512, help="image size in pixels (latent = size / 8)")
    ap.add_argument("--batch", type=int, default=2, help="2: a CFG step")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if not a.write and not a.torch:
        ap.error("nothing to do: --write PATH and/or --torch")
    if a.size % 64:
        ap.error(f"--size {a.size}: SD 1.5's UNet needs a multiple of 64 pixels")
    model = build(a.seed)
    if a.write:
        write(model, a.write)
    if a.torch:
        time_torch(model, a.size, a.batch, a.steps, a.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
