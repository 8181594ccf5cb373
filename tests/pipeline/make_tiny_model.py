#!/usr/bin/python3
"""Writes a tiny, complete Dirigent model folder (tokenizer, text encoder, UNet, VAE, ALDM id-hint
ControlNet with its class-embedding table; random weights stored as F16) to tests/pipeline/tiny_model/,
and the images the PyTorch reference pipeline generates from it (expected.safetensors), so the C
pipeline (render/pipelines/dg_generate) is checked end to end: tokenizer -> text encoder -> DDIM with
CFG (+ ControlNet) -> VAE decoder. Deterministic.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools/train /usr/bin/python3 tests/pipeline/make_tiny_model.py
"""
import json
import os

import torch

from dgtrain import clip_text, controlnet, diffusion, ldm_unet, ldm_vae, tokenizer
from dgtrain.fixtures import UNET, VAE, perturb, prefixed
from dgtrain.safetensors_io import save

HERE = os.path.dirname(os.path.abspath(__file__))

OUT = os.path.join(HERE, "tiny_model")
CAPTIONS = ["a red car on a snowy street at night", "two people and three trees next to a yellow building",
            "a blue car and a white car on a road in autumn", "a street from day to night with fog"]
PROMPT, NEGATIVE = "a red car on a street at night", "blurry"
SEED, STEPS, CFG = 7, 4, 5.0
H, W = 32, 64  # image; the tiny VAE has f = 2, so latents are 16 x 32
CLASSES = 14


def main():
    torch.set_num_threads(1)
    os.makedirs(os.path.join(OUT, "tokenizer"), exist_ok=True)
    vocab, merges, _ = tokenizer.learn_bpe(CAPTIONS, 60, min_count=1)
    tokenizer.save_tokenizer(os.path.join(OUT, "tokenizer"), vocab, merges)
    tok = tokenizer.Tokenizer.from_dir(os.path.join(OUT, "tokenizer"))
    gen = torch.Generator().manual_seed(4242)

    tcfg = {"vocab_size": tok.vocab_size, "width": UNET["context_dim"], "layers": 2, "heads": 2, "mlp": 32,
            "max_len": 77}
    torch.manual_seed(11)
    text = clip_text.ClipTextModel(tcfg).eval()
    perturb(text, gen, 0.02)
    save({k: v.half() for k, v in text.ldm_state_dict().items()}, os.path.join(OUT, "text_encoder.safetensors"),
         metadata={"config": json.dumps(text.config)})
    torch.manual_seed(12)
    unet = ldm_unet.UNetModel(UNET).eval()
    perturb(unet, gen)
    save(prefixed(unet, "model.diffusion_model."), os.path.join(OUT, "unet.safetensors"),
         metadata={"config": json.dumps(UNET)})
    torch.manual_seed(13)
    vae = ldm_vae.AutoencoderKL(VAE).eval()
    perturb(vae, gen)
    save(prefixed(vae, "first_stage_model."), os.path.join(OUT, "vae.safetensors"),
         metadata={"config": json.dumps(VAE)})
    ccfg = controlnet.small_config(UNET, "id", embed_dim=16)
    torch.manual_seed(14)
    cnet = controlnet.ControlNet(ccfg).eval()
    perturb(cnet, gen, 0.3)  # strong enough that the layout visibly changes the image
    table = (torch.randn((CLASSES + 1, 16), generator=gen)).half().float()
    tensors = prefixed(cnet, "control_model.")
    tensors["dirigent.class_embeddings"] = table.half()
    save(tensors, os.path.join(OUT, "controlnet_aldm.safetensors"), metadata={"config": json.dumps(ccfg)})

    # The reference pipeline.
    ids = torch.tensor([tok.encode(PROMPT), tok.encode(NEGATIVE)])
    with torch.no_grad():
        hidden, _ = text(ids)
    cond, uncond = hidden[:1], hidden[1:]
    layout = torch.full((1, H, W), 255, dtype=torch.long)
    layout[:, : H // 2] = 0          # sky
    layout[:, H // 2:] = 5           # road
    layout[:, H // 2:, 20:36] = 9    # a car
    hint = controlnet.id_hint(layout, table, (2 * H // 2, 2 * W // 2))  # 2x latent resolution
    sched = diffusion.Schedule()
    shape = (1, 4, H // 2, W // 2)
    out = {"label_map": layout[0].to(torch.uint8)}
    for name, use_control in (("image_text", False), ("image_layout", True)):
        def model_fn(x, t, ctx):
            ctl = cnet(x, hint.expand(x.shape[0], -1, -1, -1), t, ctx) if use_control else None
            return unet(x, t, ctx, control=ctl)
        with torch.no_grad():
            z, _ = diffusion.DDIM(sched, STEPS).sample(model_fn, shape, SEED, cond, uncond, CFG)
            img = vae.decode(z / VAE["scale_factor"])
        out[name] = img[0].float()
    save(out, os.path.join(HERE, "expected.safetensors"),
         metadata={"prompt": PROMPT, "negative": NEGATIVE, "seed": str(SEED), "steps": str(STEPS), "cfg": str(CFG)})
    print("wrote", OUT, "and expected.safetensors")


if __name__ == "__main__":
    main()
