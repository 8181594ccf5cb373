#!/bin/sh
# dirigent-cli convert: PyTorch checkpoints (tests/io/data/ckpt, written by torch.save) to .safetensors
# with LDM names. `model` reports the same models and tensors for the checkpoint and its conversion;
# --half stores every float as F16; converting the result again gives the same bytes; the input is
# never overwritten; a malicious checkpoint is refused by name and leaves no file behind.
cli="$1" data="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
ckpt="$data/ckpt/sd15_tiny.ckpt"

# `model` without its first line (which names the path).
models() { "$cli" model "$@" | tail -n +2; }

"$cli" convert "$ckpt" "$out/sd15.safetensors" >"$out/log" 2>&1 || fail "convert: $(cat "$out/log")"
grep -qF "1313 tensors (LDM single file)" "$out/log" || fail "convert's summary: $(cat "$out/log")"
[ "$(models "$ckpt")" = "$(models "$out/sd15.safetensors")" ] || fail "model differs after convert"
[ "$(models --tensors "$ckpt")" = "$(models --tensors "$out/sd15.safetensors")" ] || fail "tensors differ after convert"
[ "$(models "$data/sd15_tiny.safetensors")" = "$(models "$out/sd15.safetensors")" ] ||
  fail "the converted .ckpt and the original .safetensors differ"

# The round trip: the same bytes again, metadata included.
"$cli" convert "$out/sd15.safetensors" "$out/again.safetensors" >"$out/log" 2>&1 || fail "reconvert: $(cat "$out/log")"
cmp -s "$out/sd15.safetensors" "$out/again.safetensors" || fail "a second conversion changed the file"

# --half: every float tensor F16 (the I64 position ids stay), the same models.
"$cli" convert --half "$ckpt" "$out/half.safetensors" >"$out/log" 2>&1 || fail "convert --half: $(cat "$out/log")"
[ "$(models "$ckpt")" = "$(models "$out/half.safetensors")" ] || fail "model differs after convert --half"
dtypes=$("$cli" model --tensors "$out/half.safetensors" | awk 'NR > 1 && NF >= 3 && $1 ~ /\./ { print $2 }' | sort -u | tr '\n' ' ')
[ "$dtypes" = "F16 I64 " ] || fail "--half left dtypes '$dtypes'"
[ "$(wc -c <"$out/half.safetensors")" -lt "$(wc -c <"$out/sd15.safetensors")" ] || fail "--half is not smaller"

# A diffusers folder of .bin files: LDM names.
"$cli" convert "$data/ckpt/sd15_tiny_bin" "$out/bin.safetensors" >"$out/log" 2>&1 || fail "convert .bin folder: $(cat "$out/log")"
"$cli" model --tensors "$out/bin.safetensors" | grep -qF "first_stage_model.encoder.mid.attn_1.q.weight" ||
  fail "the .bin folder's tensors are not LDM-named"

# Refusals: the input as output, a non-.safetensors output, a malicious checkpoint (nothing left behind).
cp "$out/sd15.safetensors" "$out/copy.safetensors"
"$cli" convert "$out/copy.safetensors" "$out/copy.safetensors" >"$out/log" 2>&1 && fail "overwrote its input"
grep -qF "refusing to overwrite it" "$out/log" || fail "no refusal message: $(cat "$out/log")"
cmp -s "$out/sd15.safetensors" "$out/copy.safetensors" || fail "the input changed"
ln "$out/copy.safetensors" "$out/link.safetensors"
"$cli" convert "$out/copy.safetensors" "$out/link.safetensors" >"$out/log" 2>&1 && fail "overwrote a hard link to its input"
"$cli" convert "$ckpt" "$out/x.ckpt" >"$out/log" 2>&1
[ $? -eq 2 ] || fail "a .ckpt output was accepted"
rm -f /tmp/dg_ckpt_pwned_system
"$cli" convert "$data/ckpt/bad/global_system.ckpt" "$out/evil.safetensors" >"$out/log" 2>&1 && fail "converted a malicious pickle"
grep -qF "refuses to load global 'posix.system'" "$out/log" || fail "no global named: $(cat "$out/log")"
[ ! -e "$out/evil.safetensors" ] && [ ! -e /tmp/dg_ckpt_pwned_system ] || fail "the malicious checkpoint left a file"
[ -z "$(ls -A "$out" | grep '^\.')" ] || fail "temporary files left: $(ls -A "$out")"
echo "cli convert: ok"
