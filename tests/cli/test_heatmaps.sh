#!/bin/sh
# dirigent-cli generate with marked words and --heatmaps on the tiny complete model of tests/pipeline:
# the marks in both PNG chunks, a strip of one tile per marked word whose tiles differ (each word its own
# map) and show a map over the image, the capture leaving the image bit for bit, the suggestion, errors
# naming the word or the token limit, and --guidance with its marks (given or suggested) and refusals.
cli="$1" model="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
prompt="a red car and a blue car by the tree"
gen() { "$cli" generate --model "$model" --prompt "$prompt" --steps 3 --seed 5 --width 64 --height 32 "$@"; }
gen --out "$out/plain.png" >/dev/null || fail "plain generate"
gen --out "$out/heat.png" --heatmaps "$out/strip0.png" >"$out/log0" || fail "generate with heatmaps of the suggestion"
cmp -s "$out/plain.png" "$out/heat.png" || fail "capturing the maps changed the image"
grep -q "1 red 2 car 3 blue 4 car#2 5 tree" "$out/log0" || fail "suggested tiles: $(cat "$out/log0")"
gen --out "$out/marked.png" --bind red:car --object car#2 --heatmaps "$out/strip.png" >"$out/log" ||
  fail "generate with marks: $(cat "$out/log")"
grep -q "(3 tiles of 64x32, .* averaged over 3 steps): 1 red 2 car 3 car#2" "$out/log" || fail "tiles: $(cat "$out/log")"
/usr/bin/python3 - "$out/marked.png" "$out/strip.png" <<'PY' || fail "marks chunks or strip"
import json, sys
import numpy as np
from PIL import Image
im = Image.open(sys.argv[1])
assert 'Marks: "red:car, car#2"' in im.text["parameters"], im.text["parameters"]
assert json.loads(im.text["dirigent"])["marks"] == "red:car, car#2"
strip = np.asarray(Image.open(sys.argv[2]).convert("RGB"), dtype=np.float64)
assert strip.shape == (32, 192, 3), strip.shape
tiles = [strip[:, 64 * i:64 * (i + 1)] for i in range(3)]
img = np.asarray(im.convert("RGB"), dtype=np.float64)
for i, t in enumerate(tiles):
    assert np.abs(t - img).mean() > 5, f"tile {i} shows no map over the image"
    assert t.std() > 5, f"tile {i} is flat"
d01, d12 = np.abs(tiles[0] - tiles[1]).mean(), np.abs(tiles[1] - tiles[2]).mean()
assert d01 > 1 and d12 > 1, (d01, d12)
print(f"strip ok: tiles differ by {d01:.1f}, {d12:.1f} levels")
PY
"$cli" generate --prompt "$prompt" --suggest-marks >"$out/suggest" || fail "--suggest-marks"
grep -q "^marks: red:car, blue:car#2, tree$" "$out/suggest" && grep -q "^flags: --bind red:car --bind blue:car#2 --object tree$" "$out/suggest" ||
  fail "suggestion: $(cat "$out/suggest")"
gen --out "$out/x.png" --object boat 2>"$out/err"
[ $? -eq 1 ] && grep -q "'boat' is not in the prompt" "$out/err" || fail "absent word: $(cat "$out/err")"
gen --out "$out/x.png" --bind red 2>"$out/err"
[ $? -eq 2 ] && grep -q "ATTR:OBJECT" "$out/err" || fail "--bind without an object: $(cat "$out/err")"
# past 16 tokens (the capture once took at most 16): one tile per word of a long prompt
"$cli" generate --model "$model" --prompt "a car a car a car a car a car a car a car a car a car" --object car --steps 1 --width 64 --height 32 --out "$out/long.png" \
  --heatmaps "$out/long_s.png" >"$out/long_log" 2>"$out/err" || fail "a long prompt: $(cat "$out/err")"
[ -s "$out/long_s.png" ] || fail "a long prompt wrote no heatmap strip"
# --guidance: passed with the marks (the update count is the algorithm's; only the line is checked), in
# both PNG chunks; without marks the suggestion is used and printed; none suggested, or a bad name, is
# refused.
gen --out "$out/guided.png" --guidance divide-bind --bind red:car --object tree >"$out/glog" ||
  fail "generate with --guidance: $(cat "$out/glog")"
grep -q "^guidance divide-bind: [0-9]* updates ([0-9]* refinement), [0-9.]* s$" "$out/glog" || fail "stats: $(cat "$out/glog")"
/usr/bin/python3 - "$out/guided.png" "$out/plain.png" <<'PY' || fail "guidance chunks"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.text["parameters"].endswith(', Marks: "red:car, tree", Guidance: divide-bind'), im.text["parameters"]
assert json.loads(im.text["dirigent"])["guidance"] == "divide-bind"
plain = Image.open(sys.argv[2])
assert "Guidance" not in plain.text["parameters"], plain.text["parameters"]
assert json.loads(plain.text["dirigent"])["guidance"] == "none"
PY
gen --out "$out/suggested.png" --guidance attend-excite >"$out/glog" || fail "--guidance without marks: $(cat "$out/glog")"
grep -q "^guidance attend-excite: marked the suggested words: red:car, blue:car#2, tree$" "$out/glog" ||
  fail "the suggestion used: $(cat "$out/glog")"
"$cli" generate --model "$model" --prompt "something quiet" --steps 1 --width 64 --height 32 --guidance divide-bind \
  --out "$out/x.png" 2>"$out/err"
[ $? -eq 1 ] && grep -q -- "--guidance divide-bind needs at least one marked object: --object WORD" "$out/err" ||
  fail "nothing to mark: $(cat "$out/err")"
gen --out "$out/x.png" --guidance sideways 2>"$out/err"
[ $? -eq 2 ] && grep -q -- "--guidance sideways: expected none, attend-excite or divide-bind" "$out/err" ||
  fail "bad --guidance: $(cat "$out/err")"
[ ! -e "$out/x.png" ] || fail "a refused run left an output file"
echo "ok: heatmaps"
