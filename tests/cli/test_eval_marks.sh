#!/bin/sh
# dirigent-cli eval marks end to end on tiny models: the generator of tests/pipeline/tiny_model with the
# random evaluation segmenter and text-image model of tests/golden/eval, one colour prompt, one seed, two
# modes, 2 steps at 64x32 (a 2-sample world dataset gives the size and the colour centroids). Checks the
# JSON report's keys and ranges, the saved images and sample grid, a rerun's numbers, and that bad arguments are refused.
cli="$1" tiny="$2" golden="$3" out="$4"
rm -rf "$out" && mkdir -p "$out/model" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for f in "$tiny"/*; do ln -s "$f" "$out/model/" || exit 1; done
ln -s "$golden/segmenter_weights.safetensors" "$out/model/eval_segmenter.safetensors"
ln -s "$golden/segmenter_weights.json" "$out/model/eval_segmenter.json"
ln -s "$golden/clip_weights.safetensors" "$out/model/clip.safetensors"
ln -s "$golden/clip_weights.json" "$out/model/clip.json"
"$cli" world dataset --split test --count 2 --width 64 --height 32 --out "$out/world/test" >/dev/null || fail "world dataset"
ev() { "$cli" eval marks --data "$out/world" --model "$out/model" --set colour --count 1 --seeds 1 --steps 2 \
  --modes none,divide-bind --seed 3 "$@"; }
ev --out "$out/marks.json" --images "$out/img" --grid "$out/grid.png" > "$out/marks.txt" || fail "eval marks: $(cat "$out/marks.txt")"
ev --out "$out/again.json" > /dev/null || fail "eval marks again"
grep -q "set colour: 1 prompts x 1 seeds" "$out/marks.txt" && grep -q "car colours bound" "$out/marks.txt" &&
  grep -q "vs none" "$out/marks.txt" || fail "table: $(cat "$out/marks.txt")"
/usr/bin/python3 - "$out" <<'PY' || fail "report"
import json, os, sys
from PIL import Image
out = sys.argv[1]
r, again = (json.load(open(os.path.join(out, n))) for n in ("marks.json", "again.json"))
for k in ("task", "model", "sampler", "steps", "cfg", "seed", "seeds", "count", "width", "height", "modes",
          "present_share", "present_pixels", "bootstrap", "seconds", "sets"):
    assert k in r, k
assert r["task"] == "marks" and r["steps"] == 2 and r["seeds"] == 1 and r["count"] == 1 and r["seed"] == "3", r
assert r["modes"] == ["none", "divide-bind"] and list(r["sets"]) == ["colour"], r
assert r["bootstrap"] == {"resamples": 1000, "seed": 18, "level": 0.95}, r["bootstrap"]
s = r["sets"]["colour"]
assert s["prompts"] == 1 and s["images"] == 2 and len(s["per_prompt"]) == 1
keys = ("object_present", "all_present", "colour_bound", "colour_found", "clip_prompt", "clip_min_object", "seconds",
        "guidance_updates", "guidance_seconds")
for mode, m in s["modes"].items():
    assert m["steps"] == 2
    for k in keys:
        v = m[k]
        assert set(v) >= {"mean", "lo", "hi", "prompts"}, (mode, k, v)
        assert v["lo"] <= v["mean"] <= v["hi"], (mode, k, v)
        assert ("vs_none" in v) == (mode != "none"), (mode, k)
    for k in ("object_present", "all_present", "colour_bound", "colour_found"):
        assert 0 <= m[k]["mean"] <= 1
    assert -1 <= m["clip_prompt"]["mean"] <= 1 and m["seconds"]["mean"] > 0
p = s["per_prompt"][0]
assert p["prompt"] == "a yellow car next to a white building" and p["marks"] == "yellow:car, white:building", p
assert [o["class"] for o in p["objects"]] == ["car", "building"], p["objects"]
assert [(i["seed"], i["mode"]) for i in p["images"]] == [("3", "none"), ("3", "divide-bind")], p["images"]
for i in p["images"]:
    assert len(i["present"]) == 2 and len(i["pixels"]) == 2 and isinstance(i["all_present"], bool)
    assert isinstance(i["colour_bound"], bool) and isinstance(i["colour_found"], bool) and i["clip_min_object"] <= 1, i
strip = lambda x: x if not isinstance(x, dict) else {k: strip(v) for k, v in x.items() if "seconds" not in k}
strip_all = lambda r: {**strip(r), "sets": {n: {**strip(v), "per_prompt": [{**q, "images": [strip(i) for i in q["images"]]}
                       for q in v["per_prompt"]]} for n, v in r["sets"].items()}}
assert strip_all(r) == strip_all(again), "a rerun gave other numbers"
for n in ("colour-000-s3-none.png", "colour-000-s3-divide-bind.png"):
    assert Image.open(os.path.join(out, "img", n)).size == (64, 32), n
grid = Image.open(os.path.join(out, "grid.png")).convert("RGB")
assert grid.size == (2 * 64 + 4, 32), grid.size  # one prompt, two modes, 4 pixels apart
assert grid.crop((0, 0, 64, 32)).tobytes() == Image.open(os.path.join(out, "img", "colour-000-s3-none.png")).convert("RGB").tobytes()
print("report ok: colour set, clip %.4f, all present %.2f" % (s["modes"]["none"]["clip_prompt"]["mean"],
      s["modes"]["none"]["all_present"]["mean"]))
PY
# --resume: a run of 1 prompt, resumed to 2, gives the report (and grid) of one run of 2 prompts.
ev --out "$out/res.json" --images "$out/resimg" --grid "$out/resgrid.png" > /dev/null || fail "resume: first part"
ev --count 2 --out "$out/res.json" --resume --images "$out/resimg" --grid "$out/resgrid.png" > "$out/res.txt" 2>&1 ||
  fail "resume: $(cat "$out/res.txt")"
grep -q "2 of 4 images in" "$out/res.txt" || fail "resume did not read the report: $(cat "$out/res.txt")"
ev --count 2 --out "$out/whole.json" --images "$out/wholeimg" --grid "$out/wholegrid.png" > /dev/null || fail "2 prompts"
cmp -s "$out/resgrid.png" "$out/wholegrid.png" || fail "resumed grid differs"
/usr/bin/python3 - "$out" <<'PY' || fail "resumed report"
import json, os, sys
out = sys.argv[1]
strip = lambda x: {k: strip(v) for k, v in x.items() if "seconds" not in k} if isinstance(x, dict) else \
    [strip(v) for v in x] if isinstance(x, list) else x
a, b = (json.load(open(os.path.join(out, n))) for n in ("res.json", "whole.json"))
assert a["sets"]["colour"]["prompts"] == 2 and strip(a) == strip(b), "resumed report differs from one run"
PY
cp "$out/res.json" "$out/res_before.json"
ev --count 2 --seeds 2 --out "$out/res.json" --resume > "$out/err" 2>&1; [ $? -eq 1 ] && grep -q "seeds" "$out/err" ||
  fail "resume with other seeds: $(cat "$out/err")"
ev --count 2 --set multi --out "$out/res.json" --resume > "$out/err" 2>&1; [ $? -eq 1 ] && grep -q "holds set colour" "$out/err" ||
  fail "resume with another set: $(cat "$out/err")"
cmp -s "$out/res.json" "$out/res_before.json" || fail "a refused resume changed the report"
printf '{"task": "marks", "sets": {' > "$out/cut.json" # a report cut short, and another command's report
printf '{"task": "video", "settings": {}}' > "$out/video.json"
for f in cut video; do
  cp "$out/$f.json" "$out/$f.before"
  ev --out "$out/$f.json" --resume > "$out/err" 2>&1; [ $? -eq 1 ] && grep -q "$f.json" "$out/err" ||
    fail "resume from $f.json: $(cat "$out/err")"
  cmp -s "$out/$f.json" "$out/$f.before" || fail "a refused resume changed $f.json"
done
# Bad arguments: exit 2, before any model is loaded.
"$cli" eval marks --resume 2>"$out/err"; [ $? -eq 2 ] && grep -q -- "--out" "$out/err" || fail "--resume without --out"
"$cli" eval marks --resume --out "$out/x.json" --grid "$out/g.png" 2>"$out/err"; [ $? -eq 2 ] || fail "--resume --grid without --images"
"$cli" eval marks --set colours 2>"$out/err"; [ $? -eq 2 ] && grep -q "colours" "$out/err" || fail "unknown set"
"$cli" eval marks --modes none,excite 2>"$out/err"; [ $? -eq 2 ] && grep -q "excite" "$out/err" || fail "unknown mode"
"$cli" eval marks --count 121 2>"$out/err"; [ $? -eq 2 ] || fail "--count past the set"
"$cli" eval marks --data "$out/nowhere" --model "$out/model" 2>"$out/err"
[ $? -eq 1 ] && grep -q "nowhere/test/index.jsonl" "$out/err" || fail "missing dataset: $(cat "$out/err")"
echo "ok: eval marks"
