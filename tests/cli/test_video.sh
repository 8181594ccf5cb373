#!/bin/sh
# `world clip` and `video export` (app/video): every format written with progress on stderr and the job
# JSON inside, a PNG folder exported again, Ctrl+C leaving no file, and bad inputs refused by name. The
# decoded content is checked by tests/video/test_video_export.
cli="$1" out="$2" # $3: the libav module, which the CLI finds beside libdirigent by itself
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
clip() { "$cli" world clip --seed 6 --frames 8 "$@"; }

for f in mp4 webm gif; do
  clip --kind season --out "$out/c.$f" >"$out/msg" 2>"$out/err" || fail "world clip .$f: $(cat "$out/err")"
  grep -q "wrote $out/c.$f: 8 frames, 256x128, 8 fps, $f" "$out/msg" || fail "clip .$f message: $(cat "$out/msg")"
  grep -q "clip 6 (season): .* from summer to winter" "$out/msg" || fail "clip .$f kind: $(cat "$out/msg")"
  grep -q "world clip: 100% (8/8 frames)" "$out/err" || fail "clip .$f progress: $(cat "$out/err")"
  grep -q '"source": "world clip", "seed": 6, "kind": "season"' "$out/c.$f" || fail "no job JSON in c.$f"
done
head -c 12 "$out/c.mp4" | grep -q ftyp || fail "c.mp4 is not an MP4"
head -c 4 "$out/c.webm" | od -An -tx1 | grep -q "1a 45 df a3" || fail "c.webm is not Matroska"
/usr/bin/python3 - "$out/c.gif" <<'PY' || fail "c.gif"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.n_frames == 8 and im.size == (256, 128), (im.n_frames, im.size)
job = json.loads(im.info["comment"])
assert job["kind"] == "season" and job["frames"] == 8, job
d = []
for i in range(8):
    im.seek(i)
    d.append(im.info["duration"])
assert abs(sum(d) - 1000) <= 10, d  # 8 frames at 8 fps: 12.5 hundredths each, rounded in turn
PY
# A fractional rate as it is: 7.5 fps (not 8) in the JSON and the message; GIF's 1/100 s delays (13, 14, 13, ...)
# add up to 8 / 7.5 s to the hundredth.
clip --fps 7.5 --out "$out/c75.gif" >"$out/msg" 2>&1 || fail "7.5 fps: $(cat "$out/msg")"
grep -q "8 frames, 256x128, 7.5 fps, gif" "$out/msg" && grep -q '"fps": 7.5,' "$out/c75.gif" || fail "7.5 fps: $(cat "$out/msg")"
/usr/bin/python3 - "$out/c75.gif" <<'PY' || fail "c75.gif delays"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
d = []
for i in range(im.n_frames):
    im.seek(i)
    d.append(im.info["duration"])
assert sum(d) == 1070 and set(d) == {130, 140}, d
PY
# A PNG sequence (odd size), exported again as a video from its folder; the clip's JSON travels along.
clip --size 97x61 --png-level 1 --out "$out/frames/" >"$out/msg" 2>&1 || fail "png sequence: $(cat "$out/msg")"
[ "$(ls "$out/frames" | wc -l)" -eq 8 ] && [ -f "$out/frames/frame_0007.png" ] || fail "png sequence files: $(ls "$out/frames")"
"$cli" video export --frames "$out/frames" --fps 12 --out "$out/again.mp4" >"$out/msg" 2>"$out/err" ||
  fail "video export: $(cat "$out/err")"
grep -q "8 frames, 98x62, 12 fps, mp4" "$out/msg" && grep -q "padded" "$out/msg" || fail "odd mp4: $(cat "$out/msg")"
grep -q "video export: 100%" "$out/err" || fail "video export progress: $(cat "$out/err")"
grep -q '"source": "world clip"' "$out/again.mp4" || fail "the frames' job chunk was not carried over"
"$cli" video export --frames "$out/frames" --format gif --dither floyd-steinberg --out "$out/again.anim" >"$out/msg" 2>&1 ||
  fail "--format gif: $(cat "$out/msg")"
head -c 6 "$out/again.anim" | grep -q GIF89a || fail "--format gif wrote no GIF"

# Ctrl+C: the slowest VP9 on a larger clip, interrupted; no file and no temporary stay behind.
echo "an earlier export" >"$out/int.webm"
timeout --preserve-status -s INT 2 "$cli" world clip --seed 6 --frames 64 --size 768x384 --cpu-used 0 --out "$out/int.webm" \
  >/dev/null 2>"$out/err"
rc=$?
[ $rc -eq 130 ] || fail "Ctrl+C: exit $rc: $(cat "$out/err")"
[ "$(cat "$out/int.webm")" = "an earlier export" ] || fail "Ctrl+C changed the earlier file"
grep -q "cancelled" "$out/err" || fail "Ctrl+C message: $(cat "$out/err")"

# Bad inputs: exit 2 for bad options, 1 for files that cannot be read or written; no temporaries left.
bad() { # WANT_RC NEEDLE ARGS...
  want=$1 needle=$2
  shift 2
  "$cli" "$@" >"$out/msg" 2>"$out/err"
  rc=$?
  [ $rc -eq "$want" ] && grep -q -- "$needle" "$out/err" || fail "$* -> exit $rc (want $want, '$needle'): $(cat "$out/err")"
}
bad 2 "not a video file name" world clip --seed 1 --frames 4 --out "$out/c.avi"
bad 2 "frames needs an integer in 2..256" world clip --seed 1 --frames 1 --out "$out/x.mp4"
bad 2 "kind must be time, weather, season or motion" world clip --seed 1 --frames 4 --kind rain --out "$out/x.mp4"
bad 2 "size needs WxH" world clip --seed 1 --frames 4 --size 256 --out "$out/x.mp4"
bad 2 "fps needs a number in 0.01..240" world clip --seed 1 --frames 4 --fps 0 --out "$out/x.mp4"
bad 2 "fps needs a number in 0.01..240" world clip --seed 1 --frames 4 --fps 8fps --out "$out/x.mp4"
bad 2 "dither must be" world clip --seed 1 --frames 4 --dither lots --out "$out/x.gif"
bad 2 "are required" world clip --seed 1 --out "$out/x.mp4"
bad 2 "not mp4, webm, gif or png" video export --frames "$out/frames" --format mkv --out "$out/x.mkv"
bad 1 "nowhere" world clip --seed 1 --frames 4 --out "$out/nowhere/x.mp4"
bad 1 "not an empty folder" world clip --seed 1 --frames 4 --out "$out/frames/"
bad 1 "$out/missing" video export --frames "$out/missing" --out "$out/x.mp4"
mkdir -p "$out/empty" "$out/mixed"
bad 1 "no .png files" video export --frames "$out/empty" --out "$out/x.mp4"
cp "$out/frames/frame_0000.png" "$out/mixed/a_1.png"
"$cli" world clip --seed 6 --frames 2 --size 64x32 --out "$out/small/" >/dev/null 2>&1 || fail "small clip"
cp "$out/small/frame_0000.png" "$out/mixed/a_2.png"
bad 1 "a_2.png" video export --frames "$out/mixed" --out "$out/x.mp4"
mkdir -p "$out/fifo" && mkfifo "$out/fifo/a.png" || fail "mkfifo"
bad 1 "a.png: not a regular file (a FIFO)" video export --frames "$out/fifo" --out "$out/x.mp4"
bad 1 "Not a directory" video export --frames /dev/null --out "$out/x.mp4"
# Without the libav module: MP4, WebM and GIF refused naming it, PNG sequences still written.
(
  export DIRIGENT_VIDEO_MODULE=/nonexistent/libdirigent-video.so
  bad 1 "needs the libav module /nonexistent/libdirigent-video.so" world clip --seed 1 --frames 2 --out "$out/x.gif"
  "$cli" world clip --seed 1 --frames 2 --out "$out/nomodule/" >/dev/null 2>&1 || fail "a PNG sequence without the module"
) || exit 1
[ -e "$out/x.mp4" ] && fail "a failed export left x.mp4"
[ -z "$(ls -A "$out" | grep '^\.')" ] || fail "temporaries left: $(ls -A "$out")"
echo "ok: video"
