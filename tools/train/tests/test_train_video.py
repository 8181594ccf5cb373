"""Smoke test of the text-to-video trainer (dgtrain.train_video) on tiny 4-frame clips and tiny random models:
the inflated start equals the image model per frame, a resumed run equals a continuous one, spatial layers stay
frozen, the export carries VideoCrafter2's names, and DDIM sampling gives clips the metric can measure."""
import os
import re
import shutil
import tempfile
import unittest

import torch

from dgtrain import (export_video_checkpoint, ldm_unet, ldm_vae, sample_video, synth_world, train_video, video_common,
                     video_unet)
from dgtrain.exports import export
from dgtrain.safetensors_io import load

torch.set_num_threads(1)

UNET_CFG = {"model_channels": 32, "channel_mult": [1, 1], "num_res_blocks": 1, "attention_resolutions": [2],
            "num_heads": -1, "num_head_channels": 16, "context_dim": 32}


class TestTrainVideo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dg_video_")
        _, cls.text = synth_world.write_image_kit(cls.tmp, n=2)
        for split, seed in (("train", 3), ("val", 4)):
            synth_world.write_dataset(cls.p(split), n=0, width=64, height=32, seed=seed, split=split, videos=3,
                                      frames=4)
        torch.manual_seed(0)
        vae = ldm_vae.AutoencoderKL(dict(synth_world.TINY_CONFIGS["vae"], scale_factor=0.5))
        export(cls.p("vae.safetensors"), vae.state_dict(), "first_stage_model.", dict(vae.cfg))
        unet = ldm_unet.UNetModel(UNET_CFG)
        for p in unet.parameters():  # a trained-looking image model: no zero output layer
            p.data.normal_(0, 0.05)
        export(cls.p("unet.safetensors"), unet.state_dict(), "model.diffusion_model.", dict(unet.cfg))
        cls.common = ["--data", cls.p("train"), "--val", cls.p("val"), "--init", cls.p("unet.safetensors"),
                      "--vae", cls.p("vae.safetensors"), "--batch", "2", "--log-every", "1", "--threads", "1",
                      "--val-every", "2", "--max-val-clips", "2", "--lr", "1e-3", "--warmup", "0"] + cls.text

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def p(cls, *a):
        return os.path.join(cls.tmp, *a)

    def test_zero_init_equals_image_model(self):
        img, _ = ldm_unet.load_unet(self.p("unet.safetensors"))
        vid, _ = video_common.inflated_from_image(self.p("unet.safetensors"))
        vid.eval()
        g = torch.Generator().manual_seed(1)
        x, ctx = torch.randn(1, 4, 5, 8, 8, generator=g), torch.randn(1, 7, 32, generator=g)
        t = torch.tensor([321])
        with torch.no_grad():
            e3 = vid(x, t, ctx, fps=8)
            e2 = img(video_unet.to_frames(x), t.expand(5), ctx.expand(5, -1, -1))
            self.assertLess((video_unet.to_frames(e3) - e2).abs().max().item(), 1e-5)
            vid.init_attn[0].proj_out.weight.data.fill_(0.1)  # a trained temporal layer mixes the frames
            self.assertGreater((video_unet.to_frames(vid(x, t, ctx, fps=8)) - e2).abs().max().item(), 1e-3)

    def test_train_resume_export_sample(self):
        a, b = self.p("runs", "a"), self.p("runs", "b")
        train_video.main(self.common + ["--out", a, "--steps", "2"])
        train_video.main(self.common + ["--out", a, "--steps", "3", "--export", self.p("m", "video.safetensors")])
        train_video.main(self.common + ["--out", b, "--steps", "3"])
        with open(os.path.join(a, "log.txt")) as f:
            log = f.read()
        self.assertIn("resumed at step 2", log)
        self.assertRegex(log, r"val step 2 loss \d")
        sa, sb = (torch.load(os.path.join(d, "ckpt.pt")) for d in (a, b))
        self.assertEqual(sa["step"], 3)
        for k in sa["unet"]:
            self.assertTrue(torch.equal(sa["unet"][k], sb["unet"][k]), k)
            self.assertTrue(torch.equal(sa["ema"][k], sb["ema"][k]), k)
        # spatial layers frozen, temporal ones trained
        start, _ = video_common.inflated_from_image(self.p("unet.safetensors"))
        own = start.state_dict()
        moved = {k for k in own if not torch.equal(own[k], sa["unet"][k])}
        self.assertTrue(moved and all(video_unet.is_temporal(k) for k in moved), sorted(moved)[:5])

        # the export: VideoCrafter2's names, the UNet3D's exactly
        sd, meta = load(self.p("m", "video.safetensors"))
        pre = "model.diffusion_model."
        self.assertEqual(set(sd), {pre + k for k in own})
        for pat in (r"input_blocks\.\d+\.0\.temopral_conv\.conv4\.3\.weight", r"input_blocks\.\d+\.2\.proj_out\.weight",
                    r"input_blocks\.\d+\.2\.transformer_blocks\.0\.attn2\.to_k\.weight",
                    r"middle_block\.2\.norm\.weight", r"middle_block\.3\.in_layers\.0\.weight",
                    r"output_blocks\.\d+\.3\.conv\.weight", r"init_attn\.0\.proj_in\.weight",
                    r"fps_embedding\.2\.bias"):
            self.assertTrue(any(re.fullmatch(pre + pat, k) for k in sd), pat)
        self.assertEqual(meta.get("model"), "unet3d")

        # sampling from the export, and the coherence metric on it and on real clips
        model, cfg = sample_video.load_video(self.p("m", "video.safetensors"))
        vae = ldm_vae.load_vae(self.p("vae.safetensors"))
        z = sample_video.sample(model, torch.zeros(1, 7, 32), torch.zeros(1, 7, 32), (4, 4, 4, 8), seed=1,
                                steps=2, scale=2.0, fps=8)
        clip = sample_video.decode(vae, z)
        self.assertEqual(tuple(clip.shape), (1, 4, 3, 32, 64))
        l1 = video_common.adjacent_l1(clip)
        self.assertTrue(0 < l1 < 255)

        # shipped as its layers over the image UNet: only what the base lacks, read back as the whole model
        layers, base = self.p("m", "video_unet.safetensors"), self.p("m", "unet.safetensors")
        shutil.copy(self.p("unet.safetensors"), base)
        shutil.copy(self.p("unet.json"), self.p("m", "unet.json"))
        export_video_checkpoint.main([self.p("m", "video.safetensors"), layers, "--over", base])
        lsd, lmeta = load(layers)
        self.assertEqual(lmeta["dirigent.base"], "unet.safetensors")
        self.assertEqual(len(lmeta["dirigent.base_sha256"]), 64)
        self.assertFalse(set(lsd) & set(load(base)[0]))
        self.assertTrue(any(video_unet.is_temporal(k[len(pre):]) for k in lsd) and len(lsd) < len(sd))
        whole, _ = video_common.load_video_export(layers)
        self.assertEqual(set(whole), set(own))
        for k in own:
            self.assertTrue(torch.equal(whole[k], sd[pre + k]), k)
        # tuned spatial layers cannot ship as layers (the base's would replace them)
        tuned = dict(whole)
        spatial = next(k for k in own if not video_unet.is_temporal(k) and k.endswith("weight"))
        tuned[spatial] = tuned[spatial] + 0.1
        with self.assertRaisesRegex(ValueError, "spatial tensors differ"):
            video_common.export_video(self.p("m", "tuned.safetensors"), tuned, cfg, over=base)
        # a base changed since is refused
        unet_sd, unet_meta = load(base)
        unet_sd[pre + spatial] = unet_sd[pre + spatial] * 2
        from dgtrain.safetensors_io import save
        save(unet_sd, base, unet_meta)
        with self.assertRaisesRegex(ValueError, "trained over"):
            video_common.load_video_export(layers)

    def test_temporal_from(self):
        """A run over a new base UNet can start from temporal layers trained over the old one."""
        first = self.p("t", "video.safetensors")
        train_video.main(self.common + ["--out", self.p("t", "run"), "--steps", "2", "--export", first])
        trained, _ = load(first)
        pre = "model.diffusion_model."
        new_base = self.p("t", "unet2.safetensors")
        sd, meta = load(self.p("unet.safetensors"))
        from dgtrain.safetensors_io import save
        save({k: v * 1.1 for k, v in sd.items()}, new_base, meta)
        shutil.copy(self.p("unet.json"), self.p("t", "unet2.json"))
        model, _ = video_common.inflated_from_image(new_base)
        fresh = {k: v.clone() for k, v in model.state_dict().items()}
        self.assertGreater(video_common.load_temporal(model, first), 0)
        for k, v in model.state_dict().items():
            want = trained[pre + k] if video_unet.is_temporal(k) else fresh[k]
            self.assertTrue(torch.equal(v, want), k)
        with self.assertRaisesRegex(KeyError, "missing"):  # an image UNet has no temporal layers
            video_common.load_temporal(model, new_base)
        out = self.p("t", "run2")
        train_video.main(self.common + ["--out", out, "--steps", "1", "--init", new_base, "--temporal-from", first])
        with open(os.path.join(out, "log.txt")) as f:
            self.assertIn("temporal layers from " + first, f.read())
        with self.assertRaisesRegex(SystemExit, "another base UNet"):  # resuming the first run over the new base
            train_video.main(self.common + ["--out", self.p("t", "run"), "--steps", "3", "--init", new_base])

    def test_adjacent_l1(self):
        still = torch.zeros(2, 4, 3, 8, 8, dtype=torch.uint8)
        self.assertEqual(video_common.adjacent_l1(still), 0.0)
        ramp = torch.arange(4, dtype=torch.uint8).view(1, 4, 1, 1, 1).expand(2, 4, 3, 8, 8) * 10
        self.assertAlmostEqual(video_common.adjacent_l1(ramp), 10.0)


if __name__ == "__main__":
    unittest.main()
