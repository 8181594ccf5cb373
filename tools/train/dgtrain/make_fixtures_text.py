"""Writes the golden fixtures of the text side for the C engine under tests/golden/text/ (layout in
tests/golden/README.md): a small BPE vocabulary in Hugging Face's file format, tokenizer cases (ids, pieces
and character spans of captions and tricky strings) and a tiny random CLIP text encoder in single-file
naming with its inputs and outputs. Deterministic: rerunning gives the same files.

    cd tools/train && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m dgtrain.make_fixtures_text [--out DIR]
        [--vocab assets/tokenizer] [--captions data/world/test]

--vocab uses an existing tokenizer folder instead of learning the test vocabulary; --captions adds the
captions of a world dataset (or a text file) to the cases (default: captions of a small synthetic dataset).
"""
import argparse
import json
import os
import shutil
import tempfile

import torch

from . import REPO, clip_text, synth_world
from . import tokenizer as T
from .safetensors_io import save

TEXT_CFG = {"vocab_size": None, "width": 32, "layers": 2, "heads": 4, "mlp": 128, "max_len": 77, "eps": 1e-5,
            "act": "quick_gelu"}

# Tricky strings: whitespace, case, punctuation runs, contractions, digits, Unicode classes, NFC, CJK,
# control and format characters, literal special tokens, truncation. (No NUL: C strings cannot hold it.)
TRICKY = [
    "",
    "   ",
    "a red car on a snowy street at night",
    "A  RED\tcar\n on the   street.",
    "it's the car's door; they're here, we've gone, I'm ok, you'll see, he'd go",
    "'sun'S 'S 'LL don't",
    "2024 cars, 3.14 poles & 1,000 signs!!!",
    "under_score hy-phen slash/path <b>tag</b> 50% $5 #1 @me ...?!",
    "café naïve résumé",
    "cafe\u0301 (decomposed)",
    "Ünïcödé ÀÉÎ straße ΟΔΟΣ İstanbul",
    "雪の街 猫が好き",
    "emoji 🚗🌧️ rain",
    "control\x07chars\x1b and zero\u200bwidth",
    "tab\tand\u00a0nbsp\u3000ideographic space",
    "<|startoftext|>literal<|endoftext|> tokens",
    "hello!<|endoftext|>",
    "٣ ٤ Ⅻ ½ ² digits",
    "x" * 120,
    " ".join(["a red car"] * 30),
]


def learn_test_vocab(captions, out_dir):
    corpus = captions + TRICKY + ["the street is wet after the rain", "two people walk under a tree at dusk"]
    vocab, merges, _ = T.learn_bpe(corpus, 400)
    T.save_tokenizer(out_dir, vocab, merges, {"dirigent_note": "test vocabulary of tests/golden/text (not a trained asset)"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden", "text"))
    ap.add_argument("--vocab", help="tokenizer folder to use instead of learning the test vocabulary")
    ap.add_argument("--captions", help="world dataset folder, index.jsonl or text file with captions for the cases")
    ap.add_argument("--max-captions", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    if args.captions:
        captions = T.read_captions(args.captions)
    else:
        with tempfile.TemporaryDirectory() as d:
            captions = T.read_captions(synth_world.write_dataset(d, n=16, width=32, height=16, seed=7, split="test"))
    seen, uniq = set(), []
    for c in captions:
        if c not in seen:
            seen.add(c)
            uniq.append(c)
    captions = uniq[:args.max_captions]

    tok_dir = os.path.join(args.out, "tokenizer")
    if args.vocab:
        os.makedirs(tok_dir, exist_ok=True)
        for f in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(args.vocab, f), os.path.join(tok_dir, f))
    else:
        learn_test_vocab(captions, tok_dir)
    tok = T.Tokenizer.from_dir(tok_dir)

    cases = []
    for kind, texts in (("tricky", TRICKY), ("caption", captions)):
        for text in texts:
            ids, spans = tok.encode_with_spans(text)
            n = len(tok.encode(text, pad=False))  # before padding: start token, pieces (<= 75), end token
            cases.append({"kind": kind, "text": text, "ids": ids, "n_tokens": n,
                          "pieces": [tok.decoder[i] for i in ids[:n]],
                          "spans": [list(s) if s is not None else None for s in spans[:n]],
                          "truncated": len(tok.encode(text, max_len=10**6, pad=False)) > T.MAX_LEN})
    with open(os.path.join(args.out, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt", "max_len": T.MAX_LEN,
                   "sot_id": tok.sot_id, "eot_id": tok.eot_id, "pad_id": tok.pad_id, "cases": cases},
                  f, ensure_ascii=False, indent=1)

    # Tiny random text encoder: F16 weights in single-file naming; reference in f32 on exactly those values.
    cfg = dict(TEXT_CFG, vocab_size=tok.vocab_size)
    gen = torch.Generator().manual_seed(20261125)
    model = clip_text.ClipTextModel(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            elif "layer_norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            p.copy_(p.half().float())
    model.eval()
    weights = {k: v.half().contiguous() for k, v in model.ldm_state_dict().items()}
    # SD 1.5 checkpoints carry HF's position_ids buffer; the engine must accept and ignore it.
    weights[clip_text.CKPT_PREFIX + "text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]
    save(weights, os.path.join(args.out, "text_encoder_weights.safetensors"), {"config": json.dumps(cfg)})

    texts = ["a red car on a snowy street at night", "", "it's 2024: café!", " ".join(["a red car"] * 30)]
    ids = torch.tensor([tok.encode(t) for t in texts], dtype=torch.long)
    with torch.no_grad():
        hidden, pooled = model(ids)
        skip, _ = model(ids, hidden_layer=-2)
    save({"ids": ids, "last_hidden_state": hidden, "pooled": pooled, "hidden_layer_m2": skip},
         os.path.join(args.out, "text_encoder.safetensors"), {"texts": json.dumps(texts, ensure_ascii=False)})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"tokenizer_cases": {"file": "tokenizer_cases.json", "count": len(cases)},
                   "text_encoder": {"file": "text_encoder.safetensors", "weights": "text_encoder_weights.safetensors",
                                    "config": cfg, "texts": texts,
                                    "inputs": {"ids": list(ids.shape)},
                                    "outputs": {"last_hidden_state": list(hidden.shape), "pooled": list(pooled.shape),
                                                "hidden_layer_m2": list(skip.shape)},
                                    "what": "ClipTextModel(ids): final_layer_norm(layers(embeddings)); pooled = "
                                            "last_hidden_state at argmax(ids); hidden_layer_m2 = final_layer_norm of "
                                            "the output of the second-to-last layer"}}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(args.out) for fn in fns)
    print(f"wrote {len(cases)} tokenizer cases, vocab {tok.vocab_size}, text encoder {cfg['width']}x{cfg['layers']} "
          f"to {args.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
