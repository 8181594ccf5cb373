import os
import unittest

import torch
import torch.nn as nn

from dgtrain import clip_text as CT
from dgtrain.clip_model import ClipModel, trim_ids

TINY = {"vocab_size": 50, "width": 32, "layers": 2, "heads": 4, "mlp": 64, "max_len": 77}


def tiny(seed=0):
    torch.manual_seed(seed)
    m = CT.ClipTextModel(TINY)
    with torch.no_grad():  # non-trivial biases and norms so the reference comparison sees them
        for p in m.parameters():
            if p.ndim == 1:
                p.add_(0.1 * torch.randn_like(p))
    return m.eval()


class ClipTextTest(unittest.TestCase):
    def test_sd15_names_and_size(self):
        # built without ClipTextModel's init pass (the 123M weights are only counted)
        m = CT.ClipTextModel.__new__(CT.ClipTextModel)
        nn.Module.__init__(m)
        m.config = CT.load_config({})
        m.text_model = CT.TextTransformer(m.config)
        sd = m.state_dict()
        self.assertEqual(len(sd), 2 + 12 * 16 + 2)
        self.assertEqual(sum(v.numel() for v in sd.values()), 123060480)  # HF clip-vit-large-patch14 text model
        for k in ("text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
                  "text_model.encoder.layers.11.self_attn.out_proj.bias", "text_model.encoder.layers.0.layer_norm1.weight",
                  "text_model.encoder.layers.3.mlp.fc1.weight", "text_model.final_layer_norm.bias"):
            self.assertIn(k, sd)
        self.assertEqual(tuple(sd["text_model.encoder.layers.0.mlp.fc1.weight"].shape), (3072, 768))
        self.assertTrue(all(k.startswith(CT.CKPT_PREFIX) for k in m.ldm_state_dict()))

    def test_causal_mask(self):
        m = tiny()
        ids = torch.randint(0, 49, (2, 12))
        ids2 = ids.clone()
        ids2[:, 7] = (ids[:, 7] + 1) % 49
        with torch.no_grad():
            a, _ = m(ids)
            b, _ = m(ids2)
        self.assertTrue(torch.allclose(a[:, :7], b[:, :7], atol=1e-6))  # earlier tokens do not see later ones
        self.assertFalse(torch.allclose(a[:, 7:], b[:, 7:], atol=1e-4))  # the changed token and later ones do
        # hence a prefix gives exactly the first outputs of the full sequence
        with torch.no_grad():
            c, _ = m(ids[:, :5])
        self.assertTrue(torch.allclose(a[:, :5], c, atol=1e-6))
        mask = CT.causal_mask(3)
        self.assertEqual(mask[0, 1].item(), float("-inf"))
        self.assertEqual(mask[1, 0].item(), 0.0)

    def test_pooled_at_first_eot(self):
        m = tiny()
        eot = 49
        ids = torch.tensor([[48, 3, 4, eot, eot, eot], [48, 5, eot, eot, eot, eot]])
        with torch.no_grad():
            h, pooled = m(ids)
        self.assertTrue(torch.equal(pooled[0], h[0, 3]))
        self.assertTrue(torch.equal(pooled[1], h[1, 2]))
        self.assertTrue(torch.equal(trim_ids(ids, eot), ids[:, :4]))

    def test_final_layer_norm_applied(self):
        m = tiny()
        with torch.no_grad():
            m.text_model.final_layer_norm.weight.fill_(1.0)
            m.text_model.final_layer_norm.bias.fill_(0.0)
            h, _ = m(torch.randint(0, 50, (1, 9)))
        self.assertTrue(torch.allclose(h.mean(-1), torch.zeros(1, 9), atol=1e-5))
        self.assertTrue(torch.allclose(h.var(-1, unbiased=False), torch.ones(1, 9), atol=1e-3))

    def test_matches_torch_transformer_layer(self):
        """Each layer equals torch's pre-LN TransformerEncoderLayer with quick_gelu and a causal mask."""
        m = tiny(3)
        ids = torch.randint(0, 50, (3, 10))
        ref = []
        for L in m.text_model.encoder.layers:
            t = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation=CT.quick_gelu, batch_first=True, norm_first=True)
            with torch.no_grad():
                a = L.self_attn
                t.self_attn.in_proj_weight.copy_(torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]))
                t.self_attn.in_proj_bias.copy_(torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]))
                t.self_attn.out_proj.weight.copy_(a.out_proj.weight)
                t.self_attn.out_proj.bias.copy_(a.out_proj.bias)
                t.linear1.load_state_dict(L.mlp.fc1.state_dict())
                t.linear2.load_state_dict(L.mlp.fc2.state_dict())
                t.norm1.load_state_dict(L.layer_norm1.state_dict())
                t.norm2.load_state_dict(L.layer_norm2.state_dict())
            ref.append(t.eval())
        with torch.no_grad():
            x = m.text_model.embeddings(ids)
            mask = CT.causal_mask(10)
            for t in ref:
                x = t(x, src_mask=mask)
            x = m.text_model.final_layer_norm(x)
            h, _ = m(ids)
        self.assertTrue(torch.allclose(h, x, atol=1e-5), (h - x).abs().max())

    def test_hidden_layer_skip(self):
        m = tiny()
        ids = torch.randint(0, 50, (1, 6))
        with torch.no_grad():
            x = m.text_model.embeddings(ids)
            x = m.text_model.encoder.layers[0](x, CT.causal_mask(6))
            want = m.text_model.final_layer_norm(x)
            got, _ = m(ids, hidden_layer=-2)
        self.assertTrue(torch.allclose(got, want, atol=1e-6))

    def test_save_load_round_trip(self):
        import tempfile
        m = tiny()
        with tempfile.TemporaryDirectory() as d:
            CT.save_text_encoder(m, os.path.join(d, "t.safetensors"), os.path.join(d, "t.json"))
            m2 = CT.load_text_encoder(os.path.join(d, "t.safetensors"), os.path.join(d, "t.json")).eval()
        ids = torch.randint(0, 50, (2, 8))
        with torch.no_grad():
            self.assertTrue(torch.equal(m(ids)[0], m2(ids)[0]))

    def test_too_long(self):
        with self.assertRaises(ValueError):
            tiny()(torch.zeros(1, 78, dtype=torch.long))


class ClipModelTest(unittest.TestCase):
    def test_loss_and_masking(self):
        torch.manual_seed(0)
        m = ClipModel({"text": TINY, "image": {"stem": 8, "channels": [8, 16, 16, 32], "groups": 4}, "embed_dim": 16})
        x = torch.randn(4, 3, 32, 64)
        ids = torch.randint(0, 49, (4, 6))
        ids[:, -1] = 49
        loss, logits = m(x, ids)
        self.assertEqual(tuple(logits.shape), (4, 4))
        self.assertAlmostEqual(loss.item(), 0.5 * (torch.nn.functional.cross_entropy(logits, torch.arange(4)).item()
                                                   + torch.nn.functional.cross_entropy(logits.t(), torch.arange(4)).item()), 5)
        same = torch.zeros(4, 4, dtype=torch.bool)
        same[0, 1] = same[1, 0] = True
        _, lm = m(x, ids, same)
        self.assertEqual(lm[0, 1].item(), float("-inf"))
        self.assertTrue(torch.isfinite(lm[0, 0]))
        loss.backward()
        self.assertIsNotNone(m.logit_scale.grad)
        sim = m.similarity(x, ids)
        self.assertTrue(((sim >= -1.0001) & (sim <= 1.0001)).all())


if __name__ == "__main__":
    unittest.main()
