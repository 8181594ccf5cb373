"""The default 2-D UNet's weights inflated into the video UNet (video_unet.inflate: VideoCrafter2's temporal layers
at their initialisation with their outputs zeroed, and a zeroed fps embedding, so the result equals the image model
on every frame until trained), written as a Dirigent model folder's video_unet.safetensors (F16 weights under
`model.diffusion_model.`, the config in the metadata). The starting point of video training, and a video UNet of
the default model's size for the engine's benchmarks.

    cd tools/train && /usr/bin/python3 -m dgtrain.inflate_video [--unet ../../assets/models/unet.safetensors] --out FILE
"""
import argparse
import json
import os

from . import REPO, video_unet
from .fixtures import prefixed
from .safetensors_io import save


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unet", default=os.path.join(REPO, "assets", "models", "unet.safetensors"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    model = video_unet.load_inflated(a.unet).eval()
    save(prefixed(model, "model.diffusion_model."), a.out, metadata={"config": json.dumps(model.cfg)})
    print(video_unet.describe(model), "->", a.out)


if __name__ == "__main__":
    main()
