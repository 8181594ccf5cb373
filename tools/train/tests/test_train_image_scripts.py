"""Smoke tests of the training scripts: a few steps each on a synthetic world-format dataset in a temp dir,
tiny model configs, resume from the checkpoint, export in single-file naming."""
import json
import os
import shutil
import tempfile
import unittest

import torch

from dgtrain import latents, sample_image, synth_world, train_controlnet, train_unet, train_vae
from dgtrain.safetensors_io import load

torch.set_num_threads(2)

VAE_CFG, SEG_CFG = synth_world.TINY_CONFIGS["vae"], synth_world.TINY_CONFIGS["seg"]


def lines(path):
    with open(path) as f:
        return f.read().splitlines()


class TestTrainScripts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dg_train_")
        cls.data, cls.text = synth_world.write_image_kit(cls.tmp)
        cls.common = ["--data", cls.data, "--batch", "2", "--log-every", "1", "--threads", "2"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def p(self, *a):
        return os.path.join(self.tmp, *a)

    def test_pipeline(self):
        # VAE: 2 steps, then resume to 3 and export
        vae_args = self.common + ["--out", self.p("runs", "vae"), "--config", self.p("vae.json"), "--crop", "32x32",
                                  "--adv-weight", "0.1", "--adv-start", "1", "--eval-every", "0"]
        train_vae.main(vae_args + ["--steps", "2"])
        psnr = train_vae.main(vae_args + ["--steps", "3", "--export", self.p("m", "vae.safetensors")])
        log = lines(self.p("runs", "vae", "log.txt"))
        self.assertTrue(any("resumed at step 2" in ln for ln in log))
        self.assertTrue(any(" step 3 " in ln and "l1" in ln for ln in log))
        self.assertTrue(0 < psnr < 60)
        sd, meta = load(self.p("m", "vae.safetensors"))
        self.assertTrue("first_stage_model.encoder.conv_in.weight" in sd, "first_stage_model.encoder.conv_in.weight")
        self.assertTrue("first_stage_model.decoder.up.3.upsample.conv.weight" in sd, "first_stage_model.decoder.up.3.upsample.conv.weight")
        with open(self.p("m", "vae.json")) as f:
            cfg = json.load(f)
        self.assertGreater(cfg["scale_factor"], 0)

        # --decoder-only from the export: the encoder and the scale factor (the latent space) stay, the decoder
        # trains (small objects weighted), and the record keeps the chain
        train_vae.main(self.common + ["--out", self.p("runs", "vae_dec"), "--init", self.p("m", "vae.safetensors"),
                                      "--decoder-only", "--object-weight", "4", "--crop", "32x32", "--steps", "2",
                                      "--lr", "1e-2", "--eval-every", "0", "--export", self.p("m", "vae_dec.safetensors")])
        dec, _ = load(self.p("m", "vae_dec.safetensors"))
        enc_keys = [k for k in sd if ".encoder." in k or ".quant_conv." in k]
        self.assertTrue(enc_keys and all(torch.equal(dec[k], sd[k]) for k in enc_keys))
        self.assertFalse(torch.equal(dec["first_stage_model.decoder.conv_out.weight"],
                                     sd["first_stage_model.decoder.conv_out.weight"]))
        with open(self.p("m", "vae_dec.json")) as f:
            dec_cfg = json.load(f)
        self.assertEqual(dec_cfg["scale_factor"], cfg["scale_factor"])
        self.assertEqual(dec_cfg["init"]["training"], cfg["training"])
        self.assertIn("| steps 2 |", dec_cfg["training"])  # its own record, not the one it started from

        # --export-best with the perceptual term: judged every step against the --init weights; at lr 0 nothing
        # improves, so nothing is exported
        from dgtrain import segmenter as S
        from dgtrain.safetensors_io import save
        judge_cfg = dict(S.DEFAULT, **SEG_CFG, num_classes=14)
        save(S.UperNet(judge_cfg).state_dict(), self.p("m", "judge.safetensors"))
        with open(self.p("m", "judge.json"), "w") as f:
            json.dump(judge_cfg, f)
        train_vae.main(self.common + ["--out", self.p("runs", "vae_best"), "--init", self.p("m", "vae.safetensors"),
                                      "--decoder-only", "--crop", "32x32", "--steps", "2", "--lr", "0", "--eval-every",
                                      "1", "--perceptual-weight", "1", "--perceptual-net", self.p("m", "judge.safetensors"),
                                      "--adv-weight", "0.1", "--adv-start", "2", "--d-start", "0",
                                      "--export-best", "--export", self.p("m", "vae_best.safetensors")])
        log = lines(self.p("runs", "vae_best", "log.txt"))
        self.assertTrue(any("perceptual" in ln and "eval step 1" in ln for ln in log))
        self.assertTrue(any(" step 1 " in ln and " d " in ln for ln in log))  # D warms up before the G term
        self.assertFalse(os.path.exists(self.p("m", "vae_best.safetensors")))

        # UNet on the exported VAE's latents
        train_unet.main(self.common + self.text + ["--out", self.p("runs", "unet"), "--config", self.p("unet.json"),
                                                   "--vae", self.p("m", "vae.safetensors"), "--steps", "2",
                                                   "--sample-every", "2", "--export", self.p("m", "unet.safetensors")])
        sd, _ = load(self.p("m", "unet.safetensors"))
        self.assertTrue("model.diffusion_model.input_blocks.3.1.transformer_blocks.0.attn2.to_k.weight" in sd, "model.diffusion_model.input_blocks.3.1.transformer_blocks.0.attn2.to_k.weight")
        self.assertEqual(tuple(sd["model.diffusion_model.input_blocks.3.1.transformer_blocks.0.attn2.to_k.weight"].shape), (32, 32))
        self.assertTrue(os.path.exists(self.p("runs", "unet", "samples_2.png")))
        self.assertTrue(any("loss" in ln for ln in lines(self.p("runs", "unet", "log.txt"))))

        # --init continues from the export: at lr 0 the weights stay the initial ones, the record keeps the chain
        train_unet.main(self.common + self.text + ["--out", self.p("runs", "unet_more"), "--init",
                                                   self.p("m", "unet.safetensors"), "--vae", self.p("m", "vae.safetensors"),
                                                   "--steps", "2", "--lr", "0", "--export", self.p("m", "unet_more.safetensors")])
        more, _ = load(self.p("m", "unet_more.safetensors"))
        self.assertEqual(set(more), set(sd))
        self.assertTrue(all(torch.allclose(more[k], sd[k], atol=1e-6) for k in sd))
        with open(self.p("m", "unet.json")) as f, open(self.p("m", "unet_more.json")) as g:
            self.assertEqual(json.load(g)["init"], {"weights": self.p("m", "unet.safetensors"),
                                                    "training": json.load(f)["training"]})
        # --export-best: checked on held-out latents each --val-every steps, exported only when better than the
        # --init weights (at lr 0 never)
        train_unet.main(self.common + self.text + ["--out", self.p("runs", "unet_best"), "--init",
                                                   self.p("m", "unet.safetensors"), "--vae", self.p("m", "vae.safetensors"),
                                                   "--steps", "2", "--lr", "0", "--val-every", "1", "--export-best",
                                                   "--export", self.p("m", "unet_best.safetensors")])
        log = lines(self.p("runs", "unet_best", "log.txt"))
        self.assertEqual(sum(" val step " in ln for ln in log), 2)
        self.assertFalse(os.path.exists(self.p("m", "unet_best.safetensors")))

        # ControlNet: baseline and ALDM draw the same diffusion batches; ALDM runs its adversarial path
        diffs = {}
        for mode in ("baseline", "aldm"):
            out = self.p("runs", "cn_" + mode)
            train_controlnet.main(self.common + self.text + [
                "--out", out, "--mode", mode, "--unet", self.p("m", "unet.safetensors"),
                "--vae", self.p("m", "vae.safetensors"), "--steps", "3", "--d-warmup", "1", "--ramp-start", "0",
                "--ramp-end", "1", "--lazy", "2", "--unroll", "2", "--adv-batch", "2", "--d-config", self.p("seg.json"),
                "--export", self.p("m", f"cn_{mode}.safetensors")])
            log = lines(os.path.join(out, "log.txt"))
            diffs[mode] = [ln.split(" diff ")[1].split()[0] for ln in log if " diff " in ln]
            if mode == "aldm":
                self.assertTrue(any(" adv " in ln for ln in log))
                self.assertTrue(any("d_real" in ln for ln in log))
            sd, _ = load(self.p("m", f"cn_{mode}.safetensors"))
            self.assertTrue("control_model.input_hint_block.8.weight" in sd, "control_model.input_hint_block.8.weight")
            self.assertTrue("control_model.middle_block_out.0.weight" in sd, "control_model.middle_block_out.0.weight")
            self.assertEqual(sd["dirigent.class_embeddings"].shape[0], 15)
        self.assertEqual(diffs["baseline"][0], diffs["aldm"][0])

        # a continuous run: --init from the export, another dataset mixed in, judged on held-out layouts, exported
        # only on a better score (at lr 0 the score cannot improve, so nothing is written); without --export-best
        # the weights come back as they went in
        extra = synth_world.write_dataset(self.p("extra"), n=4, width=64, height=32, seed=3)
        cont = self.common + self.text + [
            "--mode", "baseline", "--unet", self.p("m", "unet.safetensors"), "--vae", self.p("m", "vae.safetensors"),
            "--init", self.p("m", "cn_aldm.safetensors"), "--extra-data", extra, "--steps", "2", "--lr", "0"]
        train_controlnet.main(cont + ["--out", self.p("runs", "cn_cont"), "--val-every", "1", "--val-count", "2",
                                      "--val-steps", "2", "--val-data", extra, "--judge", self.p("m", "judge.safetensors"),
                                      "--export-best", "--export", self.p("m", "cn_best.safetensors")])
        log = lines(self.p("runs", "cn_cont", "log.txt"))
        self.assertTrue(any("9 train images" in ln for ln in log))  # 5 of --data (1 held out) + 4
        self.assertTrue(any("val mIoU of the starting weights" in ln for ln in log))
        self.assertEqual(sum(" val step " in ln for ln in log), 2)
        self.assertFalse(os.path.exists(self.p("m", "cn_best.safetensors")))
        train_controlnet.main(cont + ["--out", self.p("runs", "cn_same"), "--export", self.p("m", "cn_same.safetensors")])
        before, _ = load(self.p("m", "cn_aldm.safetensors"))
        after, _ = load(self.p("m", "cn_same.safetensors"))
        self.assertEqual(set(before), set(after))
        self.assertTrue(all(torch.equal(before[k], after[k]) for k in before))
        with open(self.p("m", "cn_same.json")) as f:
            self.assertEqual(json.load(f)["init"]["weights"], self.p("m", "cn_aldm.safetensors"))

        # sampling from the exports: text only (PLMS) and with the ALDM ControlNet on a dataset layout (DDIM)
        base = ["--unet", self.p("m", "unet.safetensors"), "--vae", self.p("m", "vae.safetensors")] + self.text
        img = sample_image.main(base + ["--prompt", "a red car", "--prompt", "a tree", "--sampler", "plms",
                                        "--steps", "3", "--latent", "4x8", "--out", self.p("t2i.png")])
        self.assertEqual(tuple(img.shape), (2, 3, 32, 64))
        lab = os.path.join(self.data, "labels", "train-0000000.png")
        a = sample_image.main(base + ["--prompt", "a road", "--steps", "2", "--seed", "5", "--label", lab,
                                     "--controlnet", self.p("m", "cn_aldm.safetensors"), "--out", self.p("l2i.png")])
        b = sample_image.main(base + ["--prompt", "a road", "--steps", "2", "--seed", "5", "--label", lab,
                                      "--controlnet", self.p("m", "cn_aldm.safetensors"), "--out", self.p("l2i.png")])
        self.assertEqual(tuple(a.shape), (1, 3, 32, 64))
        self.assertTrue(torch.equal(a, b))  # Philox noise: the same seed gives the same image


if __name__ == "__main__":
    unittest.main()


class BudgetTest(unittest.TestCase):
    def test_time_budget_ends_training_and_drives_schedules(self):
        import time
        from dgtrain.plumbing import Budget
        b = Budget(steps=1000, seconds=0.2)
        self.assertFalse(b.done(0))
        self.assertTrue(b.done(1000))  # the step count still ends it
        self.assertEqual(b.sched_step(10), 10)  # early on the real step leads
        time.sleep(0.1)
        self.assertGreaterEqual(b.sched_step(10), 400)  # half the time gone: schedules see about half the steps
        time.sleep(0.12)
        self.assertTrue(b.done(10))
        self.assertEqual(b.sched_step(10), 1000)
        self.assertFalse(Budget(5, 0).done(4))  # no budget: only the steps count
        late = Budget(1000, 0.05)
        self.assertFalse(late.done(3))
        time.sleep(0.06)
        self.assertFalse(late.done(3))  # the same step gets the same answer (log check vs loop check)
        self.assertTrue(late.done(4))


class LatentCacheTest(unittest.TestCase):
    def test_only_the_drawn_images_are_encoded(self):
        import argparse
        from dgtrain import ldm_vae
        from dgtrain.exports import export
        from dgtrain.latents import encoder_digest
        from dgtrain.plumbing import Batches
        from dgtrain.world_data import WorldTensors
        tmp = tempfile.mkdtemp(prefix="dg_latents_")
        self.addCleanup(shutil.rmtree, tmp, True)
        data = WorldTensors(synth_world.write_dataset(os.path.join(tmp, "data"), n=6, width=64, height=32, seed=2))
        b = Batches(len(data), 2, seed=1)
        want = b.indices(2)
        self.assertEqual(want, b.next() + b.next())  # indices() looks ahead without advancing
        torch.manual_seed(0)
        vae = ldm_vae.AutoencoderKL(VAE_CFG).eval()
        vae_path = os.path.join(tmp, "vae.safetensors")
        export(vae_path, vae.state_dict(), "first_stage_model.", dict(VAE_CFG))  # its encoder keys the cache
        args = argparse.Namespace(vae=vae_path, out=os.path.join(tmp, "runs", "cn"))
        os.makedirs(os.path.dirname(args.out))
        with torch.no_grad():
            z = latents.cached_latents(args, vae, data, "cpu", "train", only=want)
            full = latents.encode_latents(vae, data, "cpu")
        drawn = sorted(set(want))
        self.assertTrue(torch.allclose(z[drawn], full[drawn], atol=1e-5))
        rest = [i for i in range(len(data)) if i not in drawn]
        self.assertTrue(rest and bool((z[rest] == 0).all()))
        with torch.no_grad():  # a decoder trained on alone keeps the latents and so the cache
            vae.decoder.conv_out.bias.add_(1.0)
        export(vae_path, vae.state_dict(), "first_stage_model.", dict(VAE_CFG))
        encoder_digest.cache_clear()
        again = latents.cached_latents(args, None, data, "cpu", "train", only=want)  # from the cache: no VAE
        self.assertTrue(torch.equal(again, z))
        with torch.no_grad():  # a changed encoder does not
            vae.encoder.conv_in.bias.add_(1.0)
        export(vae_path, vae.state_dict(), "first_stage_model.", dict(VAE_CFG))
        encoder_digest.cache_clear()
        with self.assertRaises(AttributeError):  # a cache miss: it encodes, with no VAE to do it
            latents.cached_latents(args, None, data, "cpu", "train", only=want)


class PerceptualTest(unittest.TestCase):
    def test_distance(self):
        from dgtrain import segmenter as S
        from dgtrain.perceptual import Perceptual
        from dgtrain.safetensors_io import save
        tmp = tempfile.mkdtemp(prefix="dg_perc_")
        self.addCleanup(shutil.rmtree, tmp, True)
        cfg = dict(S.DEFAULT, **SEG_CFG, num_classes=14)
        torch.manual_seed(0)
        save(S.UperNet(cfg).state_dict(), os.path.join(tmp, "s.safetensors"))
        with open(os.path.join(tmp, "s.json"), "w") as f:
            json.dump(cfg, f)
        perc = Perceptual(os.path.join(tmp, "s.safetensors")).train()
        a = torch.rand(2, 3, 32, 64) * 2 - 1
        blur = torch.nn.functional.avg_pool2d(a, 3, 1, 1)
        d_same, d_blur, d_noise = perc(a, a), perc(a, blur), perc(a, torch.rand_like(a) * 2 - 1)
        self.assertTrue(torch.allclose(d_same, torch.zeros(2)))
        self.assertTrue(bool((d_blur > 0).all()) and bool((d_noise > d_blur).all()))
        self.assertFalse(any(p.requires_grad for p in perc.parameters()))


class EncodeResumeTest(unittest.TestCase):
    def test_a_killed_encoding_resumes_from_its_chunks(self):
        class Halving:
            scale_factor, calls, fail_after = 2.0, 0, None

            def encode(self, x):
                Halving.calls += 1
                if self.fail_after is not None and Halving.calls > self.fail_after:
                    raise RuntimeError("killed")
                return x[:, :1, ::8, ::8]

        class Data:
            images = (torch.rand(2100, 3, 16, 16) * 255).byte()

            def __len__(self):
                return len(self.images)

        tmp = tempfile.mkdtemp(prefix="dg_encode_")
        self.addCleanup(shutil.rmtree, tmp, True)
        partial = os.path.join(tmp, "z.partial")
        full = latents.encode_latents(Halving(), Data(), "cpu")
        dying = Halving()
        dying.fail_after = Halving.calls + 100  # dies after 1600 images: one chunk of 1024 kept
        with self.assertRaises(RuntimeError):
            latents.encode_latents(dying, Data(), "cpu", partial=partial)
        self.assertTrue(os.path.exists(partial + ".0") and not os.path.exists(partial + ".1"))  # one chunk kept
        before = Halving.calls
        again = latents.encode_latents(Halving(), Data(), "cpu", partial=partial)
        self.assertEqual(Halving.calls - before, (2100 - 1024 + 15) // 16)  # only the rest is encoded
        self.assertTrue(torch.equal(again, full))
        latents.remove_partial(partial)
        self.assertFalse(os.path.exists(partial + ".0"))


class RecordTest(unittest.TestCase):
    def test_nan_is_refused_and_the_old_record_kept(self):
        from dgtrain.exports import write_record
        tmp = tempfile.mkdtemp(prefix="dg_record_")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "m.json")
        write_record(path, {"val": {"miou": 0.5}})
        with self.assertRaises(ValueError):
            write_record(path, {"val": {"miou": float("nan")}})
        with open(path) as f:
            self.assertEqual(json.load(f), {"val": {"miou": 0.5}})
        # an export whose record is refused writes neither file
        from dgtrain.exports import export
        weights = os.path.join(tmp, "w.safetensors")
        with self.assertRaises(ValueError):
            export(weights, {"a": torch.zeros(2)}, "p.", {"x": 1}, {"loss": float("inf")})
        self.assertEqual(sorted(os.listdir(tmp)), ["m.json"])
