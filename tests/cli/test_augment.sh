#!/bin/sh
# `dirigent-cli augment` end to end on a 4-sample world dataset (64x32): with the Masked Noise Encoder
# (the shipped models) and exemplars from a world dataset, and with FDA and exemplars from a folder of PNGs:
# the copy is read back by `augment` itself (dg_world_index_load) and by tools/train's reader, has one line
# per sample, byte-identical labels, images of the source's size that differ from the source, the same
# exemplar picks for the same --seed; and refusals (an existing --out, a missing dataset, a missing image,
# an index path leaving the dataset, no exemplars, a bad method or strength, an image that is no PNG, a label
# of another size than the index says, an exemplar that is no PNG, and a cut image found only while writing)
# each name the file or value and leave neither --out nor a temporary folder behind.
cli="$1" src="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$cli" world dataset --split test --count 4 --width 64 --height 32 --out "$out/data" >/dev/null 2>&1 || fail "world dataset"
"$cli" world dataset --split val --count 3 --width 96 --height 48 --out "$out/styles" >/dev/null 2>&1 || fail "styles"
mkdir -p "$out/pngs" && cp "$out"/styles/images/*.png "$out/pngs/" || fail "copy the exemplars"
# nothing of ours beside an output but what is expected: no temporary folder left
no_leftovers() { ls -a "$out" | grep -q '\.augment-' && fail "$1: a temporary folder was left: $(ls -a "$out")"; return 0; }

"$cli" augment --data "$out/data" --styles "$out/styles" --seed 5 --out "$out/mne" >"$out/msg" 2>&1 ||
  fail "augment mne: $(cat "$out/msg")"
grep -q "wrote $out/mne: 4 samples (mne, strength 0.8, 3 exemplars, seed 5)" "$out/msg" || fail "message: $(cat "$out/msg")"
grep -o '[0-9.]* images/s' "$out/msg"
"$cli" augment --data "$out/data" --styles "$out/styles" --seed 5 --count 2 --out "$out/mne2" >"$out/msg" 2>&1 ||
  fail "augment mne --count 2: $(cat "$out/msg")"
"$cli" augment --data "$out/data" --styles "$out/pngs" --method fda --strength 1 --beta 0.2 --out "$out/fda" \
  >"$out/msg" 2>&1 || fail "augment fda: $(cat "$out/msg")"
# the copy is a dataset again: augment reads it (dg_world_index_load and every file)
"$cli" augment --data "$out/mne" --styles "$out/pngs" --method fda --out "$out/again" >"$out/msg" 2>&1 ||
  fail "augment of the augmented copy: $(cat "$out/msg")"
no_leftovers "after the runs"
/usr/bin/python3 - "$out" "$src" <<'PY' || fail "the copies"
import filecmp, json, os, sys
import numpy as np
from PIL import Image
d, src = sys.argv[1], sys.argv[2]
lines = lambda root: [json.loads(l) for l in open(root + "/index.jsonl") if l.strip()]
orig = lines(d + "/data")
for name, method in (("mne", "mne"), ("fda", "fda"), ("again", "fda")):
    root, base = d + "/" + name, d + ("/mne" if name == "again" else "/data")
    got, ref = lines(root), lines(base)
    assert len(got) == len(ref) == 4, (name, len(got))
    for a, b in zip(got, ref):
        assert a["id"] == b["id"] and a["label"] == b["label"] and a["captions"] == b["captions"], name
        assert "scene" not in a and a["augment"]["method"] == method, a
        assert filecmp.cmp(f"{root}/{a['label']}", f"{base}/{b['label']}", shallow=False), f"{name}: label differs"
        x = np.asarray(Image.open(f"{root}/{a['image']}").convert("RGB")).astype(int)
        y = np.asarray(Image.open(f"{base}/{b['image']}").convert("RGB")).astype(int)
        assert x.shape == y.shape == (32, 64, 3), (x.shape, y.shape)
        assert np.abs(x - y).mean() > 1, f"{name} {a['id']}: the image did not change ({np.abs(x - y).mean():.2f})"
    files = sorted(os.listdir(root))
    assert files == ["images", "index.jsonl", "labels"], files
    assert len(os.listdir(root + "/images")) == len(os.listdir(root + "/labels")) == 4
# the same seed picks the same exemplars, whatever --count
picks = [e["augment"]["exemplar"] for e in lines(d + "/mne")]
assert [e["augment"]["exemplar"] for e in lines(d + "/mne2")] == picks[:2], picks
assert all(p.startswith("images/val-") for p in picks), picks
assert all(e["augment"]["exemplar"].endswith(".png") and "/" not in e["augment"]["exemplar"] for e in lines(d + "/fda"))
# tools/train's reader (with torch, where it is installed)
try:
    import torch  # noqa: F401
except ImportError:
    print("tools/train reader skipped: no torch")
else:
    sys.path.insert(0, src + "/tools/train")
    from dgtrain import world_data
    ds = world_data.WorldImages(d + "/mne")
    assert len(ds) == 4 and ds[0]["label"].shape == (32, 64), (len(ds), ds[0]["label"].shape)
print("augment copies: 4 samples each, labels identical, images changed, picks reproducible")
PY

# refusals: each names what is wrong, and nothing is left behind
refuse() { # expected-text args...
  want="$1"; shift
  "$cli" augment "$@" >"$out/msg" 2>&1 && fail "accepted: $*"
  grep -q -- "$want" "$out/msg" || fail "'$*' should say '$want': $(cat "$out/msg")"
  no_leftovers "$*"
}
refuse "--out $out/mne exists" --data "$out/data" --styles "$out/pngs" --out "$out/mne"
refuse "$out/nothing/index.jsonl" --data "$out/nothing" --styles "$out/pngs" --out "$out/x"
[ -e "$out/x" ] && fail "a refused run left $out/x"
refuse "--method bicubic: expected fda or mne" --data "$out/data" --styles "$out/pngs" --method bicubic --out "$out/x"
refuse "--strength 1.5: expected a number from 0 to 1" --data "$out/data" --styles "$out/pngs" --strength 1.5 --out "$out/x"
mkdir -p "$out/empty"
refuse "--styles $out/empty: neither a world dataset" --data "$out/data" --styles "$out/empty" --out "$out/x"
cp -r "$out/data" "$out/holey" && rm "$out/holey/images/test-0000002.png"
refuse "sample test-0000002: $out/holey/images/test-0000002.png is missing" --data "$out/holey" --styles "$out/pngs" --out "$out/x"
cp -r "$out/data" "$out/escaping" && sed -i '3s#"labels/#"../labels/#' "$out/escaping/index.jsonl"
refuse "index.jsonl:3: image and label must be paths inside the dataset" --data "$out/escaping" --styles "$out/pngs" --out "$out/x"
cp -r "$out/data" "$out/broken" && echo "not a png" >"$out/broken/images/test-0000002.png"
refuse "sample test-0000002: png: cannot read image '$out/broken/images/test-0000002.png': not a PNG file" --data "$out/broken" --styles "$out/pngs" --out "$out/x"
cp -r "$out/data" "$out/sized" && cp "$out/styles/images/val-0000000.png" "$out/sized/labels/test-0000001.png" || fail "copy"
refuse "labels/test-0000001.png is 96x48, the index says 64x32" --data "$out/sized" --styles "$out/pngs" --out "$out/x"
mkdir -p "$out/badpngs" && cp "$out/pngs/"*.png "$out/badpngs/" && echo "no png" >"$out/badpngs/zz.png"
refuse "--styles: exemplar png: cannot read image '$out/badpngs/zz.png'" --data "$out/data" --styles "$out/badpngs" --out "$out/x"
# found only while writing: the third image's compressed pixels are damaged (its chunks are whole); the two
# samples written before are removed again
cp -r "$out/data" "$out/cut" && /usr/bin/python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
for i in range(50, 90): b[i] ^= 0x5a
open(sys.argv[2], 'wb').write(b)" "$out/data/images/test-0000002.png" "$out/cut/images/test-0000002.png"
refuse "sample 3 ($out/cut/images/test-0000002.png): png: cannot read image" --data "$out/cut" --styles "$out/pngs" --method fda --out "$out/x"
[ -e "$out/x" ] && fail "a failed run left $out/x"
echo "augment: all checks passed"
