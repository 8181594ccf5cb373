import os
import random
import tempfile
import unittest

from dgtrain import synth_world
from dgtrain import tokenizer as T
from dgtrain.world_data import read_index

try:
    import regex
except ImportError:  # python3-regex is only needed for this cross-check
    regex = None

HAND_MERGES = [("l", "o</w>"), ("h", "e"), ("l", "lo</w>"), ("he", "llo</w>"), ("c", "a"), ("ca", "r</w>"), ("'", "s</w>")]


def hand_tokenizer():
    vocab = T.base_vocab() + ["".join(m) for m in HAND_MERGES] + [T.SOT, T.EOT]
    return T.Tokenizer({t: i for i, t in enumerate(vocab)}, HAND_MERGES)


class HandVocabTest(unittest.TestCase):
    def setUp(self):
        self.tok = hand_tokenizer()

    def test_bytes_to_unicode(self):
        b2u = T.bytes_to_unicode()
        self.assertEqual(len(set(b2u.values())), 256)
        self.assertEqual(b2u[ord("a")], "a")
        self.assertEqual(b2u[ord(" ")], "Ġ")  # space is byte 32 -> 256 + 32
        self.assertEqual(b2u[0], "Ā")
        self.assertEqual(list(b2u)[:3], [33, 34, 35])

    def test_special_ids_from_vocab(self):
        self.assertEqual(self.tok.sot_id, 512 + len(HAND_MERGES))
        self.assertEqual(self.tok.eot_id, self.tok.sot_id + 1)
        self.assertEqual(self.tok.pad_id, self.tok.eot_id)

    def test_merge_order(self):
        self.assertEqual(self.tok.tokenize("Hello  CAR's\tcars!!"),
                         ["hello</w>", "car</w>", "'s</w>", "ca", "r", "s</w>", "!", "!</w>"])
        self.assertEqual(self.tok.tokenize("hellos"), ["he", "l", "l", "o", "s</w>"])
        self.assertEqual(self.tok.tokenize("x"), ["x</w>"])

    def test_contractions_and_punctuation(self):
        self.assertEqual(self.tok.tokenize("it's"), ["i", "t</w>", "'s</w>"])
        self.assertEqual(self.tok.tokenize("'sun"), ["'s</w>", "u", "n</w>"])
        self.assertEqual(self.tok.tokenize("we'll go..."), ["w", "e</w>", "'", "l", "l</w>", "g", "o</w>", ".", ".", ".</w>"])
        self.assertEqual(self.tok.tokenize("a,b"), ["a</w>", ",</w>", "b</w>"])

    def test_digits_are_single(self):
        self.assertEqual(self.tok.tokenize("2024ab"), ["2</w>", "0</w>", "2</w>", "4</w>", "a", "b</w>"])

    def test_unicode(self):
        b2u = T.bytes_to_unicode()
        e_acute = [b2u[0xC3], b2u[0xA9] + "</w>"]
        self.assertEqual(self.tok.tokenize("Café"), ["ca", "f"] + e_acute)  # "c a" is a merge
        self.assertEqual(self.tok.tokenize("Cafe\u0301"), self.tok.tokenize("café"))  # NFC
        # CJK ideographs become separate words
        self.assertEqual(len(self.tok.tokenize("猫犬")), 6)
        self.assertTrue(self.tok.tokenize("猫犬")[2].endswith("</w>"))
        # control characters are dropped, non-breaking space is whitespace
        self.assertEqual(self.tok.tokenize("a\x07b\u00a0c"), ["a", "b</w>", "c</w>"])

    def test_encode_padding_and_truncation(self):
        ids = self.tok.encode("")
        self.assertEqual(len(ids), 77)
        self.assertEqual(ids[:2], [self.tok.sot_id, self.tok.eot_id])
        self.assertTrue(all(i == self.tok.eot_id for i in ids[1:]))
        long = " ".join(["car"] * 100)
        ids, spans = self.tok.encode_with_spans(long)
        self.assertEqual(len(ids), 77)
        self.assertEqual(ids[0], self.tok.sot_id)
        self.assertEqual(ids[76], self.tok.eot_id)
        self.assertEqual(ids[1:76], [self.tok.encoder["car</w>"]] * 75)
        self.assertEqual(spans[75], (74 * 4, 74 * 4 + 3))
        self.assertEqual(len(self.tok.encode(long, pad=False)), 77)
        self.assertEqual(len(self.tok.encode("car", pad=False)), 3)

    def test_unknown_piece_is_eot(self):
        small = {t: i for i, t in enumerate(["a</w>", T.SOT, T.EOT])}
        tok = T.Tokenizer(small, [])
        self.assertEqual(tok.encode("a b", pad=False), [1, 0, 2, 2])

    def test_literal_special_tokens(self):
        self.assertEqual(self.tok.tokenize("a<|endoftext|>b"), ["a</w>", T.EOT, "b</w>"])
        # split out before punctuation runs, as HF's added-token trie does
        self.assertEqual(self.tok.tokenize("a!<|startoftext|>"), ["a</w>", "!</w>", T.SOT])
        ids = self.tok.encode("<|endoftext|>", pad=False)
        self.assertEqual(ids, [self.tok.sot_id, self.tok.eot_id, self.tok.eot_id])

    def test_spans(self):
        text = "A  red Car's café, 42"
        ids, spans = self.tok.encode_with_spans(text)
        self.assertIsNone(spans[0])
        pieces = [self.tok.decoder[i] for i in ids]
        got = [(p, text[s:e]) for p, sp in zip(pieces, spans) if sp is not None for s, e in [sp]]
        self.assertEqual(got[0], ("a</w>", "A"))
        self.assertEqual(got[1][1] + got[2][1] + got[3][1], "red")
        self.assertEqual(got[4], ("car</w>", "Car"))
        self.assertEqual(got[5], ("'s</w>", "'s"))
        self.assertEqual([g[1] for g in got[6:10]], ["ca", "f", "é", "é"])  # both bytes of é map to it
        self.assertEqual(got[-2:], [("4</w>", "4"), ("2</w>", "2")])
        self.assertEqual(T.tokens_in_span(spans, (text.index("Car"), text.index("Car") + 3)), [5])
        self.assertEqual(T.tokens_in_span(spans, (3, 6)), [2, 3, 4])
        # a decomposed character: both code points map into its pieces
        text2 = "cafe\u0301"
        _, sp2 = self.tok.encode_with_spans(text2, pad=False)
        self.assertEqual(sp2[3], (3, 5))
        self.assertEqual(sp2[4], (3, 5))

    def test_decode_round_trip(self):
        rng = random.Random(1)
        for _ in range(50):
            words = ["".join(rng.choice("abcdehlorsé") for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(0, 10))]
            text = " ".join(w.upper() if rng.random() < 0.3 else w for w in words)
            self.assertEqual(self.tok.decode(self.tok.encode(text)), " ".join(words).lower())

    def test_read_merges_skips_header_and_caps(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "merges.txt")
            with open(p, "w") as f:
                f.write("#version: 0.2\n" + "".join(f"a{i} b\n" for i in range(T.MAX_MERGES + 5)))
            m = T.read_merges(p)
            self.assertEqual(len(m), T.MAX_MERGES)
            self.assertEqual(m[0], ("a0", "b"))


@unittest.skipIf(regex is None, "python3-regex not installed")
class PatternCrossCheck(unittest.TestCase):
    """The hand-written pre-tokeniser against the regex module running CLIP's real pattern."""

    PAT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

    def test_random_strings(self):
        pat = regex.compile(self.PAT, regex.IGNORECASE)
        alphabet = list("aZ09 '.,!?-_/<>|sStTrRvVmMlLdD") + ["<|endoftext|>", "<|startoftext|>", "'ll", "'re", "'ve",
                                                            "é", "ß", "ſ", "\u0301", "\u0345", "ⅰ", "²", "٣", "猫", "ж",
                                                            "€", "😀", "\u00a0", "\u2028", "ǅ", "ﬁ", "K"]
        rng = random.Random(0)
        for _ in range(3000):
            s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
            want = pat.findall(s)
            got = [s[a:b] for a, b in T.pretokenize(s)]
            self.assertEqual(got, want, repr(s))


class TrainerTest(unittest.TestCase):
    def test_learn_save_load(self):
        with tempfile.TemporaryDirectory() as d:
            root = synth_world.write_dataset(os.path.join(d, "ds"), n=30, width=32, height=16)
            texts = T.read_captions(root)
            self.assertEqual(len(texts), 90)
            vocab, merges, segs = T.learn_bpe(texts, 200)
            self.assertGreater(len(merges), 20)
            self.assertEqual(len(vocab), len(set(vocab.values())))
            self.assertEqual(sorted(vocab.values()), list(range(len(vocab))))
            self.assertEqual(vocab[T.EOT], len(vocab) - 1)
            self.assertEqual(vocab[T.SOT], len(vocab) - 2)
            T.save_tokenizer(os.path.join(d, "tok"), vocab, merges)
            tok = T.Tokenizer.from_dir(os.path.join(d, "tok"))
            self.assertEqual(tok.encoder, vocab)
            # the HF merge loop reproduces the training-time segmentation of every corpus word
            for word, seg in segs.items():
                enc = "".join(word)[:-4]
                self.assertEqual(tok.bpe(enc), seg)
            # frequent words became single tokens, and no caption piece is unknown
            for w in ("street</w>", "car</w>", "on</w>"):
                self.assertIn(w, vocab)
            for t in texts:
                self.assertNotIn(tok.unk_id, tok.encode(t, pad=False)[1:-1])
            # roles map to exactly the tokens of their words
            ds_caps = [(c["text"], c["roles"]) for e in read_index(root) for c in e["captions"]]
            for text, roles in ds_caps:
                ids, spans = tok.encode_with_spans(text)
                for r in roles:
                    s, e = r["object"]
                    pos = T.tokens_in_span(spans, (s, e))
                    self.assertTrue(pos)
                    self.assertEqual(tok.decode([ids[k] for k in pos]), text[s:e])

    def test_cli(self):
        with tempfile.TemporaryDirectory() as d:
            cap = os.path.join(d, "c.txt")
            with open(cap, "w") as f:
                f.write("a red car\na blue car\na red tree\n")
            self.assertEqual(T.main(["learn", "--captions", cap, "--merges", "10", "--out", os.path.join(d, "t")]), 0)
            tok = T.Tokenizer.from_dir(os.path.join(d, "t"))
            self.assertEqual(tok.tokenize("red car"), ["red</w>", "car</w>"])


if __name__ == "__main__":
    unittest.main()
