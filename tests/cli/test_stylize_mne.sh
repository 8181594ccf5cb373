#!/bin/sh
# `dirigent-cli stylize --method mne` end to end on the golden tiny models (tests/golden/mne's encoder over
# tests/golden/stylegan's 32x64 generator): against the PyTorch reference (dgtrain.mne + stylegan2: the images
# resized bilinearly to 32x64, encoded, G(lerp(ws_content, mean of the styles' ws, s), the content's noise maps),
# resized back) within 2 levels, for one style and for two averaged; strength 0 ignores the style; the output
# keeps the content's size and carries the settings; an encoder that is not one, and one that does not fit its
# generator, fail naming the file.
cli="$1" golden="$2" out="$3"
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
enc="$golden/mne/weights.safetensors" gen="$golden/stylegan/weights.safetensors"
PYTHONPATH="$(dirname "$0")/../../tools/train" /usr/bin/python3 - "$out" <<'PY' || fail "make the images"
import sys
import numpy as np
from PIL import Image
from dgtrain import stylegan2 as S
from dgtrain.exports import export
d = sys.argv[1]
g8 = S.Generator({"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "base": [4, 8], "resolution": 32,
                  "channels": {"4": 8, "8": 8, "16": 8, "32": 4}})  # 8-d ws: does not fit the encoder
export(f"{d}/g8", S.state_for_export(g8), "", g8.cfg)
rng = np.random.default_rng(11)
y, x = np.mgrid[0:48, 0:80]
for name, f in (("content", 5.0), ("style", 3.0), ("style2", 9.0)):
    a = np.stack([128 + 100 * np.sin(x / f), 128 + 80 * np.cos(y / f), 40 + 2 * x], -1) + rng.normal(0, 15, (48, 80, 3))
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(f"{d}/{name}.png")
PY
run() { # OUT ARGS...
  o="$1"
  shift
  "$cli" stylize --method mne --encoder "$enc" --generator "$gen" --content "$out/content.png" "$@" --out "$out/$o" \
    >"$out/msg" 2>&1 || fail "stylize $*: $(cat "$out/msg")"
}
run s0.png --style "$out/style.png" --strength 0
run s0b.png --style "$out/style2.png" --strength 0
run one.png --style "$out/style.png" --strength 0.7
grep -q "wrote $out/one.png (80x48, mne, strength 0.7, beta 0.05, 1 style," "$out/msg" || fail "message: $(cat "$out/msg")"
run two.png --style "$out/style.png" --style "$out/style2.png" --strength 1
cmp -s "$out/s0.png" "$out/s0b.png" || fail "strength 0 depends on the style image"
PYTHONPATH="$(dirname "$0")/../../tools/train" /usr/bin/python3 - "$out" "$enc" "$gen" <<'PY' || fail "against PyTorch"
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from dgtrain import mne as M, stylegan2 as S
d, enc, gen = sys.argv[1:4]
e, g = M.load_encoder(enc), S.load_generator(gen).eval()
load = lambda n: torch.from_numpy(np.asarray(Image.open(f"{d}/{n}").convert("RGB")).astype(np.float32)).permute(2, 0, 1)[None]

def stylize(styles, s):
    imgs = torch.cat([load("content.png")] + [load(n) for n in styles]) / 127.5 - 1
    small = F.interpolate(imgs, size=tuple(e.cfg["image"]), mode="bilinear", align_corners=False)
    with torch.no_grad():
        ws, noises = e(small)
        mixed = S.mix_ws(ws[:1], list(ws[1:, None]), s)
        img = g.synthesis(mixed, noise_mode="const", noises=e.noise_dict([n[:1] for n in noises]))
    img = F.interpolate(img, size=imgs.shape[2:], mode="bilinear", align_corners=False)
    return ((img[0] + 1) * 127.5).round().clamp(0, 255)

worst = 0
for name, styles, s in (("one.png", ["style.png"], 0.7), ("two.png", ["style.png", "style2.png"], 1.0),
                        ("s0.png", ["style.png"], 0.0)):
    got, want = load(name)[0], stylize(styles, s)
    err = (got - want).abs().max().item()
    worst = max(worst, err)
    assert err <= 2, f"{name}: {err} levels from PyTorch"
assert (load("one.png") - load("s0.png")).abs().mean() > 1, "the style moved nothing"
st = json.loads(Image.open(f"{d}/two.png").info["dirigent-stylize"])
assert st["method"] == "mne" and st["styles"] == 2 and st["strength"] == 1, st
assert Image.open(f"{d}/two.png").size == (80, 48)
print(f"mne: at most {worst:.0f} levels from PyTorch")
PY
expect() { # NEEDLE ARGS...
  needle="$1"
  shift
  rm -f "$out/bad.png"
  "$cli" stylize --method mne --content "$out/content.png" --style "$out/style.png" "$@" --out "$out/bad.png" \
    >"$out/msg" 2>&1 && fail "$*: succeeded"
  grep -qF -- "$needle" "$out/msg" || fail "$*: message without '$needle': $(cat "$out/msg")"
  [ ! -e "$out/bad.png" ] || fail "$*: left an output file"
}
expect "mne encoder: the checkpoint has no tensor FPN_module.conv1.weight" --encoder "$gen" --generator "$gen"
expect "$enc gives 8 ws of 16, the generator $out/g8.safetensors takes 8 of 8" --encoder "$enc" \
  --generator "$out/g8.safetensors"
echo "stylize mne: all checks passed"
