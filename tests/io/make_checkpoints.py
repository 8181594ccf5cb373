"""Writes the small checkpoints of tests/io/data in the real naming schemes, from one structural walk
that names every tensor both ways:

- sd15_tiny.safetensors: an LDM single file (model.diffusion_model., first_stage_model.,
  cond_stage_model.transformer., control_model.) of a tiny-width SD-1.5-structured model: UNet
  (channel_mult [1,2,4,4], 2 res blocks, attention at levels 0-2, conv proj), KL VAE, CLIP text
  encoder and a stock-hint ControlNet, plus non-model buffers (schedule, EMA scalar, position_ids).
- sd15_tiny_diffusers/: the same tensors in the diffusers folder layout (unet/, vae/, text_encoder/,
  controlnet/, tokenizer/, model_index.json).
- stylegan2_tiny.safetensors, unknown.safetensors: for detection and its error message.
(test_weights.c derives more files from these at run time: a bare LDM VAE, an ALDM id-hint ControlNet
and a VideoCrafter2-style UNet3D, to keep the committed data small.)

Values are random and distinct per tensor, so equal values after mapping prove the names match.
Run: OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools/train /usr/bin/python3 tests/io/make_checkpoints.py
"""
import json
import os
import zlib

import torch

from dgtrain import safetensors_io

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# Tiny SD 1.5 structure (real: 320, [1,2,4,4], 2, levels 0-2, context 768).
MC, MULT, NRB, ATTN, CTX, IN_CH, OUT_CH = 2, [1, 2, 4, 4], 2, [True, True, True, False], 8, 4, 4
VAE_CH, VAE_MULT, VAE_NRB, Z, EMBED = 2, [1, 2, 4, 4], 2, 4, 4
CLIP_VOCAB, CLIP_W, CLIP_LAYERS, CLIP_POS, CLIP_MLP = 32, 8, 2, 77, 16


def tensor(name, shape):
    """Deterministic random values; dtype F32, F16 or BF16 chosen from the name."""
    seed = zlib.crc32(name.encode())
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(shape, generator=g) if len(shape) else torch.randn((), generator=g)
    dtype = [torch.float32, torch.float16, torch.bfloat16][seed % 3]
    return t.to(dtype)


class Pairs:
    """Collects (ldm_name, diffusers_name, shape)."""

    def __init__(self):
        self.items = []

    def add(self, ldm, diff, shape):
        self.items.append((ldm, diff, tuple(shape)))

    def param(self, ldm, diff, shape, bias=True):
        self.add(ldm + ".weight", diff + ".weight", shape)
        if bias:
            self.add(ldm + ".bias", diff + ".bias", (shape[0],))


def unet_resblock(p, ldm, diff, cin, cout, temb):
    p.param(ldm + ".in_layers.0", diff + ".norm1", (cin,))
    p.param(ldm + ".in_layers.2", diff + ".conv1", (cout, cin, 3, 3))
    p.param(ldm + ".emb_layers.1", diff + ".time_emb_proj", (cout, temb))
    p.param(ldm + ".out_layers.0", diff + ".norm2", (cout,))
    p.param(ldm + ".out_layers.3", diff + ".conv2", (cout, cout, 3, 3))
    if cin != cout:
        p.param(ldm + ".skip_connection", diff + ".conv_shortcut", (cout, cin, 1, 1))


def transformer(p, ldm, diff, ch, ctx, linear=False):
    proj = (ch, ch) if linear else (ch, ch, 1, 1)
    p.param(ldm + ".norm", diff + ".norm", (ch,))
    p.param(ldm + ".proj_in", diff + ".proj_in", proj)
    b = ".transformer_blocks.0"
    for a, kv in (("attn1", ch), ("attn2", ctx)):
        p.param(ldm + b + f".{a}.to_q", diff + b + f".{a}.to_q", (ch, ch), bias=False)
        p.param(ldm + b + f".{a}.to_k", diff + b + f".{a}.to_k", (ch, kv), bias=False)
        p.param(ldm + b + f".{a}.to_v", diff + b + f".{a}.to_v", (ch, kv), bias=False)
        p.param(ldm + b + f".{a}.to_out.0", diff + b + f".{a}.to_out.0", (ch, ch))
    p.param(ldm + b + ".ff.net.0.proj", diff + b + ".ff.net.0.proj", (8 * ch, ch))
    p.param(ldm + b + ".ff.net.2", diff + b + ".ff.net.2", (ch, 4 * ch))
    for n in ("norm1", "norm2", "norm3"):
        p.param(ldm + b + "." + n, diff + b + "." + n, (ch,))
    p.param(ldm + ".proj_out", diff + ".proj_out", proj)


def unet_encoder(p, ctx=CTX, linear=False, control=False):
    """time_embed, input_blocks, middle_block; returns the skip channels."""
    temb = 4 * MC
    p.param("time_embed.0", "time_embedding.linear_1", (temb, MC))
    p.param("time_embed.2", "time_embedding.linear_2", (temb, temb))
    p.param("input_blocks.0.0", "conv_in", (MC, IN_CH, 3, 3))
    chans, ch, k = [MC], MC, 1
    zero = 0
    if control:
        p.param("zero_convs.0.0", "controlnet_down_blocks.0", (MC, MC, 1, 1))
        zero = 1
    for i, m in enumerate(MULT):
        for j in range(NRB):
            unet_resblock(p, f"input_blocks.{k}.0", f"down_blocks.{i}.resnets.{j}", ch, MC * m, temb)
            ch = MC * m
            if ATTN[i]:
                transformer(p, f"input_blocks.{k}.1", f"down_blocks.{i}.attentions.{j}", ch, ctx, linear)
            chans.append(ch)
            if control:
                p.param(f"zero_convs.{zero}.0", f"controlnet_down_blocks.{zero}", (ch, ch, 1, 1))
                zero += 1
            k += 1
        if i != len(MULT) - 1:
            p.param(f"input_blocks.{k}.0.op", f"down_blocks.{i}.downsamplers.0.conv", (ch, ch, 3, 3))
            chans.append(ch)
            if control:
                p.param(f"zero_convs.{zero}.0", f"controlnet_down_blocks.{zero}", (ch, ch, 1, 1))
                zero += 1
            k += 1
    unet_resblock(p, "middle_block.0", "mid_block.resnets.0", ch, ch, temb)
    transformer(p, "middle_block.1", "mid_block.attentions.0", ch, ctx, linear)
    unet_resblock(p, "middle_block.2", "mid_block.resnets.1", ch, ch, temb)
    if control:
        p.param("middle_block_out.0", "controlnet_mid_block", (ch, ch, 1, 1))
    return chans, ch


def unet(ctx=CTX, linear=False):
    p = Pairs()
    chans, ch = unet_encoder(p, ctx, linear)
    temb, k = 4 * MC, 0
    for lvl in reversed(range(len(MULT))):
        i = len(MULT) - 1 - lvl  # diffusers up block index
        for j in range(NRB + 1):
            skip = chans.pop()
            unet_resblock(p, f"output_blocks.{k}.0", f"up_blocks.{i}.resnets.{j}", ch + skip, MC * MULT[lvl], temb)
            ch = MC * MULT[lvl]
            sub = 1
            if ATTN[lvl]:
                transformer(p, f"output_blocks.{k}.1", f"up_blocks.{i}.attentions.{j}", ch, ctx, linear)
                sub = 2
            if lvl and j == NRB:
                p.param(f"output_blocks.{k}.{sub}.conv", f"up_blocks.{i}.upsamplers.0.conv", (ch, ch, 3, 3))
            k += 1
    p.param("out.0", "conv_norm_out", (MC,))
    p.param("out.2", "conv_out", (OUT_CH, MC, 3, 3))
    return p


def controlnet():
    """Stock hint 3->16->16->32(s2)->32->96(s2)->96->256(s2)->320, scaled down."""
    p = Pairs()
    chs = [3, 4, 4, 6, 6, 8, 8, 8]
    p.param("input_hint_block.0", "controlnet_cond_embedding.conv_in", (chs[1], chs[0], 3, 3))
    for b in range(6):
        p.param(f"input_hint_block.{2 * b + 2}", f"controlnet_cond_embedding.blocks.{b}", (chs[b + 2], chs[b + 1], 3, 3))
    p.param("input_hint_block.14", "controlnet_cond_embedding.conv_out", (MC, chs[7], 3, 3))
    unet_encoder(p, control=True)
    return p


def vae_resnet(p, ldm, diff, cin, cout):
    p.param(ldm + ".norm1", diff + ".norm1", (cin,))
    p.param(ldm + ".conv1", diff + ".conv1", (cout, cin, 3, 3))
    p.param(ldm + ".norm2", diff + ".norm2", (cout,))
    p.param(ldm + ".conv2", diff + ".conv2", (cout, cout, 3, 3))
    if cin != cout:
        p.param(ldm + ".nin_shortcut", diff + ".conv_shortcut", (cout, cin, 1, 1))


def vae_mid(p, half, ch):
    vae_resnet(p, f"{half}.mid.block_1", f"{half}.mid_block.resnets.0", ch, ch)
    a, d = f"{half}.mid.attn_1", f"{half}.mid_block.attentions.0"
    p.param(a + ".norm", d + ".group_norm", (ch,))
    for l, n in (("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0")):
        # LDM: 1x1 conv [C,C,1,1]; diffusers: Linear [C,C] (the test script reshapes on write).
        p.param(a + "." + l, d + "." + n, (ch, ch, 1, 1))
    vae_resnet(p, f"{half}.mid.block_2", f"{half}.mid_block.resnets.1", ch, ch)


def vae():
    p, L = Pairs(), len(VAE_MULT)
    p.param("encoder.conv_in", "encoder.conv_in", (VAE_CH, 3, 3, 3))
    ch = VAE_CH
    for i, m in enumerate(VAE_MULT):
        for j in range(VAE_NRB):
            vae_resnet(p, f"encoder.down.{i}.block.{j}", f"encoder.down_blocks.{i}.resnets.{j}", ch, VAE_CH * m)
            ch = VAE_CH * m
        if i != L - 1:
            p.param(f"encoder.down.{i}.downsample.conv", f"encoder.down_blocks.{i}.downsamplers.0.conv", (ch, ch, 3, 3))
    vae_mid(p, "encoder", ch)
    p.param("encoder.norm_out", "encoder.conv_norm_out", (ch,))
    p.param("encoder.conv_out", "encoder.conv_out", (2 * Z, ch, 3, 3))
    p.param("quant_conv", "quant_conv", (2 * EMBED, 2 * Z, 1, 1))
    p.param("post_quant_conv", "post_quant_conv", (Z, EMBED, 1, 1))
    ch = VAE_CH * VAE_MULT[-1]
    p.param("decoder.conv_in", "decoder.conv_in", (ch, Z, 3, 3))
    vae_mid(p, "decoder", ch)
    for lvl in reversed(range(L)):
        for j in range(VAE_NRB + 1):
            vae_resnet(p, f"decoder.up.{lvl}.block.{j}", f"decoder.up_blocks.{L - 1 - lvl}.resnets.{j}", ch,
                       VAE_CH * VAE_MULT[lvl])
            ch = VAE_CH * VAE_MULT[lvl]
        if lvl:
            p.param(f"decoder.up.{lvl}.upsample.conv", f"decoder.up_blocks.{L - 1 - lvl}.upsamplers.0.conv",
                    (ch, ch, 3, 3))
    p.param("decoder.norm_out", "decoder.conv_norm_out", (ch,))
    p.param("decoder.conv_out", "decoder.conv_out", (3, ch, 3, 3))
    return p


def clip():
    p, t = Pairs(), "text_model."
    p.param(t + "embeddings.token_embedding", t + "embeddings.token_embedding", (CLIP_VOCAB, CLIP_W), bias=False)
    p.param(t + "embeddings.position_embedding", t + "embeddings.position_embedding", (CLIP_POS, CLIP_W), bias=False)
    for l in range(CLIP_LAYERS):
        e = f"{t}encoder.layers.{l}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            p.param(e + "self_attn." + n, e + "self_attn." + n, (CLIP_W, CLIP_W))
        p.param(e + "layer_norm1", e + "layer_norm1", (CLIP_W,))
        p.param(e + "mlp.fc1", e + "mlp.fc1", (CLIP_MLP, CLIP_W))
        p.param(e + "mlp.fc2", e + "mlp.fc2", (CLIP_W, CLIP_MLP))
        p.param(e + "layer_norm2", e + "layer_norm2", (CLIP_W,))
    p.param(t + "final_layer_norm", t + "final_layer_norm", (CLIP_W,))
    return p


def ldm_dict(prefix, pairs):
    return {prefix + l: tensor(prefix + l, s) for l, _, s in pairs.items}


def diffusers_dict(prefix, pairs, linear_attention=False):
    out = {}
    for l, d, s in pairs.items:
        t = tensor(prefix + l, s)  # same values as the LDM tensor
        if linear_attention and ".mid.attn_1." in l and l.endswith(".weight") and len(s) == 4:
            t = t.reshape(s[0], s[1])
        out[d] = t
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    u, v, c, cn = unet(), vae(), clip(), controlnet()
    single = {}
    single.update(ldm_dict("model.diffusion_model.", u))
    single.update(ldm_dict("first_stage_model.", v))
    single.update(ldm_dict("cond_stage_model.transformer.", c))
    single.update(ldm_dict("control_model.", cn))
    single["alphas_cumprod"] = torch.linspace(0.999, 0.005, 10)
    single["model_ema.decay"] = torch.tensor(0.9999)
    single["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(CLIP_POS).reshape(1, -1)
    safetensors_io.save(single, os.path.join(OUT, "sd15_tiny.safetensors"), metadata={"format": "pt", "note": "tiny"})

    d = os.path.join(OUT, "sd15_tiny_diffusers")
    for sub, fname, pfx, pairs, lin in (("unet", "diffusion_pytorch_model", "model.diffusion_model.", u, False),
                                        ("vae", "diffusion_pytorch_model", "first_stage_model.", v, True),
                                        ("text_encoder", "model", "cond_stage_model.transformer.", c, False),
                                        ("controlnet", "diffusion_pytorch_model", "control_model.", cn, False)):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        safetensors_io.save(diffusers_dict(pfx, pairs, lin), os.path.join(d, sub, fname + ".safetensors"),
                            metadata={"format": "pt"})
    os.makedirs(os.path.join(d, "tokenizer"), exist_ok=True)
    with open(os.path.join(d, "tokenizer", "vocab.json"), "w") as f:
        json.dump({"a</w>": 0, "b</w>": 1, "ab</w>": 2}, f)
    with open(os.path.join(d, "tokenizer", "merges.txt"), "w") as f:
        f.write("#version: 0.2\na b</w>\n")
    with open(os.path.join(d, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionControlNetPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
                   "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "controlnet": ["diffusers", "ControlNetModel"]},
                  f, indent=1)

    sg = {f"mapping.fc{i}.weight": torch.zeros(8, 8) for i in range(8)}
    sg.update({"synthesis.b4.const": torch.zeros(8, 4, 4), "synthesis.b4.conv1.weight": torch.zeros(8, 8, 3, 3),
               "synthesis.b8.conv0.weight": torch.zeros(8, 8, 3, 3)})
    safetensors_io.save(sg, os.path.join(OUT, "stylegan2_tiny.safetensors"))
    safetensors_io.save({"encoder.layer1.weight": torch.zeros(4, 4), "head.fc.bias": torch.zeros(3)},
                        os.path.join(OUT, "unknown.safetensors"))
    total = 0
    for root, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print(f"UNet {len(u.items)}, VAE {len(v.items)}, CLIP {len(c.items)}, ControlNet {len(cn.items)} tensors; "
          f"{total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
