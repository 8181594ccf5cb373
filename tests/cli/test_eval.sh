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
grep -q "CLIP text-image similarity" "$out/t2i.txt" && grep -q "car colour attribute" "$out/t2i.txt" || fail "t2i table"
grep -q "mIoU" "$out/l2i.txt" && grep -q "Frechet distance" "$out/l2i.txt" && grep -q "IoU sign" "$out/l2i.txt" ||
  fail "l2i table"
/usr/bin/python3 - "$out" <<'PY' || fail "reports"
import json, math, os, sys
from PIL import Image
out = sys.argv[1]
t2i, l2i, again = (json.load(open(os.path.join(out, n))) for n in ("t2i.json", "l2i.json", "l2i_again.json"))
index = [json.loads(l) for l in open(os.path.join(out, "world", "test", "index.jsonl"))]
ids = [e["id"] for e in index]
def sim(v): return isinstance(v, float) and -1 <= v <= 1
def frac(v): return v is None or (isinstance(v, float) and 0 <= v <= 1)
for r, task in ((t2i, "t2i"), (l2i, "l2i")):
    assert r["task"] == task and r["count"] == 2 and r["steps"] == 2 and r["seed"] == "5", r
    assert [p["id"] for p in r["per_image"]] == ids, r["per_image"]
    assert [p["seed"] for p in r["per_image"]] == ["5", "6"]
    assert [p["prompt"] for p in r["per_image"]] == [e["captions"][0]["text"] for e in index]
    for g in ("real", "generated"):
        grp = r[g]
        assert grp["images"] == 2 and sim(grp["clip_sim"]) and frac(grp["attr_acc"]), grp
        # attribute items: captions whose first car role names a colour
        want = sum(any(x.get("class") == "car" and x.get("attr") for x in e["captions"][0]["roles"]) for e in index)
        assert grp["attr_items"] == want and (want == 0) == (grp["attr_acc"] is None), (grp, want)
    fd = r["generated"]["fd"]
    assert isinstance(fd, float) and math.isfinite(fd) and fd >= -1e-6, fd
    for p in r["per_image"]:
        a = p["attribute"]
        assert a is None or (a["class"] == "car" and isinstance(a["correct"]["generated"], bool)), a
# The real images and captions are the same in both tasks.
assert abs(t2i["real"]["clip_sim"] - l2i["real"]["clip_sim"]) < 1e-6
assert t2i["real"]["attr_acc"] == l2i["real"]["attr_acc"]
for g in ("real", "generated"):
    grp = l2i[g]
    assert frac(grp["miou"]) and grp["miou"] is not None and frac(grp["pixel_acc"]), grp
    assert all(c in grp["iou"] for c in ("person", "pole", "sign")) and len(grp["iou"]) == 14
    assert all(frac(v) for v in grp["iou"].values())
assert "miou" not in t2i["real"] and l2i["controlnet"] == "aldm"
strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}
assert strip(l2i) == strip(again), "a rerun with the same seeds gave other numbers"
for i in ids:
    assert Image.open(os.path.join(out, "img", i + ".png")).size == (64, 32)
print("reports ok: t2i clip sim real %.4f generated %.4f, l2i mIoU %.4f, FD %.4f" % (t2i["real"]["clip_sim"],
      t2i["generated"]["clip_sim"], l2i["generated"]["miou"], l2i["generated"]["fd"]))
PY
# Label maps as a painting program writes them (colour-coded RGB with noise, as after a JPEG): read by colour,
# the same numbers as from the indexed maps.
cp -r "$out/world" "$out/world_rgb" || fail "copy the dataset"
/usr/bin/python3 - "$out/world_rgb/test" <<'PY' || fail "noisy colour labels"
import json, os, sys
import numpy as np
from PIL import Image
split = sys.argv[1]
for line in open(os.path.join(split, "index.jsonl")):
    path = os.path.join(split, json.loads(line)["label"])
    im = Image.open(path)
    rgb = np.asarray(im.convert("RGB")).astype(int) + np.random.default_rng(0).integers(-4, 5, (32, 64, 3))
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path)
PY
"$cli" eval l2i --data "$out/world_rgb" --model "$out/model" --count 2 --steps 2 --seed 5 --out "$out/l2i_rgb.json" \
  >/dev/null || fail "eval l2i on colour-coded labels"
/usr/bin/python3 -c "
import json
a, b = (json.load(open('$out/' + n)) for n in ('l2i.json', 'l2i_rgb.json'))
strip = lambda r: {k: v for k, v in r.items() if k not in ('seconds', 'data')}
assert strip(a) == strip(b), 'colour-coded labels gave other numbers'" || fail "colour-coded labels"
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
# Outputs are checked before any model is loaded: the folder without clip.safetensors fails later.
mkdir -p "$out/adir"
"$cli" eval t2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 --out "$out/adir" 2>"$out/err"
[ $? -eq 1 ] && grep -q "adir is a folder" "$out/err" || fail "--out a folder, before the models: $(cat "$out/err")"
"$cli" eval t2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 --images "$out/t2i.json" 2>"$out/err"
[ $? -eq 1 ] && grep -q "t2i.json: cannot create the folder" "$out/err" || fail "--images a file: $(cat "$out/err")"
"$cli" eval t2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 --out "$out/nowhere/r.json" 2>"$out/err"
[ $? -eq 1 ] && grep -q "nowhere does not exist" "$out/err" || fail "--out in a missing folder: $(cat "$out/err")"
rm "$out/noclip/controlnet_aldm.safetensors"
"$cli" eval l2i --data "$out/world" --model "$out/noclip" --count 1 --steps 1 2>"$out/err"
[ $? -eq 1 ] && grep -q "ControlNet" "$out/err" || fail "l2i without a ControlNet: $(cat "$out/err")"
echo "ok: eval"
