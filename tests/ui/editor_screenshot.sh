#!/usr/bin/env bash
# Paints an example scene through the editor's GActions, generates from it with the default model and saves a window screenshot (docs/editor.png):
#   tests/ui/editor_screenshot.sh build/ui/dirigent docs/editor.png
set -eu
DIRIGENT=$(realpath "$1")
PNG=$(realpath -m "$2")
if [ -z "${DG_SHOT_INNER:-}" ]; then
  DG_SHOT_INNER=1 exec xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- bash "$0" "$DIRIGENT" "$PNG"
fi
source "$(dirname "$0")/screenshot_common.sh"
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
