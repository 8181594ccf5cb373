#!/usr/bin/env bash
# Paints an example scene through the editor's GActions, generates from it with the default model and saves a window screenshot (docs/editor.png):
#   tests/ui/editor_screenshot.sh build/ui/dirigent docs/editor.png
set -eu
DIRIGENT=$(realpath "$1")
PNG=$(realpath -m "$2")
if [ -z "${DG_SHOT_INNER:-}" ]; then
  DG_SHOT_INNER=1 exec xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- bash "$0" "$DIRIGENT" "$PNG"
fi
TMP=$(mktemp -d)
export XDG_STATE_HOME="$TMP" GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1
"$DIRIGENT" >/dev/null 2>&1 &
APP=$!
for _ in $(seq 100); do
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.dirigent.Dirigent 2>/dev/null | grep -q true && break
  sleep 0.1
done
act() { gapplication action org.dirigent.Dirigent "$@"; }
act fill-rect '(0, 0, 255, 127, 0)'
act fill-polygon '(1, [(20, 14), (40, 8), (62, 12), (70, 20), (30, 22)])'
act fill-polygon '(1, [(150, 10), (175, 5), (200, 9), (190, 17), (160, 18)])'
act fill-polygon '(2, [(0, 62), (40, 30), (70, 48), (110, 22), (160, 58), (200, 36), (255, 60), (255, 72), (0, 72)])'
act fill-rect '(0, 70, 255, 127, 4)'
act fill-polygon '(3, [(190, 84), (250, 80), (255, 96), (200, 98)])'
act fill-polygon '(5, [(112, 70), (140, 70), (200, 127), (40, 127)])'
act fill-polygon '(6, [(104, 70), (112, 70), (40, 127), (22, 127)])'
act fill-rect '(4, 40, 34, 92, 7)'
act fill-rect '(38, 52, 60, 88, 7)'
act paint-stroke '(8, 7, [(72, 62)])'
act paint-stroke '(8, 9, [(86, 58), (88, 66)])'
act paint-stroke '(8, 6, [(176, 66)])'
act fill-rect '(84, 66, 88, 86, 8)'
act fill-polygon '(9, [(112, 100), (118, 92), (138, 92), (144, 100), (146, 110), (110, 110)])'
act paint-stroke '(10, 2, [(160, 88), (160, 104)])'
act paint-stroke '(10, 3, [(160, 85)])'
act fill-rect '(70, 60, 71, 100, 11)'
act fill-rect '(64, 56, 77, 63, 13)'
act paint-stroke '(12, 1, [(200, 104), (255, 104)])'
act set-prompt "'a red car on a country road at dusk, houses and trees, mountains behind'"
act set-negative "'blurry, low quality'"
act set-seed "'424242'"
act select-class 9
# A result from the default model in the strip and on the canvas, the layout faint over it (polls up to 5 min).
act set-opacity 0.15
act generate
for _ in $(seq 600); do
  act dump-state "'$TMP/state.json'"
  python3 -c "import json, sys; sys.exit(json.load(open('$TMP/state.json'))['generating'])" 2>/dev/null && break
  sleep 0.5
done
act timeline-set-frames 32
act timeline-add-stage "(0, 'a red car on a country road at noon')"
act timeline-add-stage "(12, 'a red car on a country road at dusk')"
act timeline-add-stage "(24, 'a red car on a country road at night')"
act timeline-select-stage 1
act playhead 14
sleep 1
act screenshot "'$PNG'"
act quit-discard
wait $APP || true
rm -rf "$TMP"
