#!/bin/sh
# `dirigent-cli stylize` and `spectrum` end to end: FDA against numpy's FFT (np.fft, the FDA reference
# code's arithmetic) within 1 level, beta 0 giving the content back, a style of another size, the settings
# chunk, a JPEG exemplar, the spectrum JSON against numpy; and bad inputs (missing file, non-PNG, beta and strength out of
# range, FDA with two styles, MNE with a missing encoder) each failing with a message naming the file or value
# and leaving no output. MNE itself: test_stylize_mne.sh.
cli="$1" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 - "$out" <<'PY' || fail "make the images"
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(7)
y, x = np.mgrid[0:64, 0:96]
c = np.stack([128 + 100 * np.sin(x / 7.0), 128 + 80 * np.cos(y / 5.0), 60 + 1.5 * x], -1) + rng.normal(0, 20, (64, 96, 3))
s = np.stack([200 + 40 * np.sin(x / 3.0), 50 + 30 * np.cos((x + y) / 4.0), 180 - 0.8 * y], -1) + rng.normal(0, 10, (64, 96, 3))
Image.fromarray(np.clip(c, 0, 255).astype(np.uint8)).save(d + "/content.png")
Image.fromarray(np.clip(s, 0, 255).astype(np.uint8)).save(d + "/style.png")
Image.fromarray(np.clip(s, 0, 255).astype(np.uint8)[:41, :57]).save(d + "/style_small.png")
open(d + "/notpng.png", "w").write("not a png\n")
Image.fromarray(np.clip(s, 0, 255).astype(np.uint8)).save(d + "/style.jpg", quality=92)
Image.open(d + "/style.jpg").save(d + "/style_from_jpg.png")  # the same pixels, as PNG (PIL decodes with libjpeg)
PY
"$cli" stylize --content "$out/content.png" --style "$out/style.png" --strength 0.9 --beta 0.1 --out "$out/fda.png" \
  >"$out/msg" 2>&1 || fail "stylize: $(cat "$out/msg")"
grep -q "wrote $out/fda.png (96x64, fda, strength 0.9, beta 0.1" "$out/msg" || fail "stylize message: $(cat "$out/msg")"
"$cli" stylize --content "$out/content.png" --style "$out/style.png" --beta 0 --out "$out/beta0.png" >"$out/msg" 2>&1 ||
  fail "stylize beta 0: $(cat "$out/msg")"
"$cli" stylize --content "$out/content.png" --style "$out/style_small.png" --out "$out/small.png" >"$out/msg" 2>&1 ||
  fail "stylize with a smaller style: $(cat "$out/msg")"
# A JPEG exemplar (a photo as people have them): the same result as its pixels saved as PNG.
"$cli" stylize --content "$out/content.png" --style "$out/style.jpg" --out "$out/jpg.png" >"$out/msg" 2>&1 ||
  fail "stylize with a JPEG style: $(cat "$out/msg")"
"$cli" stylize --content "$out/content.png" --style "$out/style_from_jpg.png" --out "$out/jpg_png.png" >"$out/msg" 2>&1 ||
  fail "stylize with the JPEG's pixels as PNG: $(cat "$out/msg")"
/usr/bin/python3 -c "
import numpy as np; from PIL import Image
a, b = (np.asarray(Image.open('$out/' + n)).astype(int) for n in ('jpg.png', 'jpg_png.png'))
assert np.abs(a - b).max() <= 1, np.abs(a - b).max()" || fail "a JPEG style differs from its pixels as PNG"
"$cli" spectrum "$out/content.png" --out "$out/spectrum.json" >"$out/msg" 2>&1 || fail "spectrum: $(cat "$out/msg")"
"$cli" spectrum "$out/content.png" --log --out "$out/spectrum_log.json" >"$out/msg" 2>&1 || fail "spectrum --log: $(cat "$out/msg")"
/usr/bin/python3 - "$out" <<'PY' || fail "results against numpy"
import json, sys
import numpy as np
from PIL import Image
d = sys.argv[1]
load = lambda n: np.asarray(Image.open(d + "/" + n).convert("RGB")).astype(np.float64).transpose(2, 0, 1)
c, s = load("content.png"), load("style.png")

def fda(c, s, beta, strength):  # FDA_source_to_target_np, with the amplitude interpolated by strength
    fc, fs = np.fft.fft2(c), np.fft.fft2(s)
    ac, pc = np.fft.fftshift(np.abs(fc), axes=(-2, -1)), np.angle(fc)
    at = np.fft.fftshift(np.abs(fs), axes=(-2, -1))
    _, h, w = c.shape
    b = int(np.floor(min(h, w) * beta))
    ch, cw = h // 2, w // 2
    win = (slice(None), slice(ch - b, ch + b + 1), slice(cw - b, cw + b + 1))
    ac[win] = (1 - strength) * ac[win] + strength * at[win]
    return np.real(np.fft.ifft2(np.fft.ifftshift(ac, axes=(-2, -1)) * np.exp(1j * pc)))

want = np.clip(np.round(fda(c, s, 0.1, 0.9)), 0, 255)
got = load("fda.png")
err = np.abs(got - want).max()
assert err <= 1, f"fda: {err} levels from numpy"
assert np.abs(got - c).mean() > 1, "fda changed nothing"
assert (load("beta0.png") == c).all(), "beta 0 changed the content"
small = Image.open(d + "/small.png")
assert small.size == (96, 64), small.size
info = Image.open(d + "/fda.png").info
st = json.loads(info["dirigent-stylize"])
assert st == {"method": "fda", "strength": 0.9, "beta": 0.1, "styles": 1}, st
x = c / 255
P = np.abs(np.fft.fft2(x)) ** 2 / (64 * 96)
ky, kx = np.fft.fftfreq(64) * 64, np.fft.fftfreq(96) * 96
r = np.rint(np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)).astype(int)
ref = np.array([P[:, r == i].mean() for i in range(33)])
sp = json.load(open(d + "/spectrum.json"))
assert sp["width"] == 96 and sp["height"] == 64 and sp["log"] is False and len(sp["power"]) == 33, sp
rel = np.abs(np.array(sp["power"]) - ref) / ref
assert rel.max() < 1e-4, f"spectrum: relative error {rel.max()}"
lg = json.load(open(d + "/spectrum_log.json"))
assert lg["log"] is True and np.abs(np.array(lg["power"]) - np.log10(ref)).max() < 1e-4, lg["power"][:4]
print(f"fda {err:.0f} levels from numpy; spectrum relative error {rel.max():.2g}")
PY

# VkFFT's compiled shaders are cached beside the pipeline cache; damaged cache files read as absent.
cache="$out/cache/pipelines.bin"
for damage in none flip truncate; do
  if [ "$damage" != none ]; then
    for f in "$out"/cache/pipelines.bin.vkfft*; do
      /usr/bin/python3 - "$f" "$damage" <<'PY' || fail "damage $f"
import sys
path, how = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
if how == "flip":
    data[len(data) // 2] ^= 0xFF
else:
    data = data[: len(data) // 3]
open(path, "wb").write(data)
PY
    done
  fi
  DIRIGENT_PIPELINE_CACHE="$cache" "$cli" stylize --content "$out/content.png" --style "$out/style.png" --strength 0.9 \
    --beta 0.1 --out "$out/cached.png" >"$out/msg" 2>&1 || fail "stylize with cache files ($damage): $(cat "$out/msg")"
  cmp -s "$out/cached.png" "$out/fda.png" || fail "stylize with cache files ($damage): another result"
  ls "$out"/cache/pipelines.bin.vkfft*-6x64x96 >/dev/null 2>&1 || fail "no VkFFT cache file: $(ls "$out/cache")"
done

# Bad inputs: exit status, a message naming the file or value, and no output file (nor a temporary one).
expect() { # STATUS NEEDLE ARGS...
  want="$1" needle="$2"
  shift 2
  rm -f "$out/bad.png" "$out/bad.json"
  "$cli" "$@" >"$out/msg" 2>&1
  got=$?
  [ "$got" = "$want" ] || fail "$*: exit $got, expected $want: $(cat "$out/msg")"
  grep -qF -- "$needle" "$out/msg" || fail "$*: message without '$needle': $(cat "$out/msg")"
  [ ! -e "$out/bad.png" ] && [ ! -e "$out/bad.json" ] || fail "$*: left an output file"
  ls "$out" | grep -q tmp && fail "$*: left a temporary file: $(ls "$out")"
  return 0
}
expect 1 "$out/missing.png" stylize --content "$out/missing.png" --style "$out/style.png" --out "$out/bad.png"
expect 1 "$out/missing.png" stylize --content "$out/content.png" --style "$out/missing.png" --out "$out/bad.png"
expect 1 "$out/notpng.png" stylize --content "$out/notpng.png" --style "$out/style.png" --out "$out/bad.png"
expect 2 "--beta 0.7: expected a number from 0 to 0.5" stylize --content "$out/content.png" --style "$out/style.png" \
  --beta 0.7 --out "$out/bad.png"
expect 2 "--beta x" stylize --content "$out/content.png" --style "$out/style.png" --beta x --out "$out/bad.png"
expect 2 "--strength -1: expected a number from 0 to 1" stylize --content "$out/content.png" --style "$out/style.png" \
  --strength -1 --out "$out/bad.png"
expect 2 "--method gan: expected fda or mne" stylize --content "$out/content.png" --style "$out/style.png" \
  --method gan --out "$out/bad.png"
expect 1 "$out/missing.safetensors" stylize --content "$out/content.png" --style "$out/style.png" --method mne \
  --encoder "$out/missing.safetensors" --out "$out/bad.png"
expect 2 "fda takes one --style image" stylize --content "$out/content.png" --style "$out/style.png" \
  --style "$out/style.png" --out "$out/bad.png"
expect 2 "are required" stylize --content "$out/content.png" --out "$out/bad.png"
expect 1 "$out/nodir/bad.png" stylize --content "$out/content.png" --style "$out/style.png" \
  --out "$out/nodir/bad.png"
expect 1 "$out/notpng.png" spectrum "$out/notpng.png" --out "$out/bad.json"
expect 2 "usage" spectrum "$out/content.png"
echo "stylize: all checks passed"
