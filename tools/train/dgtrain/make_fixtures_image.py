"""Writes the golden fixtures of the image models for the C engine under tests/golden/image/ (layout in
tests/golden/README.md): tiny random UNet (attention + cross-attention), UNet with ControlNet residuals,
ControlNet with the id hint and with the colour hint, VAE encoder and decoder, DDIM (eta 0 and eta 0.5, CFG)
and PLMS sampling runs, and the Philox RNG. Weights use the real single-file prefixes
(model.diffusion_model., control_model., first_stage_model.). Deterministic: rerunning gives the same files.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_image [--out DIR]
"""
import json
import os

import numpy as np
import torch

from . import REPO, controlnet, diffusion, ldm_unet, ldm_vae, rng
from .fixtures import UNET, VAE, FixtureSet, perturb, prefixed
from .safetensors_io import save

LAT = (4, 8, 16)   # latent C,h,w of the tiny UNet fixtures
CTX_LEN = 7


def main():
    fx = FixtureSet(__doc__, os.path.join(REPO, "tests", "golden", "image"), 20261125)
    args, gen, write = fx.args, fx.gen, fx.write

    # --- UNet ---
    torch.manual_seed(1)
    unet = ldm_unet.UNetModel(UNET).eval()
    perturb(unet, gen)
    save(prefixed(unet, "model.diffusion_model."), os.path.join(args.out, "unet_weights.safetensors"),
         metadata={"config": json.dumps(UNET)})
    x = torch.randn((2,) + LAT, generator=gen)
    t = torch.tensor([37, 801], dtype=torch.int64)
    ctx = torch.randn(2, CTX_LEN, UNET["context_dim"], generator=gen)
    with torch.no_grad():
        eps = unet(x, t, ctx)
    write("unet", {"x": x, "t": t, "context": ctx, "eps": eps},
          {"weights": "unet_weights.safetensors", "config": UNET, "what": "eps = UNet(x, t, context)"})

    n_ctl = unet.num_control
    with torch.no_grad():
        probe = []
        h = x
        emb = unet.time_embed(ldm_unet.timestep_embedding(t, UNET["model_channels"]))
        for m in unet.input_blocks:
            h = m(h, emb, ctx)
            probe.append(h)
        probe.append(unet.middle_block(h, emb, ctx))
    control = [0.5 * torch.randn(p.shape, generator=gen) for p in probe]
    with torch.no_grad():
        eps_c = unet(x, t, ctx, control)
    write("unet_control", dict({"x": x, "t": t, "context": ctx, "eps": eps_c},
                               **{f"control.{i}": c for i, c in enumerate(control)}),
          {"weights": "unet_weights.safetensors", "config": UNET, "num_control": n_ctl,
           "what": "eps = UNet(x, t, context, control): control.0..N-2 added to the skips of input blocks "
                   "0..N-2 (popped in reverse by the output blocks), control.N-1 added to the middle block output"})

    # --- ControlNet, id and colour hints ---
    for mode in ("id", "color"):
        ccfg = controlnet.small_config(UNET, mode, embed_dim=24)
        torch.manual_seed(2)
        cn = controlnet.ControlNet(ccfg).eval()
        cn.load_from_unet(unet)
        perturb(cn, gen)
        save(prefixed(cn, "control_model."), os.path.join(args.out, f"controlnet_{mode}_weights.safetensors"),
             metadata={"config": json.dumps(ccfg)})
        if mode == "id":
            table = torch.randn(15, 24, generator=gen)  # 14 classes + null embedding last
            label = torch.randint(0, 14, (1, 4 * LAT[1], 4 * LAT[2]), generator=gen)
            label[:, 5:12, 20:33] = 255
            hint = controlnet.id_hint(label, table, (2 * LAT[1], 2 * LAT[2]))
            extra = {"class_table": table, "label": label}
        else:
            hint = torch.rand((1, 3, 8 * LAT[1], 8 * LAT[2]), generator=gen)
            extra = {}
        b = hint.shape[0]  # batch 1 keeps the fixture small
        with torch.no_grad():
            res = cn(x[:b], hint, t[:b], ctx[:b])
            eps_cn = unet(x[:b], t[:b], ctx[:b], res)
        tensors = dict({"x": x[:b], "t": t[:b], "context": ctx[:b], "hint": hint, "eps": eps_cn},
                       **{f"control.{i}": r for i, r in enumerate(res)}, **extra)
        write(f"controlnet_{mode}", tensors,
              {"weights": f"controlnet_{mode}_weights.safetensors", "unet_weights": "unet_weights.safetensors",
               "config": ccfg, "what": "control.i = ControlNet(x, hint, t, context); eps = UNet(x, t, context, control)"
               + ("; hint = class_table[label (255 -> last row)] nearest-resized to 2x latent size" if mode == "id" else "")})

    # --- VAE ---
    torch.manual_seed(3)
    vae = ldm_vae.AutoencoderKL(VAE).eval()
    perturb(vae, gen)
    save(prefixed(vae, "first_stage_model."), os.path.join(args.out, "vae_weights.safetensors"),
         metadata={"config": json.dumps(VAE)})
    img = torch.rand((1, 3, 32, 64), generator=gen) * 2 - 1
    z_in = torch.randn((1, 4, 16, 32), generator=gen)
    with torch.no_grad():
        mean, logvar = vae.encode_moments(img)
        dec = vae.decode(z_in)
    write("vae_encoder", {"image": img, "mean": mean, "logvar": logvar},
          {"weights": "vae_weights.safetensors", "config": VAE,
           "what": "(mean, logvar) = chunk(quant_conv(encoder(image)), 2); logvar clamped to [-30, 20]; "
                   "the diffusion latent is scale_factor * mean"})
    write("vae_decoder", {"z": z_in, "image": dec},
          {"weights": "vae_weights.safetensors", "config": VAE,
           "what": "image = decoder(post_quant_conv(z)), z unscaled (latent / scale_factor)"})

    # --- samplers (the tiny UNet, CFG with an "empty prompt" context) ---
    sched = diffusion.Schedule()
    uncond = torch.randn(1, CTX_LEN, UNET["context_dim"], generator=gen)
    cond = ctx[:1]
    shape = (1,) + LAT

    def fn(xx, tt, cc):
        with torch.no_grad():
            return unet(xx, tt, cc)

    runs = [("ddim", diffusion.DDIM(sched, 4, eta=0.0), 0.0, 11), ("ddim_eta", diffusion.DDIM(sched, 3, eta=0.5), 0.5, 12),
            ("plms", diffusion.PLMS(sched, 4), None, 13)]
    for name, sampler, eta, seed in runs:
        xs = []
        out, x0s = sampler.sample(fn, shape, seed, cond=cond, uncond=uncond, scale=5.0,
                                  callback=lambda i, xv, x0: xs.append(xv))
        ts = sampler.ts[::-1] if isinstance(sampler, diffusion.DDIM) else sampler.ts
        tensors = {"x_T": torch.from_numpy(rng.randn(seed, shape, 0)), "cond": cond, "uncond": uncond,
                   "timesteps": torch.from_numpy(np.ascontiguousarray(ts)), "x_out": out,
                   "x_steps": torch.cat(xs), "pred_x0": torch.cat(x0s)}
        if eta:
            tensors["step_noise"] = torch.cat([torch.from_numpy(rng.randn(seed, shape, 1 + i)) for i in range(len(ts))])
        write("sample_" + name, tensors,
              {"weights": "unet_weights.safetensors", "config": UNET, "seed": seed, "guidance_scale": 5.0,
               "sampler": "DDIM (LDM uniform)" if eta is not None else "PLMS (diffusers PNDM, skip_prk_steps)",
               "steps": len(sampler.ts) if eta is not None else sampler.steps, "eta": eta,
               "what": "x_T = rng.randn(seed, [1,4,8,16], stream 0); eps = uncond_eps + 5 (cond_eps - uncond_eps); "
                       "x_steps[i], pred_x0[i] after the i-th model evaluation (timesteps[i])"})

    # --- RNG ---
    words = rng.uint32_stream(42, 8, stream=3)
    write("rng", {"randn_seed42_s0": torch.from_numpy(rng.randn(42, (4, 8, 16), 0)),
                  "randn_seed2pow40_s7": torch.from_numpy(rng.randn(2 ** 40 + 5, (37,), 7)),
                  "philox_words_seed42_s3": torch.from_numpy(words.astype(np.int64))},
          {"what": "randn(seed, shape, stream) of docs/rng.md; philox_words: blocks 0..7 of seed 42, stream 3, "
                   "uint32 stored as int64", "seeds": {"randn_seed42_s0": [42, 0],
                                                      "randn_seed2pow40_s7": [2 ** 40 + 5, 7]}})

    fx.finish()


if __name__ == "__main__":
    main()
