#!/bin/sh
# `video generate` on the tiny model with the tiny video UNet (tests/pipeline): a GIF of the asked frames
# with the job JSON inside, the temporal attention picture, a PNG sequence, the same seed giving the same
# frames, and bad requests refused naming the value.
cli="$1" pipe="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
gen() { "$cli" video generate --model "$pipe/tiny_model" --video-unet "$pipe/tiny_video_unet.safetensors" \
  --width 64 --height 32 --steps 2 --seed 5 "$@"; }

gen --stage "0:a red car" --stage "5:a blue car" --frames 6 --attention "$out/att.png" --out "$out/c.gif" \
  >"$out/msg" 2>"$out/err" || fail "generate gif: $(cat "$out/err")"
grep -q "generated 6 frames of 64x32" "$out/msg" || fail "message: $(cat "$out/msg")"
grep -q "wrote $out/c.gif: 6 frames, 64x32, 8 fps, gif" "$out/msg" || fail "export message: $(cat "$out/msg")"
/usr/bin/python3 - "$out/c.gif" "$out/att.png" <<'PY' || fail "c.gif or att.png"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.n_frames == 6 and im.size == (64, 32), (im.n_frames, im.size)
job = json.loads(im.info["comment"])
assert job["task"] == "video" and job["frames"] == 6 and job["stages"][1] == {"frame": 5, "prompt": "a blue car"}, job
att = Image.open(sys.argv[2]).convert("L")
assert att.size == (6 * 42, 6 * 42), att.size
rows = [max(att.getpixel((j * 42, i * 42)) for j in range(6)) for i in range(6)]
assert all(r == 255 for r in rows), rows  # every row scaled to its maximum
PY
gen --stage "a red car" --stage "a blue car" --frames 4 --vsp same --tar none --out "$out/a/" >"$out/msg" 2>&1 ||
  fail "png sequence: $(cat "$out/msg")"
gen --stage "a red car" --stage "a blue car" --frames 4 --vsp same --tar none --out "$out/b/" >"$out/msg" 2>&1 ||
  fail "png sequence again: $(cat "$out/msg")"
[ "$(ls "$out/a" | wc -l)" -eq 4 ] || fail "png files: $(ls "$out/a")"
/usr/bin/python3 - "$out/a" "$out/b" <<'PY' || fail "the same seed gave other frames"
import os, sys
from PIL import Image
for n in sorted(os.listdir(sys.argv[1])):
    a, b = (Image.open(os.path.join(d, n)).convert("RGB").tobytes() for d in sys.argv[1:3])
    assert a == b, n
PY
expect() { # expect WHAT NEEDLE ARGS...: a failure whose message names NEEDLE
  what="$1" needle="$2"; shift 2
  gen "$@" --out "$out/bad.gif" >"$out/msg" 2>&1 && fail "$what: accepted"
  grep -q -- "$needle" "$out/msg" || fail "$what: message does not name '$needle': $(cat "$out/msg")"
  [ ! -e "$out/bad.gif" ] || fail "$what: left a file"
}
# Stages in any order are taken by frame: the same frames as in frame order.
gen --stage "3:a blue car" --stage "0:a red car" --frames 4 --vsp same --tar none --out "$out/c/" >"$out/msg" 2>&1 ||
  fail "stages out of order: $(cat "$out/msg")"
gen --stage "0:a red car" --stage "3:a blue car" --frames 4 --vsp same --tar none --out "$out/d/" >"$out/msg" 2>&1 ||
  fail "stages in order: $(cat "$out/msg")"
/usr/bin/python3 - "$out/c" "$out/d" <<'PY' || fail "stages out of order gave other frames"
import os, sys
from PIL import Image
for n in sorted(os.listdir(sys.argv[1])):
    a, b = (Image.open(os.path.join(d, n)).convert("RGB").tobytes() for d in sys.argv[1:3])
    assert a == b, n
PY
expect "stage past the last frame" "frame 9" --stage "9:a car" --frames 6
expect "two stages at one frame" "does not follow stage 0 at frame 2" --stage "2:a car" --stage "2:a boat" --frames 6
expect "placed and unplaced stages" "either every stage has a frame or none has" --stage "2:a car" --stage "a boat"
expect "frames" "--frames '1'" --stage "a car" --frames 1
expect "vsp" "--vsp 'sideways'" --stage "a car" --vsp sideways
expect "tar" "--tar '16x1'" --stage "a car" --tar 16x1
expect "tar width" "latent width 7" --stage "a car" --frames 4 --tar 7D1
"$cli" video generate --model "$pipe/tiny_model" --stage "a car" --frames 4 --width 64 --height 32 --steps 1 \
  --out "$out/none.gif" >"$out/msg" 2>&1 && fail "no video UNet: accepted"
grep -q "no video UNet" "$out/msg" || fail "no video UNet: $(cat "$out/msg")"
# The shipped default model folder: the video UNet's temporal layers read over the shipped image UNet.
"$cli" video generate --stage "0:a street at day" --stage "1:a street at night" --frames 2 --width 64 --height 32 \
  --steps 1 --out "$out/default.gif" >"$out/msg" 2>&1 || fail "the default model: $(cat "$out/msg")"
grep -q "generated 2 frames of 64x32" "$out/msg" || fail "the default model's message: $(cat "$out/msg")"
echo "cli video generate: ok"
