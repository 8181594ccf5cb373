"""Writes the golden fixtures of the evaluation models for the C engine under tests/golden/eval/ (layout in
tests/golden/README.md): a tiny random UperNet evaluation segmenter (BatchNorm in eval mode with random
running statistics) and a tiny random contrastive text-image model (text tower, image tower, projections),
each exported exactly as the trainers export them (weights .safetensors + config .json beside), with
inputs and the reference outputs. Weights are stored as F16; the references run in f32 on those values.
Deterministic: rerunning gives the same files.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_eval [--out DIR]
"""
import json
import os

import torch

from . import REPO, clip_model, segmenter
from .clip_model import export_state_dict
from .clip_text import CKPT_PREFIX
from .fixtures import FixtureSet
from .safetensors_io import save
from .tokenizer import Tokenizer
TOKENIZER = os.path.join(REPO, "tests", "golden", "text", "tokenizer")  # 621 tokens

SEGMENTER = {"num_classes": 14, "in_channels": 3, "stem": 8, "channels": [8, 16, 16, 24], "blocks": [1, 2, 1, 1],
             "fpn_dim": 16, "pool_scales": [1, 2, 3, 6], "norm": "bn"}
CLIP = {"text": {"vocab_size": 621, "width": 32, "layers": 2, "heads": 4, "mlp": 64, "max_len": 77, "eps": 1e-5,
                 "act": "quick_gelu"},
        "image": {"in_channels": 3, "stem": 8, "stem_stride": 8, "channels": [8, 16, 16, 24], "blocks": [1, 2, 1, 1],
                  "groups": 4},
        "embed_dim": 16}
IMAGE = (64, 128)  # H, W: stride-32 maps of 2 x 4, so the pyramid pooling to 3 and 6 upsamples unevenly
TEXTS = ["a red car on a snowy street at night", "two people and three trees next to a yellow building", ""]


def randomise(module, gen):
    """Random affine norms and BatchNorm statistics (so folding them into the convs is tested), random biases;
    every value rounded through F16, which is how the weights are stored."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 1 and name.endswith("weight"):  # norm scales
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias") or p.ndim == 0:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            p.copy_(p.half().float())
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_((0.2 * torch.randn(b.shape, generator=gen)).half().float())
            elif name.endswith("running_var"):
                b.copy_((0.5 + torch.rand(b.shape, generator=gen)).half().float())


def f16(sd):
    return {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}


def main():
    fx = FixtureSet(__doc__, os.path.join(REPO, "tests", "golden", "eval"), 20261126)
    args, gen, write = fx.args, fx.gen, fx.write

    # --- evaluation segmenter, exported as train_segmenter does (config in the .json beside) ---
    def segmenter_fixture(name, cfg, g, what):
        seg = segmenter.UperNet(cfg)
        randomise(seg, g)
        if seg.refine is not None:  # trained from zero: a random one, so that its path counts in the logits
            with torch.no_grad():
                seg.refine.out.weight.copy_((0.3 * torch.randn(seg.refine.out.weight.shape, generator=g)).half().float())
        seg.eval()
        sd = {k: v for k, v in seg.state_dict().items() if not k.endswith("num_batches_tracked")}
        save(f16(sd), os.path.join(args.out, name + "_weights.safetensors"), {"format": "dirigent-segmenter"})
        with open(os.path.join(args.out, name + "_weights.json"), "w") as f:
            json.dump(dict(seg.config, ignore_index=segmenter.IGNORE, input="RGB in [-1,1], any size divisible by 32"),
                      f, indent=1)
        image = torch.rand((1, 3) + IMAGE, generator=g) * 2 - 1
        with torch.no_grad():
            logits = seg(image)
        write(name, {"image": image, "logits": logits, "classes": logits.argmax(1)},
              {"weights": name + "_weights.safetensors", "config": cfg, "what": what})

    torch.manual_seed(5)
    segmenter_fixture("segmenter", SEGMENTER, gen,
                      "logits = UperNet(image) in eval mode (BatchNorm with running statistics), bilinear "
                      "align_corners=False; classes = argmax over the class axis")

    # --- contrastive text-image model, exported as train_clip does ---
    tok = Tokenizer.from_dir(TOKENIZER)
    assert tok.vocab_size == CLIP["text"]["vocab_size"]
    torch.manual_seed(6)
    clip = clip_model.ClipModel(CLIP)
    randomise(clip, gen)
    clip.eval()
    save(f16(export_state_dict(clip)), os.path.join(args.out, "clip_weights.safetensors"), {"format": "dirigent-clip"})
    with open(os.path.join(args.out, "clip_weights.json"), "w") as f:
        json.dump(dict(clip.config, text_prefix=CKPT_PREFIX, tokenizer="tests/golden/text/tokenizer"), f, indent=1)
    images = torch.rand((2, 3) + IMAGE, generator=gen) * 2 - 1
    ids = tok(TEXTS)
    with torch.no_grad():
        features = clip.image(images)
        image_embeds = clip.encode_image(images)
        text_embeds = clip.encode_text(ids)
    write("clip", {"images": images, "image_features": features, "image_embeds": image_embeds, "ids": ids,
                   "text_embeds": text_embeds, "similarity": image_embeds @ text_embeds.t()},
          {"weights": "clip_weights.safetensors", "config": CLIP, "texts": TEXTS, "tokenizer": "../text/tokenizer",
           "what": "image_features = ImageEncoder(images) (global average pool); image_embeds = "
                   "normalize(image_projection(image_features)); text_embeds = normalize(text_projection(pooled EOT "
                   "state of the text tower)) for ids = tokenizer(texts); similarity = image_embeds text_embeds^T"})

    # --- the segmenter with a full-resolution refinement head; its own generator leaves the fixtures above as
    # they were ---
    torch.manual_seed(7)
    segmenter_fixture("segmenter_refine", dict(SEGMENTER, refine=4), torch.Generator().manual_seed(20261127),
                      "as segmenter, plus refine 4: logits = coarse + refine.out(refine.head(cat(refine.stem(image), "
                      "coarse))), coarse the upsampled UperNet logits")

    fx.finish()


if __name__ == "__main__":
    main()
