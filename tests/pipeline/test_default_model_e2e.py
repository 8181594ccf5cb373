#!/usr/bin/python3
"""End to end on the embedded default model (assets/models): `dirigent-cli generate` with a layout and a fixed seed
makes an image that the evaluation segmenter reads as that layout about as well as the PyTorch reference's image
from the same layout, prompt and seed (mIoU within 5 points), and the two images agree pixel for pixel closely.

    PYTHONPATH=tools/train test_default_model_e2e.py BUILD/app/cli/dirigent-cli   (meson sets PYTHONPATH)
"""
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

from dgtrain import REPO  # noqa: E402
from dgtrain import segmenter as S  # noqa: E402
from dgtrain.exports import load_json_beside  # noqa: E402
from dgtrain.generate import Generator  # noqa: E402
from dgtrain.world_data import load_image, load_label  # noqa: E402

MODELS = os.path.join(REPO, "assets", "models")
STEPS, SEEDS, PROMPT = 10, (3, 8), "a red car on a street at sunset"


def main():
    cli = sys.argv[1]
    need = ["unet", "vae", "text_encoder", "controlnet_aldm", "eval_segmenter"]
    missing = [n for n in need if not os.path.exists(os.path.join(MODELS, n + ".safetensors"))]
    if missing:
        print(f"skip: assets/models lacks {missing}")
        return 77
    torch.set_num_threads(2)
    m = lambda n: os.path.join(MODELS, n + ".safetensors")  # noqa: E731
    gen = Generator(m("unet"), m("vae"), m("text_encoder"), os.path.join(REPO, "assets", "tokenizer"),
                    controlnet_path=m("controlnet_aldm"))
    seg = S.load_segmenter(m("eval_segmenter"), load_json_beside(m("eval_segmenter"))).eval()
    k = seg.config["num_classes"]
    conf = {"engine": torch.zeros(k, k, dtype=torch.long), "pytorch": torch.zeros(k, k, dtype=torch.long)}
    fails = 0
    with tempfile.TemporaryDirectory(prefix="dg_e2e_") as tmp:
        for seed in SEEDS:
            subprocess.run([cli, "world", "sample", "--seed", str(seed), "--out", tmp], check=True, capture_output=True)
            layout = os.path.join(tmp, f"world-{seed}-label.png")
            out = os.path.join(tmp, f"engine-{seed}.png")
            r = subprocess.run([cli, "generate", "--prompt", PROMPT, "--layout", layout, "--steps", str(STEPS),
                                "--seed", str(seed), "--quiet", "--out", out], capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL generate seed {seed}: {r.stderr.strip()}")
                return 1
            label = load_label(layout)
            engine = load_image(out)
            with torch.no_grad():
                ref = gen([PROMPT], label[None], seed, steps=STEPS)[0].clamp(-1, 1)
                ref = ((ref + 1) * 127.5).round() / 127.5 - 1  # the 8 bits the engine's PNG holds
                for name, img in (("engine", engine), ("pytorch", ref)):
                    conf[name] += S.confusion(seg(img[None]).argmax(1)[0], label, k)
            diff = (engine - ref).abs().mul(127.5)
            print(f"seed {seed}: engine vs PyTorch mean |diff| {diff.mean():.2f} levels, max {diff.max():.0f}")
            if diff.mean() > 2.0:
                print(f"FAIL seed {seed}: the engine's image differs from the reference by {diff.mean():.2f} levels")
                fails += 1
    miou = {n: S.iou_from_confusion(c)[1] for n, c in conf.items()}
    print(f"mIoU of the evaluation segmenter against the layouts: engine {miou['engine']:.3f}, "
          f"PyTorch {miou['pytorch']:.3f}")
    if abs(miou["engine"] - miou["pytorch"]) > 0.05:
        print("FAIL mIoU differs by more than 5 points")
        fails += 1
    print("ok" if not fails else f"{fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
