"""The text fixtures under tests/golden/text match what the current Python reference computes."""
import json
import os
import unittest

import torch

HERE = os.path.dirname(__file__)
from dgtrain import clip_text
from dgtrain import tokenizer as T
from dgtrain.safetensors_io import load

GOLD = os.path.join(HERE, "..", "..", "..", "tests", "golden", "text")


@unittest.skipUnless(os.path.exists(os.path.join(GOLD, "manifest.json")), "text fixtures not generated")
class GoldenTextTest(unittest.TestCase):
    def test_tokenizer_cases(self):
        with open(os.path.join(GOLD, "tokenizer_cases.json"), encoding="utf-8") as f:
            data = json.load(f)
        tok = T.Tokenizer.from_dir(os.path.join(GOLD, "tokenizer"))
        self.assertEqual(tok.eot_id, data["eot_id"])
        self.assertGreater(len(data["cases"]), 30)
        kinds = {c["kind"] for c in data["cases"]}
        self.assertEqual(kinds, {"tricky", "caption"})
        self.assertTrue(any(c["truncated"] for c in data["cases"]))
        for c in data["cases"]:
            ids, spans = tok.encode_with_spans(c["text"])
            self.assertEqual(ids, c["ids"], c["text"])
            self.assertEqual(len(ids), 77)
            n = c["n_tokens"]
            self.assertEqual([list(s) if s else None for s in spans[:n]], c["spans"])
            self.assertEqual([tok.decoder[i] for i in ids[:n]], c["pieces"])

    def test_text_encoder(self):
        with open(os.path.join(GOLD, "manifest.json")) as f:
            man = json.load(f)["text_encoder"]
        sd, meta = load(os.path.join(GOLD, man["weights"]))
        cfg = json.loads(meta["config"])
        self.assertEqual(cfg, man["config"])
        self.assertTrue(all(k.startswith("cond_stage_model.transformer.text_model.") for k in sd))
        self.assertEqual(sd["cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight"].dtype,
                         torch.float16)
        model = clip_text.ClipTextModel(cfg)
        model.load_any_state_dict({k: v.float() for k, v in sd.items()})
        io, _ = load(os.path.join(GOLD, man["file"]))
        with torch.no_grad():
            h, pooled = model.eval()(io["ids"])
            skip, _ = model(io["ids"], hidden_layer=-2)
        self.assertTrue(torch.allclose(h, io["last_hidden_state"], atol=1e-5))
        self.assertTrue(torch.allclose(pooled, io["pooled"], atol=1e-5))
        self.assertTrue(torch.allclose(skip, io["hidden_layer_m2"], atol=1e-5))
        self.assertGreater((h - skip).abs().max().item(), 1e-2)


if __name__ == "__main__":
    unittest.main()
