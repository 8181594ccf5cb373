#!/bin/sh
# dirigent-cli generate under address-space limits (ulimit -v) from far too small to enough, on the tiny
# model of tests/pipeline: every run either succeeds or exits 1 with a message naming the memory it
# could not get (in MiB) and writes no file; none may die of a signal (lavapipe maps device memory into
# the process, and its own failed allocations used to crash its worker threads or abort in LLVM).
cli="$1" model="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
# AddressSanitizer reserves terabytes of address space: no ulimit -v lets it start.
if ldd "$cli" 2>/dev/null | grep -q libasan || ldd "$(dirname "$cli")/../../libdirigent.so" 2>/dev/null | grep -q libasan; then
  echo "skipped: an AddressSanitizer build cannot run under ulimit -v"
  exit 77
fi
refused=0
for mib in 300 700 800 900 1000 1200 1600; do
  rm -f "$out/x.png"
  (ulimit -v $((mib * 1024)) && exec "$cli" generate --model "$model" --prompt "a red car" --steps 1 --seed 1 \
    --width 128 --height 64 --quiet --out "$out/x.png") >"$out/log" 2>&1
  rc=$?
  case $rc in
  0) [ -s "$out/x.png" ] || fail "$mib MiB: exit 0 without an image" ;;
  1)
    grep -Eq '[0-9.]+ MiB' "$out/log" && grep -Eq 'address space|device memory|host memory' "$out/log" ||
      fail "$mib MiB: the message names no memory size: $(cat "$out/log")"
    [ ! -e "$out/x.png" ] || fail "$mib MiB: a failed run left an output file"
    refused=$((refused + 1)) ;;
  *) fail "$mib MiB: exit status $rc (a signal?): $(cat "$out/log")" ;;
  esac
  echo "$mib MiB: exit $rc: $(cat "$out/log")"
done
[ $refused -gt 0 ] || fail "no limit was too small: the test no longer tests anything"
echo "ok: no crash under any limit, $refused refused with the size named"
