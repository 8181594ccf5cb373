import os
import tempfile
import unittest

import numpy as np
import torch

from dgtrain import synth_world
from dgtrain.world_data import WorldImages, WorldVideos, caption_corpus, collate_images, colour_label, load_palette


class WorldDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = synth_world.write_dataset(cls.tmp.name, n=6, width=48, height=24, videos=2, frames=4)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_palette(self):
        pal = load_palette()
        self.assertEqual(len(pal["names"]), 14)
        self.assertEqual(pal["names"][9], "car")
        self.assertEqual(pal["unlabelled"], 255)
        self.assertEqual(pal["colors"].shape, (14, 3))

    def test_images(self):
        ds = WorldImages(self.root)
        self.assertEqual(len(ds), 6)  # clips skipped
        item = ds[0]
        self.assertEqual(item["image"].dtype, torch.float32)
        self.assertEqual(tuple(item["image"].shape), (3, 24, 48))
        self.assertGreaterEqual(item["image"].min().item(), -1.0)
        self.assertLessEqual(item["image"].max().item(), 1.0)
        self.assertEqual(item["label"].dtype, torch.int64)
        self.assertEqual(tuple(item["label"].shape), (24, 48))
        vals = set(item["label"].unique().tolist())
        self.assertTrue(vals <= set(range(14)) | {255}, vals)
        self.assertIn(0, vals)  # every synthetic scene has sky on top
        self.assertEqual(item["id"], "train-0000000")
        self.assertEqual(len(item["captions"]), 3)
        for text, roles in zip(item["captions"], item["roles"]):
            for r in roles:
                s, e = r["object"]
                self.assertIn(text[s:e], synth_world.OBJECTS + ["street"])
                if r["attribute"] is not None:
                    a, b = r["attribute"]
                    self.assertIn(text[a:b], synth_world.COLOURS)

    def test_label_matches_file_values(self):
        from PIL import Image
        ds = WorldImages(self.root)
        raw = np.asarray(Image.open(os.path.join(self.root, ds.entries[1]["label"])))
        self.assertTrue(np.array_equal(ds[1]["label"].numpy(), raw.astype(np.int64)))

    def test_colour_coded_labels(self):
        """A colour-coded label map (a hand-painted test set): exact or noisy colours give the ids; blends along
        an edge the class of one side; soft alpha; an image that is no layout refused."""
        from PIL import Image
        pal = load_palette()
        ds = WorldImages(self.root)
        ids = np.asarray(Image.open(os.path.join(self.root, ds.entries[1]["label"]))).astype(np.uint8)
        colours = np.concatenate([pal["colors"], np.zeros((256 - len(pal["colors"]), 3), np.uint8)])
        rgba = np.concatenate([colours[ids], np.full(ids.shape + (1,), 255, np.uint8)], -1)
        np.testing.assert_array_equal(colour_label(rgba, "exact"), ids)
        noisy = rgba.astype(int)
        noisy[..., :3] += np.random.default_rng(0).integers(-4, 5, ids.shape + (3,))
        np.testing.assert_array_equal(colour_label(np.clip(noisy, 0, 255).astype(np.uint8), "noisy"), ids)
        # sky over road, the boundary row a 50/50 blend (far from both colours): one of the two classes
        sky, road = pal["names"].index("sky"), pal["names"].index("road")
        two = np.full((8, 16, 4), 255, np.uint8)
        two[:4, :, :3], two[4:, :, :3] = pal["colors"][sky], pal["colors"][road]
        two[4, :, :3] = (pal["colors"][sky].astype(int) + pal["colors"][road]) // 2
        got = colour_label(two, "blend")
        self.assertTrue((got[:4] == sky).all() and (got[5:] == road).all() and np.isin(got[4], [sky, road]).all())
        two[0, 0, 3], two[0, 1, 3] = 60, 200
        got = colour_label(two, "alpha")
        self.assertEqual((got[0, 0], got[0, 1]), (255, sky))
        photo = np.random.default_rng(1).integers(0, 256, (8, 16, 4)).astype(np.uint8)
        photo[..., 3] = 255
        with self.assertRaisesRegex(ValueError, "photo: not a colour-coded layout"):
            colour_label(photo, "photo")
        # through the dataset reader: an RGB label file reads as its ids
        path = os.path.join(self.tmp.name, "rgb_label.png")
        Image.fromarray(rgba[..., :3]).save(path)
        from dgtrain.world_data import load_label
        np.testing.assert_array_equal(load_label(path).numpy(), ids)

    def test_hflip_flips_image_and_label_together(self):
        plain = WorldImages(self.root)[2]
        ds = WorldImages(self.root, hflip=True)
        seen = set()
        torch.manual_seed(0)
        for _ in range(40):
            it = ds[2]
            if torch.equal(it["image"], plain["image"]):
                self.assertTrue(torch.equal(it["label"], plain["label"]))
                seen.add("same")
            else:
                self.assertTrue(torch.equal(it["image"], plain["image"].flip(-1)))
                self.assertTrue(torch.equal(it["label"], plain["label"].flip(-1)))
                seen.add("flipped")
            self.assertEqual(it["captions"], plain["captions"])
        self.assertEqual(seen, {"same", "flipped"})

    def test_cache(self):
        plain = WorldImages(self.root)
        cached = WorldImages(self.root, cache=True, hflip=True)
        for _ in range(6):  # flips of cached items never alter the cache
            for i in (0, 3):
                it = cached[i]
                ref = plain[i]
                self.assertTrue(torch.equal(it["image"], ref["image"]) or torch.equal(it["image"], ref["image"].flip(-1)))
        self.assertEqual(sorted(cached.cache), [0, 3])
        self.assertEqual(cached.cache[0][0].dtype, torch.uint8)

    def test_decoded_copy_matches_png_and_goes_stale(self):
        import shutil
        from dgtrain.world_data import WorldTensors
        from dgtrain.world_data import decode_dataset, load_decoded
        with tempfile.TemporaryDirectory() as d:
            root = os.path.join(d, "ds")
            shutil.copytree(self.root, root)
            png = WorldImages(root)
            self.assertEqual(decode_dataset(root, workers=2), len(png))
            dec = WorldImages(root)
            self.assertIsNotNone(dec.decoded)
            for i in range(len(png)):
                self.assertTrue(torch.equal(dec[i]["image"], png[i]["image"]))
                self.assertTrue(torch.equal(dec[i]["label"], png[i]["label"]))
            wt = WorldTensors(root)  # the trainers' in-memory copy, from the decoded arrays
            self.assertTrue(torch.equal(wt.images[2].float() / 127.5 - 1, png[2]["image"]))
            self.assertEqual(wt.captions[2], png[2]["captions"] or [""])
            # a different item count (the dataset grew) makes the decoded copy stale: PNGs are read again
            self.assertIsNone(load_decoded(root, len(png) + 1))

    def test_image_and_label_of_different_sizes_rejected(self):
        import shutil
        from PIL import Image
        from dgtrain.world_data import decode_dataset
        with tempfile.TemporaryDirectory() as d:
            root = os.path.join(d, "ds")
            shutil.copytree(self.root, root)
            ds = WorldImages(root)
            e = ds.entries[1]
            Image.new("L", (10, 10)).save(os.path.join(root, e["label"]))
            with self.assertRaisesRegex(ValueError, e["id"] + ".*differ"):
                ds[1]
            with self.assertRaisesRegex(ValueError, "differ"):
                decode_dataset(root, workers=1)

    def test_collate(self):
        ds = WorldImages(self.root)
        b = collate_images([ds[0], ds[1]])
        self.assertEqual(tuple(b["image"].shape), (2, 3, 24, 48))
        self.assertEqual(tuple(b["label"].shape), (2, 24, 48))

    def test_videos(self):
        ds = WorldVideos(self.root)
        self.assertEqual(len(ds), 2)
        it = ds[0]
        self.assertEqual(tuple(it["frames"].shape), (4, 3, 24, 48))
        self.assertEqual(tuple(it["labels"].shape), (4, 24, 48))
        self.assertEqual(it["caption"], "a street from day to night")
        self.assertEqual(it["stages"][1]["start"], 2)
        # the synthetic clip darkens over time
        self.assertGreater(it["frames"][0].mean().item(), it["frames"][-1].mean().item())

    def test_caption_corpus(self):
        corpus = caption_corpus(self.root)
        self.assertEqual(len(corpus), 6 * 3 + 2 * 3)
        self.assertIn("a street at night", corpus)


if __name__ == "__main__":
    unittest.main()
