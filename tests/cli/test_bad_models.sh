#!/bin/sh
# dirigent-cli generate on damaged copies of the tiny model of tests/pipeline: configuration values that
# would divide by zero or give inconsistent shapes, unparsable configurations, NaN/Inf weights and a
# decoder that gives a flat image. Each must fail with exit status 1 and a message naming the file and
# the key or tensor, and leave no output file.
cli="$1" tiny="$2" out="$3"
edit="$(dirname "$0")/edit_model.py"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# expect "what" PATTERN... -- EDIT...: generate on a copy with EDIT must fail naming each PATTERN.
expect() {
  what="$1"
  shift
  set -- "$@"
  pats=""
  while [ "$1" != "--" ]; do pats="$pats
$1"
    shift
  done
  shift
  /usr/bin/python3 "$edit" "$tiny" "$out/m" "$@" || fail "$what: edit_model.py $*"
  "$cli" generate --model "$out/m" --prompt "a red car" --steps 1 --seed 1 --width 64 --height 32 \
    --out "$out/x.png" >"$out/log" 2>&1
  rc=$?
  [ $rc -eq 1 ] || fail "$what: exit status $rc, expected 1: $(cat "$out/log")"
  echo "$pats" | while IFS= read -r p; do
    [ -z "$p" ] || grep -qF -- "$p" "$out/log" || { echo "FAIL: $what: no '$p' in: $(cat "$out/log")"; exit 1; }
  done || exit 1
  [ ! -e "$out/x.png" ] || fail "$what: an output file was written"
  echo "ok: $what: $(cat "$out/log")"
}

expect "num_head_channels wider than a block" "unet.safetensors (metadata)" "num_head_channels 4096" "width 32" -- \
  config unet num_head_channels=4096 config unet num_heads=-1
expect "absurd num_heads" "unet.safetensors (metadata)" "'num_heads' is 1000000000000" -- config unet num_heads=1e12
expect "fractional num_heads" "'num_heads' is 2.5, not a whole number" -- config unet num_heads=2.5
expect "zero num_heads" "'num_heads' is 0" -- config unet num_heads=0
expect "ControlNet heads not dividing its width" "controlnet_aldm.safetensors (metadata)" "num_head_channels 3" -- \
  config controlnet_aldm num_heads=-1 config controlnet_aldm num_head_channels=3
expect "text heads not dividing the width" "text_encoder.safetensors (metadata)" "'heads' is 3" "width 16" -- \
  config text_encoder heads=3
expect "VAE scale_factor 0" "vae.safetensors (metadata)" "'scale_factor' is 0" -- config vae scale_factor=0
expect "VAE scale_factor negative" "'scale_factor' is -0.5" -- config vae scale_factor=-0.5
expect "VAE scale_factor a string" "'scale_factor' is the string" -- config vae 'scale_factor="big"'
expect "unparsable config metadata" "vae.safetensors (metadata)" -- config-raw vae "{scale_factor: 0.18"
expect "config metadata not an object" "unet.safetensors (metadata)" "not a JSON object" -- config-raw unet "[1, 2]"
expect "garbage sidecar JSON" "unet.json" -- sidecar unet "garbage, not JSON"
expect "sidecar JSON with bad heads" "unet.json" "'num_heads' is -7" -- sidecar unet '{"num_heads": -7}'
expect "NaN weights" "unet.safetensors" "model.diffusion_model.out.2.weight" "NaN" -- \
  fill unet model.diffusion_model.out.2.weight nan
expect "infinite weights" "text_encoder.safetensors" "token_embedding.weight" "infinity" -- \
  fill text_encoder cond_stage_model.transformer.text_model.embeddings.token_embedding.weight inf
expect "a decoder giving a flat image" "one flat colour" -- \
  fill vae first_stage_model.decoder.conv_out.weight 0 fill vae first_stage_model.decoder.conv_out.bias 0
