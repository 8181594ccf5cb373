#!/bin/sh
# dirigent-cli generate end to end on the tiny complete model of tests/pipeline: layout-to-image from a
# world label map, the PNG's parameters and JSON chunks, the same seed giving the same file, and clear
# errors (exit 1 or 2) for bad input.
cli="$1" model="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$cli" world sample --seed 3 --width 64 --height 32 --out "$out" >/dev/null || fail "world sample"
gen() { "$cli" generate --model "$model" --prompt "a red car on a street at night" --steps 3 --seed 11 "$@"; }
gen --layout "$out/world-3-label.png" --out "$out/a.png" || fail "generate with a layout"
gen --layout "$out/world-3-label.png" --out "$out/b.png" --profile >"$out/profile" || fail "generate again, profiled"
cmp -s "$out/a.png" "$out/b.png" || fail "same seed and settings gave different files (profiling on in one)"
grep -Eq '^  conv2d +[0-9.]+ ms' "$out/profile" && grep -q '^peak resident memory: [0-9.]* MiB' "$out/profile" ||
  fail "--profile printed no per-op times or peak memory: $(cat "$out/profile")"
/usr/bin/python3 - "$out/a.png" <<'PY' || fail "PNG chunks"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.size == (64, 32), im.size
p = im.text["parameters"]
assert p.startswith("a red car on a street at night\nNegative prompt: \nSteps: 3, Sampler: DDIM, CFG scale: 7.5, Seed: 11,"), p
job = json.loads(im.text["dirigent"])
assert job["seed"] == "11" and job["steps"] == 3 and job["layout"].endswith("world-3-label.png"), job
print("chunks ok:", p.replace("\n", " | "))
PY
"$cli" generate --model "$model" --prompt x --steps 0 --out "$out/x.png" 2>"$out/err"; [ $? -eq 2 ] || fail "--steps 0 not refused"
"$cli" generate --model "$model" --prompt x --layout "$out/world-3.png" --out "$out/x.png" 2>"$out/err"
[ $? -eq 1 ] && grep -q "not in the palette" "$out/err" || fail "an RGB photo as layout: $(cat "$out/err")"
# A prompt longer than the text encoder reads: generated, and told what was left out.
long="a cinematic photograph of a lonely vintage automobile beside a rain-soaked cobblestone boulevard, neon reflections, \
volumetric fog, highly detailed, a red car at night"
"$cli" generate --model "$model" --prompt "$long" --steps 1 --out "$out/long.png" --quiet 2>"$out/err" ||
  fail "a long prompt: $(cat "$out/err")"
grep -q 'generate: the prompt is [0-9]* tokens and the text encoder reads the first 75; left out: ".*a red car at night"' \
  "$out/err" || fail "a long prompt's note: $(cat "$out/err")"
"$cli" generate --model /nonexistent --prompt x --out "$out/x.png" 2>"$out/err"
[ $? -eq 1 ] && grep -q "/nonexistent" "$out/err" || fail "missing model: $(cat "$out/err")"
[ ! -e "$out/x.png" ] || fail "a failed run left an output file"
echo "ok: generate"
