#!/bin/sh
# dirigent-cli live --replay on the tiny complete model of tests/pipeline: a short session (a random layout,
# strokes by class id and name, typing, marks, an undo, the layout strength) replayed in live mode: frames and the full render
# written, frames.jsonl and summary.json consistent (no edit lost, the last state rendered, latencies
# recorded), the full render equal to a fresh `generate` of the final state; a bad line refused naming it.
cli="$1" model="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
cat >"$out/session.jsonl" <<'JSONL'
{"t": 0, "op": "canvas", "width": 64, "height": 32}
{"t": 0, "op": "seed", "value": 7}
{"t": 0, "op": "random-layout", "seed": 5}
{"t": 100, "op": "steps", "value": 4}
{"t": 400, "op": "stroke", "class": 9, "radius": 2, "points": [[10, 26], [20, 26]]}
{"t": 700, "op": "prompt", "text": "a"}
{"t": 800, "op": "prompt", "text": "a red"}
{"t": 900, "op": "prompt", "text": "a red car"}
{"t": 1200, "op": "marks", "text": "red:car"}
{"t": 1500, "op": "stroke", "class": "tree", "radius": 3, "points": [[50, 5], [50, 20]]}
{"t": 1600, "op": "rect", "x0": 0, "y0": 0, "x1": 5, "y1": 5, "class": "sky"}
{"t": 1700, "op": "undo"}
{"t": 1800, "op": "control-scale", "value": 1.5}
JSONL
"$cli" live --model "$model" --replay "$out/session.jsonl" --out "$out/replay" --steps 2 >"$out/summary" 2>"$out/log" ||
  fail "replay: $(cat "$out/log")"
/usr/bin/python3 - "$out/replay" <<'PY' || fail "outputs"
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json")))
frames = [json.loads(l) for l in open(os.path.join(d, "frames.jsonl"))]
assert s["edits"] == 12 and s["lost_edits"] == 0 and s["last_state_rendered"], s
assert s["frames"] >= 1 and s["full_renders"] >= 1 and s["failed_jobs"] == 0, s
assert s["frame_steps"] == 2 and s["edit_latency_ms"]["count"] == 12, s
assert s["frame_decoder"] == "vae", s  # the tiny model has no tiny decoder: live frames fall back to the VAE's
assert len(frames) == s["frames"] + s["full_renders"] + (1 if s["first_frame_ms"] else 0), (len(frames), s)
for f in frames:
    assert os.path.exists(os.path.join(d, f["file"])), f
    assert f["latency_ms"] > 0 and f["job_ms"] > 0 and f["steps"] == (2 if f["kind"] == "frame" else 4), f
    assert f["cfg"] == (1 if f["kind"] == "frame" else 7.5), f
    # the layout strength (1.5 from edit 11 on); a live frame's scale is DG_SETTINGS_LIVE_CONTROL_SCALE (2) times it
    strength = 1.5 if f["edit"] >= 11 else 1
    assert f["control_scale"] == (2 * strength if f["kind"] == "frame" else strength), f
last = frames[-1]
assert last["kind"] == "full" and last["edit"] == 11 and last["edits_included"] == 12, last
assert s["final"]["prompt"] == "a red car" and s["final"]["seed"] == 7 and s["final"]["steps"] == 4, s["final"]
assert s["final"]["control_scale"] == 1.5 and s["frame_control_scale"] == 2, s
assert s["text_encodings"]["reused"] > 0 and s["hints"]["reused"] >= 0, s
open(os.path.join(d, "last"), "w").write(last["file"])
print(f"{len(frames)} images, {s['cancelled_jobs']} jobs cancelled, latency median {s['frame_latency_ms']['median']} ms")
PY
"$cli" generate --model "$model" --layout "$out/replay/layout.png" --prompt "a red car" --seed 7 --steps 4 \
  --cfg 7.5 --control-scale 1.5 --width 64 --height 32 --out "$out/fresh.png" >/dev/null 2>"$out/gen.log" || fail "fresh: $(cat "$out/gen.log")"
/usr/bin/python3 - "$out/fresh.png" "$out/replay/$(cat "$out/replay/last")" <<'PY' || fail "the full render is not the fresh render"
import sys
import numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in sys.argv[1:3])
assert a.shape == b.shape and np.abs(a - b).max() == 0, np.abs(a - b).max()
PY
# A bad line: refused before anything runs, naming the file and line.
printf '{"t": 0, "op": "prompt", "text": "x"}\n{"t": 10, "op": "stroke", "class": 9}\n' >"$out/bad1.jsonl"
printf '{"t": 0, "op": "prompt", "text": "x"}\n\n{"t": 5, oops\n' >"$out/bad2.jsonl"
printf '{"t": 50, "op": "undo"}\n{"t": 10, "op": "undo"}\n' >"$out/bad3.jsonl"
printf '{"t": 0, "op": "paint"}\n' >"$out/bad4.jsonl"
for c in "bad1.jsonl:2: stroke needs" "bad2.jsonl:3:" "bad3.jsonl:2: \"t\" must be" "bad4.jsonl:1: unknown \"op\" 'paint'"; do
  f=${c%%:*}
  "$cli" live --model "$model" --replay "$out/$f" --out "$out/bad" 2>"$out/err" >/dev/null
  [ $? -eq 1 ] && grep -qF "$c" "$out/err" || fail "$f: $(cat "$out/err")"
done
"$cli" live --replay "$out/session.jsonl" 2>"$out/err" >/dev/null
[ $? -eq 2 ] || fail "no --out: $(cat "$out/err")"
# --decoder: a bad value refused; tiny on a model without a tiny decoder is an error for generate, not for live
"$cli" live --model "$model" --replay "$out/session.jsonl" --out "$out/bad" --decoder fast 2>"$out/err" >/dev/null
[ $? -eq 2 ] || fail "--decoder fast: $(cat "$out/err")"
"$cli" generate --model "$model" --prompt "a red car" --seed 7 --steps 1 --width 64 --height 32 --decoder tiny \
  --out "$out/tiny.png" >/dev/null 2>"$out/err"
[ $? -ne 0 ] && grep -qF "has no tiny decoder (tiny_decoder.safetensors)" "$out/err" && [ ! -e "$out/tiny.png" ] ||
  fail "generate --decoder tiny without one: $(cat "$out/err")"
echo ok
