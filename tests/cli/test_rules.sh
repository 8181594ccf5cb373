#!/bin/sh
# dirigent-cli's rules, checked before any work: output paths (generate --out, eval's in test_eval.sh),
# image sizes against the model's rule (the multiple, and the binding limit: the largest size the rule
# allows must work), seeds, steps and prompt texts, each refused with the rule stated; `model` on a model
# folder read as generate reads it; --control FILE beside a model folder. The order is shown with a copy
# of the tiny model whose weights hold a NaN: a check that runs first reports its own problem, not that.
cli="$1" tiny="$2" out="$3"
edit="$(dirname "$0")/edit_model.py"
rm -rf "$out" && mkdir -p "$out/adir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 "$edit" "$tiny" "$out/nan" fill unet model.diffusion_model.out.2.weight nan || fail "edit_model.py"
# run RC PATTERN ARGS...: generate on the NaN copy (unless --model is given) must exit RC naming PATTERN.
run() {
  rc="$1" pat="$2"
  shift 2
  "$cli" generate --model "$out/nan" --prompt "a red car" --steps 1 --seed 1 --width 64 --height 32 "$@" \
    >"$out/log" 2>&1
  got=$?
  [ $got -eq "$rc" ] && grep -qF -- "$pat" "$out/log" || fail "$*: exit $got, expected $rc with '$pat': $(cat "$out/log")"
  echo "ok: $*: $(cat "$out/log")"
}
run 1 "model.diffusion_model.out.2.weight" --out "$out/x.png" # the copy is damaged: found at loading
run 1 "--out $out/adir is a folder" --out "$out/adir"
run 1 "--out: no file name given" --out ""
run 1 "the folder $out/nowhere does not exist" --out "$out/nowhere/x.png"
if [ -d /sys ] && ! touch /sys/dirigent-probe 2>/dev/null; then run 1 "cannot write in /sys" --out /sys/x.png; fi
run 1 "width and height must be multiples of 4 from 4 to 4096" --width 6 --out "$out/x.png"
run 1 "width and height must be multiples of 4 from 4 to 4096" --height 30 --out "$out/x.png"
run 2 "an image side is a whole number from 1 to 4096" --width 0 --out "$out/x.png"
run 2 "an image side is a whole number from 1 to 4096" --height 5000 --out "$out/x.png"
run 2 "a seed is a whole number from 0 to 18446744073709551615" --seed " -5" --out "$out/x.png"
run 2 "a seed is a whole number from 0 to 18446744073709551615" --seed 18446744073709551616 --out "$out/x.png"
run 2 "steps are a whole number from 1 to 1000" --steps 1001 --out "$out/x.png"
run 2 "guidance is a number from 0 to 100" --cfg nan --out "$out/x.png"
run 2 "the negative prompt is not valid UTF-8 at byte 1" --negative "$(printf 'a\377')" --out "$out/x.png"
run 2 "the prompt is not valid UTF-8" --prompt "$(printf '\377')" --out "$out/x.png"
# The binding limit: what the ops cannot split is one latent's transformer activations (guidance's
# doubled batch is split), so with 64 KiB bindings the tiny model takes at most 44x44 (22x22 latents of
# 32 channels); that works, with and without guidance, and 44x48 is refused before any work (past the
# rule, dg_permute would refuse it midway).
export DIRIGENT_MAX_BINDING=65536
run 1 "too large for this model on this device" --width 48 --height 48 --out "$out/x.png"
run 1 "(a square image may be at most 44x44)" --width 44 --height 48 --cfg 1 --out "$out/x.png"
run 0 "wrote $out/x.png (44x44" --model "$tiny" --width 44 --height 44 --out "$out/x.png"
run 0 "wrote $out/x.png (44x44" --model "$tiny" --width 44 --height 44 --cfg 1 --out "$out/x.png"
unset DIRIGENT_MAX_BINDING
[ ! -e "$out/adir/x.png" ] || fail "a refused run wrote a file"
# --control FILE beside a model folder, and a missing one named.
"$cli" world sample --seed 3 --width 64 --height 32 --out "$out" >/dev/null || fail "world sample"
run 0 "wrote $out/c.png" --model "$tiny" --layout "$out/world-3-label.png" --control "$tiny/controlnet_aldm.safetensors" \
  --out "$out/c.png"
run 1 "$out/none.safetensors" --model "$tiny" --layout "$out/world-3-label.png" --control "$out/none.safetensors" \
  --out "$out/c.png"
# `model` on a model folder: checked as generate opens it, its parts reported; a bad config named.
"$cli" model "$tiny" >"$out/log" 2>&1 || fail "model on the tiny folder: $(cat "$out/log")"
grep -q "Dirigent model folder: text encoder, UNet, VAE, ALDM layout ControlNet" "$out/log" &&
  grep -q "unet.safetensors: LDM single file" "$out/log" || fail "model on the tiny folder: $(cat "$out/log")"
/usr/bin/python3 "$edit" "$tiny" "$out/heads" config unet num_heads=1e12 || fail "edit_model.py"
"$cli" model "$out/heads" >"$out/log" 2>&1
[ $? -eq 1 ] && grep -q "'num_heads' is 1000000000000" "$out/log" || fail "model on a bad folder: $(cat "$out/log")"
echo "ok: rules"
