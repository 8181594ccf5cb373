#!/bin/sh
# dirigent-cli eval end to end on tiny models: the generator of tests/pipeline/tiny_model with the random
# evaluation segmenter and text-image model of tests/golden/eval, on a 2-sample world dataset at 64x32.
# Checks the report's shape and ranges, that the real-image numbers agree between t2i and l2i, that a
# rerun gives the same numbers, the saved images, and clear errors naming missing files.
cli="$1" tiny="$2" golden="$3" out="$4"
rm -rf "$out" && mkdir -p "$out/model" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for f in "$tiny"/*; do ln -s "$f" "$out/model/" || exit 1; done
ln -s "$golden/segmenter_weights.safetensors" "$out/model/eval_segmenter.safetensors"
ln -s "$golden/segmenter_weights.json" "$out/model/eval_segmenter.json"
ln -s "$golden/clip_weights.safetensors" "$out/model/clip.safetensors"
ln -s "$golden/clip_weights.json" "$out/model/clip.json"
"$cli" world dataset --split test --count 2 --width 64 --height 32 --out "$out/world/test" >/dev/null || fail "world dataset"
ev() { "$cli" eval "$@" --data "$out/world" --model "$out/model" --count 2 --steps 2 --seed 5; }
ev t2i --out "$out/t2i.json" > "$out/t2i.txt" || fail "eval t2i: $(cat "$out/t2i.txt")"
ev l2i --out "$out/l2i.json" --images "$out/img" > "$out/l2i.txt" || fail "eval l2i: $(cat "$out/l2i.txt")"
ev l2i --out "$out/l2i_again.json" > /dev/null || fail "eval l2i again"
grep -q "text-image similarity" "$out/t2i.txt" && grep -q "colour attribute check" "$out/t2i.txt" || fail "t2i table"
grep -q "mIoU" "$out/l2i.txt" && grep -q "Frechet distance" "$out/l2i.txt" && grep -q "  sign " "$out/l2i.txt" ||
  fail "l2i table"
/usr/bin/python3 - "$out" <<'PY' || fail "reports"
import json, math, os, sys
from PIL import Image
out = sys.argv[1]
t2i, l2i, again = (json.load(open(os.path.join(out, n))) for n in ("t2i.json", "l2i.json", "l2i_again.json"))
ids = [json.loads(l)["id"] for l in open(os.path.join(out, "world", "test", "index.jsonl"))]
def sim(v): return isinstance(v, float) and -1 <= v <= 1
def frac(v): return v is None or (isinstance(v, float) and 0 <= v <= 1)
for r, task in ((t2i, "t2i"), (l2i, "l2i")):
    assert r["task"] == task and r["images"] == 2 and r["steps"] == 2 and r["seed"] == "5", r
    assert [p["id"] for p in r["per_image"]] == ids, r["per_image"]
    assert [p["seed"] for p in r["per_image"]] == ["5", "6"]
    assert sim(r["clip_similarity"]["generated"]) and sim(r["clip_similarity"]["real"]), r["clip_similarity"]
# The real images and captions are the same in both tasks.
assert abs(t2i["clip_similarity"]["real"] - l2i["clip_similarity"]["real"]) < 1e-6
a = t2i["attribute"]
assert a["all"]["checks"] == a["car"]["checks"] + a["building"]["checks"], a
for row in a.values():
    assert frac(row["generated"]) and frac(row["real"]) and (row["checks"] == 0) == (row["generated"] is None), row
checks = sum(len(p["attributes"]) for p in t2i["per_image"])
assert checks == a["all"]["checks"], (checks, a)
for p in t2i["per_image"]:
    for x in p["attributes"]:
        assert x["class"] in ("car", "building") and x["generated"] in ("pass", "wrong", "missing"), x
assert frac(l2i["miou"]["generated"]) and frac(l2i["miou"]["real"]) and l2i["miou"]["real"] is not None
assert frac(l2i["pixel_accuracy"]["generated"]) and l2i["controlnet"] == "aldm"
assert all(c in l2i["iou"] for c in ("person", "pole", "sign")) and len(l2i["iou"]) == 14
assert all(frac(v["generated"]) and frac(v["real"]) for v in l2i["iou"].values())
fd = l2i["frechet_clip"]
assert isinstance(fd, float) and math.isfinite(fd) and fd >= -1e-6, fd
strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}
assert strip(l2i) == strip(again), "a rerun with the same seeds gave other numbers"
for i in ids:
    assert Image.open(os.path.join(out, "img", i + ".png")).size == (64, 32)
print("reports ok: t2i sim %.4f/%.4f, l2i mIoU %.4f, FD %.4f" % (t2i["clip_similarity"]["generated"],
      t2i["clip_similarity"]["real"], l2i["miou"]["generated"], fd))
PY
# Errors: exit 2 for bad arguments, 1 with the missing file named.
"$cli" eval x2y --count 2 2>"$out/err"; [ $? -eq 2 ] || fail "unknown task not refused"
"$cli" eval t2i 2>"$out/err"; [ $? -eq 2 ] || fail "missing --count not refused"
"$cli" eval t2i --data "$out/nowhere" --model "$out/model" --count 2 2>"$out/err"
[ $? -eq 1 ] && grep -q "nowhere/test/index.jsonl" "$out/err" || fail "missing dataset: $(cat "$out/err")"
"$cli" eval t2i --data "$out/world" --model "$out/model" --count 3 2>"$out/err"
[ $? -eq 1 ] && grep -q "fewer than --count 3" "$out/err" || fail "count past the split: $(cat "$out/err")"
mkdir -p "$out/noclip" && for f in "$out/model"/*; do ln -s "$(readlink "$f")" "$out/noclip/${f##*/}"; done
rm "$out/noclip/clip.safetensors"
"$cli" eval t2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 2>"$out/err"
[ $? -eq 1 ] && grep -q "noclip/clip.safetensors" "$out/err" || fail "missing clip model: $(cat "$out/err")"
rm "$out/noclip/controlnet_aldm.safetensors"
"$cli" eval l2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 2>"$out/err"
[ $? -eq 1 ] && grep -q "ControlNet" "$out/err" || fail "l2i without a ControlNet: $(cat "$out/err")"
echo "ok: eval"
