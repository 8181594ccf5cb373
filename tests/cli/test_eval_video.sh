#!/bin/sh
# dirigent-cli eval video end to end on tiny models: the generator of tests/pipeline/tiny_model with its tiny
# video UNet and the random evaluation segmenter and text-image model of tests/golden/eval, on a 2-clip world
# video dataset at 64x32. Checks the report's structure and ranges (the real clips measured when the frame
# count matches, the stages scaled when it does not), the frame grids, and bad requests refused naming the value.
cli="$1" pipe="$2" golden="$3" out="$4"
rm -rf "$out" && mkdir -p "$out/model" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for f in "$pipe"/tiny_model/*; do ln -s "$f" "$out/model/" || exit 1; done
ln -s "$pipe/tiny_video_unet.safetensors" "$out/model/video_unet.safetensors"
ln -s "$golden/segmenter_weights.safetensors" "$out/model/eval_segmenter.safetensors"
ln -s "$golden/segmenter_weights.json" "$out/model/eval_segmenter.json"
ln -s "$golden/clip_weights.safetensors" "$out/model/clip.safetensors"
ln -s "$golden/clip_weights.json" "$out/model/clip.json"
"$cli" world dataset --split test --count 2 --video --frames 6 --width 64 --height 32 --threads 1 \
  --out "$out/data" >/dev/null || fail "world dataset"
ev() { "$cli" eval video --data "$out/data" --model "$out/model" --steps 2 --seed 3 "$@"; }
ev --count 2 --frames 6 --report "$out/r6.json" --frames-out "$out/grids" >"$out/r6.txt" 2>&1 ||
  fail "eval video: $(cat "$out/r6.txt")"
grep -q "stage accuracy" "$out/r6.txt" && grep -q "attention mass" "$out/r6.txt" && grep -q "vs base" "$out/r6.txt" ||
  fail "table: $(cat "$out/r6.txt")"
ev --count 1 --frames 9 --variant vstar,base --report "$out/r9.json" >"$out/r9.txt" 2>&1 ||
  fail "eval video, 9 frames: $(cat "$out/r9.txt")"
/usr/bin/python3 - "$out" <<'PY' || fail "reports"
import json, os, sys
from PIL import Image
out = sys.argv[1]
index = [json.loads(l) for l in open(os.path.join(out, "data", "index.jsonl"))]
def check(name, frames, variants, real):
    r = json.load(open(os.path.join(out, name)))
    assert r["task"] == "video" and r["settings"]["frames"] == frames, r["settings"]
    assert r["settings"]["variants"] == variants and r["settings"]["steps"] == 2, r["settings"]
    assert len(r["timelines"]) == r["timelines_done"] == r["settings"]["count"]
    groups = (["real"] if real else []) + variants
    assert sorted(r["summary"]) == sorted(groups), list(r["summary"])
    ranges = {"stage_acc": (0, 1), "transition_err": (0, frames), "transition_width": (1, frames), "clip_cos": (-1, 1), "l1": (0, 255),
              "layout_miou": (0, 1), "band_mass": (0, 1), "seconds": (0, 1e4)}
    for i, t in enumerate(r["timelines"]):
        src = index[i]
        assert t["id"] == src["id"] and t["seed"] == 3 + i and t["caption"] == src["caption"], t
        assert [s["text"] for s in t["stages"]] == [s["text"] for s in src["stages"]]
        for s, g in zip(t["stages"], src["stages"]):  # scaled spans: start * F // 6, (end + 1) * F // 6 - 1
            assert s["start"] == g["start"] * frames // 6 and s["end"] == (g["end"] + 1) * frames // 6 - 1, (s, g)
        assert ("real" in t) == real
        for g in groups:
            c = t[g]
            assert len(c["judged_stages"]) == frames and all(0 <= k < len(t["stages"]) for k in c["judged_stages"])
            for key, (lo, hi) in ranges.items():
                v = c[key]
                if key == "transition_width" and v is None:  # also undefined when no stage change shows
                    continue
                undefined = (key in ("stage_acc", "transition_err", "transition_width") and len(t["stages"]) < 2) or \
                    (g == "real" and key in ("band_mass", "seconds"))
                assert (v is None) if undefined else (lo <= v <= hi), (g, key, v)
    for g in groups:
        for key, s in r["summary"][g].items():
            if key == "vs_base":
                continue
            assert s["n"] == 0 or s["lo"] <= s["mean"] <= s["hi"], (g, key, s)
    for g in variants:
        if g != "base":
            assert "vs_base" in r["summary"][g] if "base" in variants else "vs_base" not in r["summary"][g]
    return r
check("r6.json", 6, ["base", "vsp", "tar", "vstar"], True)
r9 = check("r9.json", 9, ["vstar", "base"], False)
for e in index:
    for v in ("base", "vsp", "tar", "vstar"):
        im = Image.open(os.path.join(out, "grids", f"{e['id']}_{v}.png"))
        assert im.size == (6 * 64, 32), im.size
PY
expect() { # expect WHAT NEEDLE ARGS...: a failure whose message names NEEDLE
  what="$1" needle="$2"; shift 2
  ev "$@" >"$out/msg" 2>&1 && fail "$what: accepted"
  grep -q -- "$needle" "$out/msg" || fail "$what: message does not name '$needle': $(cat "$out/msg")"
}
expect "variant" "--variant 'sideways'" --count 1 --variant base,sideways
expect "variant twice" "--variant 'tar'" --count 1 --variant tar --variant tar
expect "frames" "--frames '1'" --count 1 --frames 1
expect "count" "--count '0'" --count 0
expect "too few timelines" "fewer than --count 5" --count 5
expect "empty data" "--data ''" --count 1 --data ""
"$cli" eval video --count 1 >"$out/msg" 2>&1 && fail "no --data: accepted"
grep -q -- "--data DIR and --count N are required" "$out/msg" || fail "no --data: $(cat "$out/msg")"
expect "sampler" "--sampler 'plms'" --count 1 --sampler plms
"$cli" eval video --data "$out/model" --count 1 >"$out/msg" 2>&1 && fail "no index: accepted"
grep -q "index.jsonl" "$out/msg" || fail "no index: $(cat "$out/msg")"
expect "report folder" "$out/none/r.json" --count 1 --report "$out/none/r.json"
# --resume: a run stopped after one timeline goes on to the second; the result is the one-go run's (r6.json).
ev --count 1 --frames 6 --report "$out/res.json" --resume >"$out/res1.txt" 2>&1 || fail "resume, start: $(cat "$out/res1.txt")"
ev --count 2 --frames 6 --report "$out/res.json" --resume >"$out/res2.txt" 2>&1 || fail "resume: $(cat "$out/res2.txt")"
grep -q "1 of 2 timelines in .*res.json, going on" "$out/res2.txt" || fail "resume: $(cat "$out/res2.txt")"
/usr/bin/python3 - "$out" <<'PY' || fail "resumed report"
import json, os, sys
out = sys.argv[1]
a, b = (json.load(open(os.path.join(out, n))) for n in ("r6.json", "res.json"))
assert b["timelines_done"] == 2 and len(b["timelines"]) == 2, b["timelines_done"]
for ta, tb in zip(a["timelines"], b["timelines"]):
    assert ta["id"] == tb["id"] and ta["seed"] == tb["seed"]
    for g in ("real", "base", "vsp", "tar", "vstar"):
        for k, v in ta[g].items():
            if k != "seconds":
                assert (v is None and tb[g][k] is None) or v == tb[g][k] or abs(v - tb[g][k]) < 1e-6, (tb["id"], g, k, v, tb[g][k])
PY
cp "$out/res.json" "$out/res.keep"
expect "resume, other frames" "the frame count (frames) differs" --count 2 --frames 9 --report "$out/res.json" --resume
expect "resume, other variants" "the variants" --count 2 --frames 6 --variant base --report "$out/res.json" --resume
expect "resume, count below" "more than --count 1" --count 1 --frames 6 --report "$out/res.json" --resume
cmp -s "$out/res.json" "$out/res.keep" || fail "a refused resume changed the report"
echo '{"task": "video", "settings": [' >"$out/bad.json"
expect "resume, broken report" "bad.json" --count 1 --report "$out/bad.json" --resume
expect "resume without report" "--resume" --count 1 --resume
echo "cli eval video: ok"
