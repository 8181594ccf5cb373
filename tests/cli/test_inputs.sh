#!/bin/sh
# Hostile and careless inputs to dirigent-cli, each refused at once with exit 1 and a message naming the
# file and the problem, leaving no output file: a FIFO (no writer), a device or a directory as model,
# layout or dataset index; a layout PNG whose header claims more than the largest generated size (refused
# before decoding); an index.jsonl line nested 200000 deep (json-glib overflowed its stack), for eval t2i
# and l2i. `timeout` turns a hang into a failure.
cli="$1" model="$2" out="$3"
rm -rf "$out" && mkdir -p "$out/data/test" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
mkfifo "$out/fifo" || exit 1
# refused WHAT NEEDLE COMMAND...: exit status 1 within 60 s, NEEDLE in stderr, no output file.
refused() {
  what="$1" needle="$2"
  shift 2
  timeout 60 "$@" >"$out/stdout" 2>"$out/err"
  rc=$?
  [ $rc -eq 1 ] && grep -qF -- "$needle" "$out/err" || fail "$what: exit status $rc: $(cat "$out/err")"
  [ ! -e "$out/x.png" ] || fail "$what: an output file was left"
  echo "ok: $what: $(cat "$out/err")"
}
refused "a FIFO as model (model)" "fifo: not a model file or folder (a FIFO" "$cli" model "$out/fifo"
refused "a FIFO as model (generate)" "fifo: not a model file or folder (a FIFO" \
  "$cli" generate --model "$out/fifo" --prompt x --steps 1 --out "$out/x.png"
refused "/dev/zero as model" "/dev/zero: not a model file or folder" "$cli" model /dev/zero
refused "a FIFO as layout" "fifo: not a regular file (a FIFO)" \
  "$cli" generate --model "$model" --prompt x --steps 1 --out "$out/x.png" --layout "$out/fifo"
refused "/dev/zero as layout" "/dev/zero: not a regular file (a character device)" \
  "$cli" generate --model "$model" --prompt x --steps 1 --out "$out/x.png" --layout /dev/zero
refused "a directory as layout" "data: not a regular file (a directory)" \
  "$cli" generate --model "$model" --prompt x --steps 1 --out "$out/x.png" --layout "$out/data"
# A 16384x16384 RGB layout (IHDR) whose image data is not even zlib: only its size is named.
/usr/bin/python3 - "$out/wide.png" <<'PY' || fail "writing wide.png"
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16384, 16384, 8, 2, 0, 0, 0))
png += chunk(b"dgPd", bytes(800000)) + chunk(b"IDAT", b"\xff" * 4) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
refused "a 16384x16384 layout" "wide.png' is 16384x16384 (WxH), larger than 4096 on a side" \
  "$cli" generate --model "$model" --prompt x --steps 1 --out "$out/x.png" --layout "$out/wide.png"
refused "a 16384x16384 layout with --width/--height" "is 16384x16384 (WxH), larger than 4096 on a side" \
  "$cli" generate --model "$model" --prompt x --steps 1 --out "$out/x.png" --layout "$out/wide.png" \
  --width 64 --height 32
/usr/bin/python3 -c "import sys; sys.stdout.write('{\"x\": ' + '[' * 200000 + '\n')" >"$out/data/test/index.jsonl"
refused "eval t2i: a deeply nested index line" "index.jsonl:1: JSON nested deeper than the limit of 64 levels" \
  "$cli" eval t2i --data "$out/data" --model "$model" --count 1
refused "eval l2i: a deeply nested index line" "index.jsonl:1: JSON nested deeper than the limit of 64 levels" \
  "$cli" eval l2i --data "$out/data" --model "$model" --count 1
rm "$out/data/test/index.jsonl" && mkfifo "$out/data/test/index.jsonl" || exit 1
refused "eval: a FIFO as index" "index.jsonl: not a regular file (a FIFO)" \
  "$cli" eval t2i --data "$out/data" --model "$model" --count 1
echo "ok: hostile inputs"
