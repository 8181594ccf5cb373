#!/bin/sh
# Palettes on the command line: `layout convert` between palettes by class name (unmatched classes
# listed and unlabelled), generate converting a layout painted in another palette (--palette), and the
# palette that follows the model (an ALDM ControlNet without class table or names needs --palette, and
# then computes its table from the palette's names).
cli="$1" model="$2" out="$3"
here=$(dirname "$0")
rm -rf "$out" && mkdir -p "$out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
# A 64x32 layout in world colours: sky, cloud, mountain, water, tree, sign, unlabelled (columns).
/usr/bin/python3 - "$out/world.png" <<'PY' || fail "make the layout"
import sys
from PIL import Image
cols = [(70, 130, 180), (220, 220, 235), (120, 90, 160), (30, 80, 200), (107, 142, 35), (220, 220, 0), (0, 0, 0)]
im = Image.new("RGB", (64, 32))
for x in range(64):
    for y in range(32):
        im.putpixel((x, y), cols[min(x // 9, 6)])
im.save(sys.argv[1])
PY
"$cli" layout convert "$out/world.png" "$out/cs.png" --to cityscapes >"$out/msg" || fail "convert: $(cat "$out/msg")"
grep -q "world -> cityscapes" "$out/msg" && grep -q "unmatched (now unlabelled, 576 pixels): mountain, water" "$out/msg" ||
  fail "convert message: $(cat "$out/msg")"
/usr/bin/python3 - "$out/cs.png" <<'PY' || fail "converted ids"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.mode == "P", im.mode
row = [im.getpixel((x, 0)) for x in range(0, 64, 9)]
assert row == [10, 10, 255, 255, 8, 7, 255, 255], row  # sky, cloud->sky, mountain, water, vegetation, traffic sign
assert im.getpalette()[3 * 13:3 * 14] == [0, 0, 142], "PLTE holds the Cityscapes colours"
print("converted ok:", row)
PY
"$cli" layout convert "$out/cs.png" "$out/ade.png" --from cityscapes --to ade20k >"$out/msg" || fail "indexed convert"
/usr/bin/python3 -c "
from PIL import Image; im = Image.open('$out/ade.png'); r = [im.getpixel((x, 0)) for x in range(0, 64, 9)]
assert r == [2, 2, 255, 255, 4, 43, 255, 255], r" || fail "cityscapes -> ade20k ids"
# The layout as a painting program may write it (blurred edges, then saved as a JPEG and back as PNG):
# read by colour, written out clean, each column its class except beside a column boundary.
/usr/bin/python3 - "$out/world.png" "$out/painted.png" <<'PY' || fail "make the painted layout"
import io, sys
from PIL import Image, ImageFilter
im = Image.open(sys.argv[1]).convert("RGB").filter(ImageFilter.GaussianBlur(0.7))
buf = io.BytesIO()
im.save(buf, "JPEG", quality=85)
Image.open(buf).convert("RGB").save(sys.argv[2])
open(sys.argv[2][:-4] + ".jpg", "wb").write(buf.getvalue())
PY
"$cli" layout convert "$out/painted.png" "$out/clean.png" --to world >"$out/msg" || fail "convert painted: $(cat "$out/msg")"
grep -q "not exactly a class colour: [0-9]* pixels taken as the nearest class colour, [0-9]* from their neighbours" \
  "$out/msg" || fail "painted convert message: $(cat "$out/msg")"
/usr/bin/python3 - "$out/clean.png" <<'PY' || fail "the painted layout's ids"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
want = [0, 1, 2, 3, 8, 13, 255]  # sky, cloud, mountain, water, tree, sign, unlabelled in world ids
bad = [(x, y, im.getpixel((x, y))) for y in range(32) for x in range(64)
       if x % 9 not in (0, 8) and x < 63 and im.getpixel((x, y)) != want[min(x // 9, 6)]]
assert not bad, bad[:10]
print("painted layout read: ok")
PY
# The JPEG itself reads the same (its pixels are what the PNG holds).
"$cli" layout convert "$out/painted.jpg" "$out/clean_jpg.png" --to world >"$out/msg" || fail "convert a JPEG: $(cat "$out/msg")"
cmp -s "$out/clean.png" "$out/clean_jpg.png" || fail "the JPEG layout read otherwise than its pixels as PNG"
# The Python evaluation reads it the same way (dgtrain.world_data.colour_label, the same rule in numpy).
/usr/bin/python3 - "$out/painted.png" "$out/clean.png" <<'PY' || fail "the Python reader differs from the engine's"
import sys
import numpy as np
from PIL import Image
from dgtrain.world_data import colour_label
got = colour_label(np.asarray(Image.open(sys.argv[1]).convert("RGBA")), sys.argv[1])
want = np.asarray(Image.open(sys.argv[2]))
assert (got == want).all(), np.argwhere(got != want)[:10]
PY
"$cli" layout convert "$out/world.png" "$out/x.png" --to nowhere 2>"$out/err"; [ $? -eq 1 ] &&
  grep -q "not world, ade20k, cityscapes" "$out/err" || fail "a bad palette name: $(cat "$out/err")"
"$cli" layout convert "$out/world.png" 2>/dev/null; [ $? -eq 2 ] || fail "missing arguments not refused"

gen() { "$cli" generate --prompt "a street" --steps 1 --seed 5 --quiet "$@"; }
# The tiny model's ALDM ControlNet has a 14-class table: world. A world layout needs no conversion.
gen --model "$model" --layout "$out/world.png" --out "$out/a.png" >"$out/msg" || fail "generate: $(cat "$out/msg")"
grep -q "converted" "$out/msg" && fail "a world layout for a world model was converted"
# A layout painted at another size than asked for is resampled (its regions kept), with a note; without a
# size the image takes the layout's.
gen --model "$model" --layout "$out/world.png" --width 32 --height 16 --out "$out/small.png" >"$out/msg" ||
  fail "generate at half the layout's size: $(cat "$out/msg")"
grep -q "world.png is 64x32; resampled to 32x16" "$out/msg" || fail "resample note: $(cat "$out/msg")"
gen --model "$model" --layout "$out/world.png" --width 128 --out "$out/large.png" >"$out/msg" ||
  fail "generate at twice the layout's width: $(cat "$out/msg")"
grep -q "resampled to 128x64" "$out/msg" || fail "the height follows the aspect ratio: $(cat "$out/msg")"
/usr/bin/python3 -c "
from PIL import Image
for f, size in (('$out/small.png', (32, 16)), ('$out/large.png', (128, 64)), ('$out/a.png', (64, 32))):
    assert Image.open(f).size == size, (f, Image.open(f).size)" || fail "image sizes"
# --palette cityscapes: the world layout is converted, the unmatched classes printed.
gen --model "$model" --layout "$out/world.png" --palette cityscapes --out "$out/b.png" >"$out/msg" ||
  fail "generate --palette cityscapes: $(cat "$out/msg")"
grep -q "painted in world colours, converted to cityscapes" "$out/msg" && grep -q "mountain, water" "$out/msg" ||
  fail "generate conversion note: $(cat "$out/msg")"
# The ControlNet without its class table (as a real ALDM checkpoint): the palette must be chosen...
/usr/bin/python3 "$here/edit_model.py" "$model" "$out/stripped" drop controlnet_aldm dirigent.class_embeddings ||
  fail "strip the table"
gen --model "$out/stripped" --layout "$out/world.png" --out "$out/c.png" 2>"$out/err"
[ $? -eq 1 ] && grep -q "choose a palette" "$out/err" || fail "no table, no names: $(cat "$out/err")"
# ...and with it, the table is computed from its names; text-only generation needs no palette.
gen --model "$out/stripped" --layout "$out/world.png" --palette world --out "$out/c.png" >"$out/msg" ||
  fail "stripped with --palette world: $(cat "$out/msg")"
gen --model "$out/stripped" --out "$out/d.png" >"$out/msg" || fail "stripped, text only: $(cat "$out/msg")"
echo "ok: layout"
