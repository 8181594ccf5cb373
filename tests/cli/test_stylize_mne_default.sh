#!/bin/sh
# `dirigent-cli stylize --method mne` with the shipped models (assets/models/mne.safetensors over
# stylegan2.safetensors, found without --encoder/--generator) on world scenes the CLI samples (seeds outside the
# training and validation sets): strength 0 reconstructs each scene at a mean PSNR of at least $min_psnr dB (the
# trained pair's measured value, docs/train-image-models.md, less a margin), a night exemplar at strength 1
# darkens a day scene, and the output keeps the content's size.
cli="$1" out="$2" min_psnr="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for s in 2100000001 2100000002 2100000003 2100000004; do
  "$cli" world sample --seed "$s" --time day --weather clear --out "$out" >/dev/null 2>&1 || fail "world sample $s"
  "$cli" stylize --method mne --content "$out/world-$s.png" --style "$out/world-$s.png" --strength 0 \
    --out "$out/rec-$s.png" >"$out/msg" 2>&1 || fail "stylize $s: $(cat "$out/msg")"
done
"$cli" world sample --seed 2100000009 --time night --weather clear --out "$out" >/dev/null 2>&1 || fail "night sample"
for s in 0 1; do
  "$cli" stylize --method mne --content "$out/world-2100000001.png" --style "$out/world-2100000009.png" \
    --strength "$s" --out "$out/night-$s.png" >"$out/msg" 2>&1 || fail "stylize night $s: $(cat "$out/msg")"
done
/usr/bin/python3 - "$out" "$min_psnr" <<'PY' || fail "measurements"
import sys
import numpy as np
from PIL import Image
d, floor = sys.argv[1], float(sys.argv[2])
load = lambda n: np.asarray(Image.open(f"{d}/{n}").convert("RGB")).astype(np.float64) / 255
ps = []
for s in (2100000001, 2100000002, 2100000003, 2100000004):
    a, b = load(f"world-{s}.png"), load(f"rec-{s}.png")
    assert a.shape == b.shape == (128, 256, 3), (a.shape, b.shape)
    ps.append(10 * np.log10(1 / np.mean((a - b) ** 2)))
psnr = float(np.mean(ps))
assert psnr >= floor, f"reconstruction {psnr:.2f} dB < {floor} ({[round(p, 2) for p in ps]})"
day, night, n0, n1 = load("world-2100000001.png"), load("world-2100000009.png"), load("night-0.png"), load("night-1.png")
assert n1.mean() < n0.mean() - 0.02, f"the night exemplar did not darken: {n0.mean():.3f} -> {n1.mean():.3f}"
print(f"mne default models: reconstruction {psnr:.2f} dB over 4 scenes; day {day.mean():.3f}, night exemplar "
      f"{night.mean():.3f}, stylized 0: {n0.mean():.3f}, 1: {n1.mean():.3f}")
PY
echo "stylize mne default models: all checks passed"
