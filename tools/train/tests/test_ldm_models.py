"""LDM naming and shapes of the UNet, VAE and ControlNet; the SD 1.5 configs are built on the meta device."""
import contextlib
import json
import os
import unittest

import torch

from dgtrain import controlnet, ldm_unet, ldm_vae

CONFIGS = os.path.join(os.path.dirname(__file__), "..", "configs")


@contextlib.contextmanager
def on_meta():
    """Parameters are created with torch.empty; sending it to the meta device builds SD 1.5 without memory."""
    orig = torch.empty

    def empty(*a, **k):
        k["device"] = "meta"
        return orig(*a, **k)

    torch.empty = empty
    try:
        yield
    finally:
        torch.empty = orig


def expected_sd15_unet_keys():
    """SD 1.5 `model.diffusion_model.*` keys, enumerated from openaimodel.py's block layout."""
    keys = ["time_embed.0.weight", "time_embed.0.bias", "time_embed.2.weight", "time_embed.2.bias",
            "input_blocks.0.0.weight", "input_blocks.0.0.bias", "out.0.weight", "out.0.bias",
            "out.2.weight", "out.2.bias"]

    def res(p, skip):
        ks = [f"{p}.{n}.{w}" for n in ("in_layers.0", "in_layers.2", "emb_layers.1", "out_layers.0", "out_layers.3")
              for w in ("weight", "bias")]
        return ks + ([f"{p}.skip_connection.weight", f"{p}.skip_connection.bias"] if skip else [])

    def st(p):
        ks = [f"{p}.{n}.{w}" for n in ("norm", "proj_in", "proj_out") for w in ("weight", "bias")]
        b = f"{p}.transformer_blocks.0"
        for a in ("attn1", "attn2"):
            ks += [f"{b}.{a}.to_q.weight", f"{b}.{a}.to_k.weight", f"{b}.{a}.to_v.weight",
                   f"{b}.{a}.to_out.0.weight", f"{b}.{a}.to_out.0.bias"]
        ks += [f"{b}.{n}.{w}" for n in ("norm1", "norm2", "norm3", "ff.net.0.proj", "ff.net.2") for w in ("weight", "bias")]
        return ks

    for i in (1, 2, 4, 5, 7, 8, 10, 11):
        keys += res(f"input_blocks.{i}.0", i in (4, 7))
        if i < 10:
            keys += st(f"input_blocks.{i}.1")
    for i in (3, 6, 9):
        keys += [f"input_blocks.{i}.0.op.weight", f"input_blocks.{i}.0.op.bias"]
    keys += res("middle_block.0", False) + st("middle_block.1") + res("middle_block.2", False)
    for i in range(12):
        keys += res(f"output_blocks.{i}.0", True)
        if i >= 3:
            keys += st(f"output_blocks.{i}.1")
        if i in (2, 5, 8):
            up = 1 if i == 2 else 2
            keys += [f"output_blocks.{i}.{up}.conv.weight", f"output_blocks.{i}.{up}.conv.bias"]
    return set(keys)


def expected_sd15_vae_keys():
    keys = []
    wb = ("weight", "bias")

    def rb(p, short):
        ks = [f"{p}.{n}.{w}" for n in ("norm1", "conv1", "norm2", "conv2") for w in wb]
        return ks + ([f"{p}.nin_shortcut.{w}" for w in wb] if short else [])

    def attn(p):
        return [f"{p}.{n}.{w}" for n in ("norm", "q", "k", "v", "proj_out") for w in wb]

    mult = [1, 2, 4, 4]
    for side in ("encoder", "decoder"):
        keys += [f"{side}.{n}.{w}" for n in ("conv_in", "norm_out", "conv_out") for w in wb]
        keys += rb(f"{side}.mid.block_1", False) + attn(f"{side}.mid.attn_1") + rb(f"{side}.mid.block_2", False)
    prev = 1
    for i, m in enumerate(mult):
        for j in range(2):
            keys += rb(f"encoder.down.{i}.block.{j}", j == 0 and prev != m)
        prev = m
        if i < 3:
            keys += [f"encoder.down.{i}.downsample.conv.{w}" for w in wb]
    prev = 4
    for i in reversed(range(4)):
        for j in range(3):
            keys += rb(f"decoder.up.{i}.block.{j}", j == 0 and prev != mult[i])
        prev = mult[i]
        if i > 0:
            keys += [f"decoder.up.{i}.upsample.conv.{w}" for w in wb]
    keys += [f"{n}.{w}" for n in ("quant_conv", "post_quant_conv") for w in wb]
    return set(keys)


class TestSD15Names(unittest.TestCase):
    def test_unet_keys_and_size(self):
        cfg = ldm_unet.load_config(os.path.join(CONFIGS, "sd15_unet.json"))
        with on_meta():
            m = ldm_unet.UNetModel(cfg)
        sd = m.state_dict()
        self.assertEqual(set(sd), expected_sd15_unet_keys())
        self.assertEqual(len(sd), 686)
        self.assertEqual(sum(p.numel() for p in m.parameters()), 859520964)
        self.assertEqual(tuple(sd["input_blocks.1.1.proj_in.weight"].shape), (320, 320, 1, 1))
        self.assertEqual(tuple(sd["input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight"].shape), (640, 768))
        self.assertEqual(tuple(sd["middle_block.1.transformer_blocks.0.ff.net.0.proj.weight"].shape), (10240, 1280))
        self.assertEqual(tuple(sd["output_blocks.0.0.in_layers.2.weight"].shape), (1280, 2560, 3, 3))
        self.assertEqual(tuple(sd["time_embed.0.weight"].shape), (1280, 320))
        self.assertEqual(m.num_control, 13)
        self.assertEqual(m.input_blocks[1][1].transformer_blocks[0].attn1.heads, 8)

    def test_vae_keys_and_size(self):
        cfg = ldm_vae.load_config(os.path.join(CONFIGS, "sd15_vae.json"))
        with on_meta():
            m = ldm_vae.AutoencoderKL(cfg)
        sd = m.state_dict()
        self.assertEqual(set(sd), expected_sd15_vae_keys())
        self.assertEqual(len(sd), 248)
        self.assertEqual(sum(p.numel() for p in m.parameters()), 83653863)
        self.assertEqual(tuple(sd["encoder.conv_out.weight"].shape), (8, 512, 3, 3))
        self.assertEqual(tuple(sd["quant_conv.weight"].shape), (8, 8, 1, 1))
        self.assertEqual(m.cfg["scale_factor"], 0.18215)

    def test_controlnet_keys(self):
        with on_meta():
            c = controlnet.ControlNet(controlnet.SD15_COLOR)
            a = controlnet.ControlNet(controlnet.SD15_ID)
        unet_enc = {k for k in expected_sd15_unet_keys() if k.split(".")[0] in ("time_embed", "input_blocks", "middle_block")}
        own = {f"zero_convs.{i}.0.{w}" for i in range(12) for w in ("weight", "bias")}
        own |= {"middle_block_out.0.weight", "middle_block_out.0.bias"}
        stock = {f"input_hint_block.{i}.{w}" for i in range(0, 15, 2) for w in ("weight", "bias")}
        aldm = {f"input_hint_block.{i}.{w}" for i in range(0, 9, 2) for w in ("weight", "bias")}
        self.assertEqual(set(c.state_dict()), unet_enc | own | stock)
        self.assertEqual(set(a.state_dict()), unet_enc | own | aldm)
        sd = a.state_dict()
        self.assertEqual(tuple(sd["input_hint_block.0.weight"].shape), (768, 768, 3, 3))
        self.assertEqual(tuple(sd["input_hint_block.4.weight"].shape), (256, 512, 3, 3))
        self.assertEqual(a.input_hint_block[4].stride, (2, 2))
        self.assertEqual(tuple(sd["input_hint_block.8.weight"].shape), (320, 256, 3, 3))
        self.assertEqual(tuple(c.state_dict()["input_hint_block.14.weight"].shape), (320, 256, 3, 3))
        self.assertEqual(tuple(sd["zero_convs.11.0.weight"].shape), (1280, 1280, 1, 1))


def tiny_unet_cfg(**kw):
    cfg = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1,
           "attention_resolutions": [1, 2], "num_heads": 2, "num_head_channels": -1, "context_dim": 24,
           "transformer_depth": 1, "use_linear": False}
    cfg.update(kw)
    return cfg


class TestSmallModels(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)

    def test_unet_forward_and_control(self):
        for lin in (False, True):
            cfg = tiny_unet_cfg(use_linear=lin)
            u = ldm_unet.UNetModel(cfg)
            for p in u.parameters():  # break the zero inits so every path matters
                p.data.add_(0.02 * torch.randn_like(p))
            x, ctx, t = torch.randn(2, 4, 8, 16), torch.randn(2, 5, 24), torch.tensor([10, 900])
            y = u(x, t, ctx)
            self.assertEqual(y.shape, x.shape)
            self.assertIsInstance(u.input_blocks[1][1].proj_in, torch.nn.Linear if lin else torch.nn.Conv2d)
            zeros = [torch.zeros(1)] * u.num_control
            self.assertTrue(torch.allclose(u(x, t, ctx, zeros), y, atol=1e-6))
            # a residual on the middle block changes the output; the context matters
            ctl = [torch.zeros(1)] * (u.num_control - 1) + [torch.ones(1)]
            self.assertGreater((u(x, t, ctx, ctl) - y).abs().max().item(), 1e-4)
            self.assertGreater((u(x, t, ctx + 1) - y).abs().max().item(), 1e-4)

    def test_unet_first_mult_not_one(self):
        u = ldm_unet.UNetModel(tiny_unet_cfg(channel_mult=[2, 1]))
        self.assertEqual(u(torch.randn(1, 4, 8, 8), torch.tensor([3]), torch.randn(1, 5, 24)).shape, (1, 4, 8, 8))

    def test_default_sizes(self):
        self.assertEqual(ldm_unet.UNetModel().num_control, 7)  # 6 input blocks + middle
        n = sum(p.numel() for p in ldm_unet.UNetModel().parameters())
        self.assertTrue(4e6 < n < 6e6, n)

    def test_controlnet_residuals(self):
        ucfg = tiny_unet_cfg()
        u = ldm_unet.UNetModel(ucfg)
        for mode in ("id", "color"):
            cfg = controlnet.small_config(ucfg, mode, embed_dim=12)
            c = controlnet.ControlNet(cfg)
            c.load_from_unet(u)
            self.assertTrue(torch.equal(c.input_blocks[1][0].in_layers[2].weight, u.input_blocks[1][0].in_layers[2].weight))
            x, ctx, t = torch.randn(2, 4, 8, 16), torch.randn(2, 5, 24), torch.tensor([5, 600])
            hint = torch.randn(2, 12, 16, 32) if mode == "id" else torch.randn(2, 3, 64, 128)
            res = c(x, hint, t, ctx)
            self.assertEqual(len(res), u.num_control)
            self.assertTrue(all(float(r.abs().max()) == 0.0 for r in res))  # zero convs at init
            for p in c.parameters():
                p.data.add_(0.02 * torch.randn_like(p))
            res = c(x, hint, t, ctx)
            shapes = [tuple(r.shape) for r in res]
            self.assertEqual(shapes[0], (2, 32, 8, 16))
            self.assertEqual(shapes[-1], (2, 64, 4, 8))
            self.assertEqual(u(x, t, ctx, res).shape, x.shape)

    def test_id_hint(self):
        table = torch.arange(4 * 3, dtype=torch.float32).reshape(4, 3)  # 3 classes + null
        label = torch.tensor([[[0, 1, 2, 255]]])
        h = controlnet.id_hint(label, table, (1, 4))
        self.assertEqual(h.shape, (1, 3, 1, 4))
        self.assertTrue(torch.equal(h[0, :, 0, 3], table[3]))
        self.assertTrue(torch.equal(h[0, :, 0, 1], table[1]))

    def test_vae_shapes(self):
        cfg = dict(ldm_vae.DEFAULT_SMALL)
        v = ldm_vae.AutoencoderKL(cfg)
        x = torch.rand(1, 3, 128, 256) * 2 - 1
        mean, logvar = v.encode_moments(x)
        self.assertEqual(mean.shape, (1, 4, 16, 32))
        self.assertEqual(v.decode(mean).shape, x.shape)

    def test_config_files(self):
        with open(os.path.join(CONFIGS, "sd15_unet.json")) as f:
            j = json.load(f)
        self.assertEqual((j["model_channels"], j["channel_mult"], j["num_res_blocks"], j["attention_resolutions"],
                          j["num_heads"], j["context_dim"]), (320, [1, 2, 4, 4], 2, [4, 2, 1], 8, 768))


if __name__ == "__main__":
    unittest.main()
