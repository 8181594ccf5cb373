"""CLIP's byte-level BPE tokenizer, reproducing Hugging Face's slow `CLIPTokenizer` when ftfy is not
installed (its BasicTokenizer path), plus a BPE trainer for our own vocabulary and character spans per token.

Pipeline of `encode(text)` (HF order):
1. Special tokens `<|startoftext|>` / `<|endoftext|>` written literally in the text are split out first
   (exact, case-sensitive, like HF's added-token trie); each remaining chunk is tokenized on its own.
2. BasicTokenizer(strip_accents=False, do_split_on_punc=False): drop U+0000, U+FFFD and control characters
   (category C* except \\t \\n \\r), map whitespace (space, \\t \\n \\r, Zs) to a space, put spaces around CJK
   ideographs, NFC-normalise, split on whitespace (str.split), lower-case each word, join with one space.
3. Pre-tokenisation with CLIP's pattern
   `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+` (IGNORECASE),
   scanned like re.findall. Python's `re` has no \\p{..}, so the classes are implemented with unicodedata:
   \\p{L} = category L*, \\p{N} = category N*, \\s = str.isspace(). Two details of the `regex` module are
   reproduced: U+0345 (a Mn that case-folds to a letter) matches neither \\p{L} nor the negated class, so it
   is skipped; IGNORECASE lets `'s` also match U+017F (long s). Differences remain only where Python's
   Unicode tables (unicodedata.unidata_version) are older than the `regex` module's.
4. Each pre-token's UTF-8 bytes map to printable characters (bytes_to_unicode), the last gets `</w>`,
   and merges are applied lowest rank first (HF's `bpe`). Unknown pieces become the unknown token (EOT).
5. `<|startoftext|>` + ids + `<|endoftext|>`, truncated to 77 keeping the end token, padded with the pad
   token (`<|endoftext|>`, as SD 1.x).

Every token also carries its [start, end) character span in the original text (None for the added start,
end and pad tokens), so caption roles (character spans) map to token positions (`tokens_in_span`).
"""
import argparse
import collections
import json
import os
import sys
import unicodedata
from functools import lru_cache

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
MAX_LEN = 77
# HF reads merges.txt lines [1 : 49152 - 256 - 2 + 1]: the first line is a "#version" header.
MAX_MERGES = 49152 - 256 - 2
_CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


@lru_cache()
def bytes_to_unicode():
    """Byte -> printable unicode character, as GPT-2/CLIP: printable Latin-1 bytes map to themselves,
    the others to 256 + n in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def _is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_letter(c):
    return c != "\u0345" and unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def _is_other(c):
    """[^\\s\\p{L}\\p{N}] as the regex module evaluates it with IGNORECASE."""
    return not (c.isspace() or c == "\u0345" or unicodedata.category(c)[0] in "LN")


def _nfc_with_spans(chars, spans):
    """NFC of a character list, keeping for each output character the span of the input characters it
    came from. Works cluster by cluster (a cluster grows while NFC would combine across its boundary)."""
    text = "".join(chars)
    if text.isascii():
        return chars, spans
    whole = unicodedata.normalize("NFC", text)
    clusters = []
    for c, sp in zip(chars, spans):
        if clusters:
            prev = "".join(clusters[-1][0])
            if unicodedata.normalize("NFC", prev + c) != unicodedata.normalize("NFC", prev) + unicodedata.normalize("NFC", c):
                clusters[-1][0].append(c)
                clusters[-1][1].append(sp)
                continue
        clusters.append(([c], [sp]))
    out_c, out_s = [], []
    for cs, ss in clusters:
        span = (min(s for s, _ in ss), max(e for _, e in ss))
        norm = unicodedata.normalize("NFC", "".join(cs))
        if norm == "".join(cs):
            out_c.extend(cs)
            out_s.extend(ss)
        else:
            out_c.extend(norm)
            out_s.extend([span] * len(norm))
    if "".join(out_c) != whole:  # not expected; keep HF's text with coarse spans
        full = (min(s for s, _ in spans), max(e for _, e in spans))
        return list(whole), [full] * len(whole)
    return out_c, out_s


def basic_normalize(text, base=0):
    """HF BasicTokenizer(strip_accents=False, do_split_on_punc=False) followed by " ".join, returning the
    normalised string and, per character, its [start, end) span in the input (offset by `base`)."""
    chars, spans = [], []
    for i, c in enumerate(text):
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or _is_control(c):
            continue
        sp = (base + i, base + i + 1)
        if _is_whitespace(c):
            chars.append(" ")
            spans.append(sp)
        elif _is_cjk(cp):
            chars.extend((" ", c, " "))
            spans.extend((sp, sp, sp))
        else:
            chars.append(c)
            spans.append(sp)
    chars, spans = _nfc_with_spans(chars, spans)
    words, cur = [], None
    for c, sp in zip(chars, spans):
        if c.isspace():
            cur = None
            continue
        if cur is None:
            cur = ([], [])
            words.append(cur)
        cur[0].append(c)
        cur[1].append(sp)
    out_c, out_s = [], []
    for k, (wc, ws) in enumerate(words):
        if k:
            out_c.append(" ")
            out_s.append((ws[0][0], ws[0][0]))
        word = "".join(wc)
        low = word.lower()  # whole-word lower (Greek final sigma is context dependent)
        lens = [len(c.lower()) for c in wc]
        if sum(lens) == len(low):
            pos = 0
            for n, sp in zip(lens, ws):
                out_c.extend(low[pos:pos + n])
                out_s.extend([sp] * n)
                pos += n
        else:
            span = (ws[0][0], ws[-1][1])
            out_c.extend(low)
            out_s.extend([span] * len(low))
    return "".join(out_c), out_s


def pretokenize(s):
    """CLIP's pre-tokenisation pattern scanned over s like re.findall: list of (start, end) in s."""
    out, i, n = [], 0, len(s)
    while i < n:
        if s.startswith(SOT, i) or s.startswith(EOT, i):
            m = len(SOT) if s.startswith(SOT, i) else len(EOT)
            out.append((i, i + m))
            i += m
            continue
        c = s[i]
        if c == "'":
            hit = None
            for suf in _CONTRACTIONS:
                part = s[i + 1:i + 1 + len(suf)]
                if len(part) == len(suf) and all(a.lower() == b or (b == "s" and a == "\u017f") for a, b in zip(part, suf)):
                    hit = suf
                    break
            if hit is not None:
                out.append((i, i + 1 + len(hit)))
                i += 1 + len(hit)
                continue
        if _is_letter(c):
            j = i + 1
            while j < n and _is_letter(s[j]):
                j += 1
            out.append((i, j))
            i = j
        elif _is_number(c):
            out.append((i, i + 1))
            i += 1
        elif _is_other(c):
            j = i + 1
            while j < n and _is_other(s[j]):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _split_specials(text):
    """Split raw text on literal special tokens (HF's added-token trie): list of (chunk, start, is_special)."""
    out, i, start = [], 0, 0
    while i < len(text):
        hit = SOT if text.startswith(SOT, i) else EOT if text.startswith(EOT, i) else None
        if hit:
            if i > start:
                out.append((text[start:i], start, False))
            out.append((hit, i, True))
            i += len(hit)
            start = i
        else:
            i += 1
    if start < len(text):
        out.append((text[start:], start, False))
    return out


def _merge_word(word, ranks):
    """HF CLIPTokenizer.bpe on a tuple of symbols: repeatedly merge the lowest-ranked adjacent pair."""
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new, i = [], 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new.extend(word[i:])
                break
            new.extend(word[i:j])
            i = j
            if i < len(word) - 1 and word[i + 1] == second:
                new.append(first + second)
                i += 2
            else:
                new.append(word[i])
                i += 1
        word = tuple(new)
    return word


class Tokenizer:
    """Reads a Hugging Face CLIP tokenizer folder (vocab.json + merges.txt) or our own."""

    def __init__(self, vocab, merges, max_len=MAX_LEN, pad_token=EOT):
        self.encoder = dict(vocab)
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        for t in (SOT, EOT, pad_token):
            if t not in self.encoder:
                raise ValueError(f"tokenizer: vocabulary lacks the special token {t}")
        self.sot_id = self.encoder[SOT]
        self.eot_id = self.encoder[EOT]
        self.unk_id = self.eot_id
        self.pad_id = self.encoder[pad_token]
        self.max_len = max_len
        self.cache = {SOT: (SOT,), EOT: (EOT,)}

    @classmethod
    def from_dir(cls, path, **kw):
        with open(os.path.join(path, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        return cls(vocab, read_merges(os.path.join(path, "merges.txt")), **kw)

    @property
    def vocab_size(self):
        return len(self.encoder)

    def bpe(self, token):
        """Byte-encoded pre-token -> tuple of BPE pieces (the last one ends in </w>)."""
        if token in self.cache:
            return self.cache[token]
        word = _merge_word(tuple(token[:-1]) + (token[-1] + "</w>",), self.ranks)
        self.cache[token] = word
        return word

    def tokenize_with_spans(self, text):
        """BPE pieces of text (no start/end tokens) and each piece's [start, end) span in text."""
        pieces, spans = [], []
        for chunk, base, special in _split_specials(text):
            if special:
                pieces.append(chunk)
                spans.append((base, base + len(chunk)))
                continue
            norm, cspans = basic_normalize(chunk, base)
            for s, e in pretokenize(norm):
                piece_text = norm[s:e]
                byte_spans = []
                for k in range(s, e):
                    byte_spans.extend([cspans[k]] * len(norm[k].encode("utf-8")))
                enc = "".join(self.byte_encoder[b] for b in piece_text.encode("utf-8"))
                pos = 0
                for p in self.bpe(enc):
                    n = len(p) - 4 if p.endswith("</w>") and p not in (SOT, EOT) else len(p)
                    if p in (SOT, EOT):
                        n = len(enc)
                    covered = byte_spans[pos:pos + n]
                    pieces.append(p)
                    spans.append((min(a for a, _ in covered), max(b for _, b in covered)))
                    pos += n
        return pieces, spans

    def tokenize(self, text):
        return self.tokenize_with_spans(text)[0]

    def encode_with_spans(self, text, max_len=None, pad=True):
        """ids [SOT, ..., EOT, pad...] of length max_len (77) and spans (None for added tokens)."""
        max_len = self.max_len if max_len is None else max_len
        pieces, pspans = self.tokenize_with_spans(text)
        ids = [self.encoder.get(p, self.unk_id) for p in pieces][:max_len - 2]
        spans = [None] + list(pspans[:max_len - 2]) + [None]
        ids = [self.sot_id] + ids + [self.eot_id]
        if pad:
            spans += [None] * (max_len - len(ids))
            ids += [self.pad_id] * (max_len - len(ids))
        return ids, spans

    def encode(self, text, max_len=None, pad=True):
        return self.encode_with_spans(text, max_len, pad)[0]

    def __call__(self, texts):
        """Batch of texts -> LongTensor [B, 77]."""
        import torch
        if isinstance(texts, str):
            texts = [texts]
        return torch.tensor([self.encode(t) for t in texts], dtype=torch.long)

    def decode(self, ids, skip_special=True):
        """HF convert_tokens_to_string on the ids (special tokens dropped by default)."""
        toks = []
        for i in ids:
            t = self.decoder.get(int(i))
            if t is None or (skip_special and t in (SOT, EOT)):
                continue
            toks.append(t)
        text = "".join(toks)
        raw = bytearray(self.byte_decoder[c] for c in text if c in self.byte_decoder)
        return raw.decode("utf-8", errors="replace").replace("</w>", " ").strip()


def tokens_in_span(spans, span):
    """Token positions whose character span overlaps [start, end) (e.g. a caption role's object word)."""
    s, e = span
    return [k for k, sp in enumerate(spans) if sp is not None and sp[0] < e and sp[1] > s]


def read_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().strip().split("\n")[1:MAX_MERGES + 1]
    return [tuple(line.split()) for line in lines]


# ---------------------------------------------------------------- training


def base_vocab():
    """CLIP's base vocabulary order: the 256 byte characters, then the same with </w>."""
    chars = list(bytes_to_unicode().values())
    return chars + [c + "</w>" for c in chars]


def corpus_words(texts):
    """Counter of byte-encoded pre-tokens (as symbol tuples ending in </w>) over a corpus."""
    enc = bytes_to_unicode()
    words = collections.Counter()
    for text in texts:
        for chunk, _, special in _split_specials(text):
            if special:
                continue
            norm, _ = basic_normalize(chunk)
            for s, e in pretokenize(norm):
                piece = norm[s:e]
                if piece in (SOT, EOT):
                    continue
                b = "".join(enc[x] for x in piece.encode("utf-8"))
                words[tuple(b[:-1]) + (b[-1] + "</w>",)] += 1
    return words


def learn_bpe(texts, num_merges, min_count=2):
    """Learns up to num_merges merges (most frequent adjacent pair first; ties broken by the smaller pair)
    from the corpus. Returns (vocab dict, merges list, segmentation dict word -> pieces)."""
    words = corpus_words(texts)
    segs = {w: w for w in words}
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for w, n in words.items():
        for p in zip(w, w[1:]):
            pair_counts[p] += n
            where[p].add(w)
    merges = []
    while len(merges) < num_merges and pair_counts:
        best, cnt = min(pair_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if cnt < min_count:
            break
        merges.append(best)
        first, second = best
        for w in list(where[best]):
            old = segs[w]
            new, i = [], 0
            while i < len(old):
                if i < len(old) - 1 and old[i] == first and old[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(old[i])
                    i += 1
            new = tuple(new)
            n = words[w]
            for p in zip(old, old[1:]):
                pair_counts[p] -= n
                if pair_counts[p] <= 0:
                    del pair_counts[p]
                where[p].discard(w)
            for p in zip(new, new[1:]):
                pair_counts[p] += n
                where[p].add(w)
            segs[w] = new
        pair_counts.pop(best, None)
    vocab_list = base_vocab()
    seen = set(vocab_list)
    for a, b in merges:
        if a + b not in seen:  # two merges can spell the same token; keep ids dense
            seen.add(a + b)
            vocab_list.append(a + b)
    vocab_list += [SOT, EOT]
    return {t: i for i, t in enumerate(vocab_list)}, merges, segs


def save_tokenizer(out_dir, vocab, merges, extra_config=None):
    """Writes vocab.json, merges.txt (with the "#version" header HF skips), and HF's small config files."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)
        f.write("\n")
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_token": SOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT}, f, indent=2)
    cfg = {"tokenizer_class": "CLIPTokenizer", "model_max_length": MAX_LEN, "do_lower_case": True,
           "bos_token": SOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT, "errors": "replace"}
    cfg.update(extra_config or {})
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


def read_captions(path):
    """Captions from a world dataset directory, its index.jsonl, or a text file with one caption a line."""
    if os.path.isdir(path):
        path = os.path.join(path, "index.jsonl")
    texts = []
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    if path.endswith(".jsonl"):
        for line in lines:
            if not line.strip():
                continue
            e = json.loads(line)
            texts += [c["text"] for c in e.get("captions", []) or []]
            if "caption" in e:
                texts.append(e["caption"])
            texts += [s["text"] for s in e.get("stages", []) or []]
    else:
        texts = [line for line in lines if line.strip()]
    return texts


def _default_dir():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "assets", "tokenizer"))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m dgtrain.tokenizer", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("learn", help="learn BPE merges from captions")
    lp.add_argument("--captions", required=True, help="world dataset dir, index.jsonl or a text file (one caption a line)")
    lp.add_argument("--merges", type=int, required=True, help="maximum number of merges")
    lp.add_argument("--min-count", type=int, default=2, help="stop when the best pair is rarer")
    lp.add_argument("--out", default=_default_dir())
    ep = sub.add_parser("encode", help="print token ids, pieces and spans")
    ep.add_argument("text")
    ep.add_argument("--vocab", default=_default_dir(), help="folder with vocab.json + merges.txt")
    args = ap.parse_args(argv)
    if args.cmd == "learn":
        texts = read_captions(args.captions)
        vocab, merges, segs = learn_bpe(texts, args.merges, args.min_count)
        save_tokenizer(args.out, vocab, merges, {"dirigent_source": os.path.basename(os.path.abspath(args.captions)),
                                                 "dirigent_captions": len(texts)})
        tok = Tokenizer(vocab, merges)
        lens = [len(tok.encode(t, pad=False)) for t in texts]
        print(json.dumps({"captions": len(texts), "distinct_words": len(segs), "merges": len(merges),
                          "vocab": len(vocab), "max_tokens": max(lens) if lens else 0,
                          "over_77": sum(n > MAX_LEN for n in lens), "out": args.out}))
    else:
        tok = Tokenizer.from_dir(args.vocab)
        ids, spans = tok.encode_with_spans(args.text)
        n = ids.index(tok.eot_id) + 1
        pieces = [tok.decoder.get(i) for i in ids[:n]]
        print(json.dumps({"ids": ids, "pieces": pieces, "spans": spans[:n]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
