#!/bin/sh
# The discrete-GPU memory path on any device, with the default model: staging copies give the same bytes
# as mapped memory; a device with too little memory left refuses with the sizes named and writes nothing;
# one with a little more decodes the VAE in tiles and still delivers (DIRIGENT_MEMORY_BUDGET_MIB pretends
# the device has only that much).
cli="$1" out="$2"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
gen() { # gen NAME [ENV=VALUE...]
  name="$1"
  shift
  env "$@" "$cli" generate --prompt "a red car on a street" --steps 2 --seed 7 --quiet --out "$out/$name.png" \
    >"$out/$name.log" 2>&1
}
gen mapped || fail "mapped: $(cat "$out/mapped.log")"
gen staged DIRIGENT_STAGING=1 || fail "staged: $(cat "$out/staged.log")"
cmp -s "$out/mapped.png" "$out/staged.png" || fail "staged memory gives other bytes than mapped memory"
echo "ok: staged and mapped memory give the same image"
gen small DIRIGENT_STAGING=1 DIRIGENT_MEMORY_BUDGET_MIB=32 && fail "a 32 MiB device generated"
grep -Eq '[0-9.]+ MiB of device memory .*budget.*[0-9.]+ MiB left of a [0-9.]+ MiB heap' "$out/small.log" ||
  fail "the refusal names no sizes: $(cat "$out/small.log")"
[ ! -e "$out/small.png" ] || fail "a refused run left an output file"
echo "ok: 32 MiB refused: $(cat "$out/small.log")"
gen tight DIRIGENT_STAGING=1 DIRIGENT_MEMORY_BUDGET_MIB=90 || fail "90 MiB: $(cat "$out/tight.log")"
[ -s "$out/tight.png" ] || fail "90 MiB: no image"
cmp -s "$out/mapped.png" "$out/tight.png" && fail "90 MiB: the VAE did not fall back to tiles (same bytes as a whole decode)"
echo "ok: 90 MiB generates, the VAE decoding in tiles"
