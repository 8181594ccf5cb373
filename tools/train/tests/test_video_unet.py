"""The VideoCrafter2-style UNet3D reference (dgtrain.video_unet): VideoCrafter2's parameter names, the inflation
of a 2-D UNet (equal to it frame by frame), TAR's band and the captured temporal attention."""
import os
import unittest

import torch

from dgtrain import REPO, ldm_unet, video_unet as V
from dgtrain.fixtures import perturb

TINY = {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 2], "num_res_blocks": 1,
        "attention_resolutions": [1, 2], "num_heads": -1, "num_head_channels": 16, "context_dim": 16,
        "transformer_depth": 1, "use_linear": False}


class TestVideoUNet(unittest.TestCase):
    def test_videocrafter2_names(self):
        sd = V.UNet3DModel(dict(TINY, use_linear=True)).state_dict()
        for k, shape in [("input_blocks.1.0.temopral_conv.conv1.2.weight", (32, 32, 3, 1, 1)),
                         ("input_blocks.1.0.temopral_conv.conv4.3.bias", (32,)),
                         ("input_blocks.1.2.transformer_blocks.0.attn1.to_q.weight", (32, 32)),
                         ("input_blocks.1.2.transformer_blocks.0.attn2.to_k.weight", (32, 32)),
                         ("input_blocks.1.2.proj_in.weight", (32, 32)),
                         ("middle_block.2.norm.weight", (64,)), ("middle_block.3.out_layers.3.weight", (64, 64, 3, 3)),
                         ("output_blocks.1.3.conv.weight", (64, 64, 3, 3)),
                         ("init_attn.0.proj_in.weight", (128, 32)), ("fps_embedding.2.weight", (128, 128))]:
            self.assertEqual(tuple(sd[k].shape), shape, k)
        conv = V.UNet3DModel(TINY).state_dict()
        self.assertEqual(tuple(conv["input_blocks.1.2.proj_in.weight"].shape), (32, 32, 1))  # Conv1d, as VC2
        self.assertTrue(all(float(conv[k].abs().max()) == 0 for k in conv
                            if k.endswith(("conv4.3.weight", "2.proj_out.weight")) or k.startswith("init_attn.0.proj_out")))

    def test_inflated_equals_2d_per_frame(self):
        gen = torch.Generator().manual_seed(5)
        unet = ldm_unet.UNetModel(TINY).eval()
        perturb(unet, gen)
        model = V.inflate(unet.state_dict(), TINY).eval()
        x = torch.randn(2, 4, 3, 8, 8, generator=gen)  # [B, C, F, H, W]
        t, ctx = torch.tensor([10, 700]), torch.randn(2, 5, 16, generator=gen)
        with torch.no_grad():
            y = model(x, t, ctx, fps=28)
            ref = unet(V.to_frames(x), t.repeat_interleave(3), ctx.repeat_interleave(3, dim=0))
        self.assertLess(float((V.to_video(ref, 3) - y).abs().max()), 1e-5)

    @unittest.skipUnless(os.path.exists(os.path.join(REPO, "assets", "models", "unet.safetensors")), "no default UNet")
    def test_inflates_the_default_unet(self):
        path = os.path.join(REPO, "assets", "models", "unet.safetensors")
        unet, _ = ldm_unet.load_unet(path)
        model = V.load_inflated(path).eval()
        gen = torch.Generator().manual_seed(1)
        x, ctx = torch.randn(1, 4, 2, 8, 16, generator=gen), torch.randn(1, 3, unet.cfg["context_dim"], generator=gen)
        with torch.no_grad():
            y = model(x, torch.tensor([500]), ctx)
            ref = unet(V.to_frames(x), torch.tensor([500, 500]), ctx.repeat_interleave(2, dim=0))
        self.assertLess(float((V.to_video(ref, 2) - y).abs().max()), 1e-4)

    def test_tar_band(self):
        for sigma, row in [(1, [1, .607, .135, .011]), (4, [1, .969, .883, .755, .607]), (8, [1, .992, .969, .932])]:
            d = V.tar_delta(len(row), sigma)
            self.assertTrue(torch.allclose(d[0], torch.tensor(row), atol=1e-3), sigma)
            self.assertTrue(torch.equal(d, d.T))
        s = torch.tensor([[[1.0, 3.0], [-2.0, -1.0]]])
        self.assertTrue(torch.allclose(V.tar_logits(s, 1.0), s + torch.tensor([[3.0], [-1.0]]) * V.tar_delta(2, 1.0)))

    def test_capture_and_tar(self):
        gen = torch.Generator().manual_seed(2)
        model = V.UNet3DModel(TINY).eval()
        perturb(model, gen)
        x, t, ctx = torch.randn(1, 4, 5, 8, 8, generator=gen), torch.tensor([300]), torch.randn(5, 3, 16, generator=gen)
        with torch.no_grad():
            plain = V.TemporalControls(capture=0)
            y0 = model(x, t, ctx, controls=plain)
            tar = V.TemporalControls(tar={"sigma": {8: 1.0}}, capture=0)
            y1 = model(x, t, ctx, controls=tar)
        p0, p1 = plain.captured, tar.captured
        self.assertEqual(tuple(p0.shape), (8 * 8 * 2, 5, 5))  # [H*W*heads, F, F]
        self.assertTrue(torch.allclose(p0.sum(-1), torch.ones(128, 5), atol=1e-5))
        self.assertGreater(float((y1 - y0).abs().max()), 1e-4)
        self.assertGreater(float(p1.diagonal(dim1=1, dim2=2).mean()), float(p0.diagonal(dim1=1, dim2=2).mean()))


if __name__ == "__main__":
    unittest.main()
