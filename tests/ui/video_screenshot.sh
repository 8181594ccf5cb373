#!/usr/bin/env bash
# Makes a video in the editor with the default model as a person would: the README's example scene painted,
# three prompt stages on a 16-frame timeline (noon, dusk, night), the layout kept, Generate video; then
# scrubs to the middle stage, saves a window screenshot and exports the video as MP4:
#   tests/ui/video_screenshot.sh build/ui/dirigent docs/editor-video.png OUTDIR
# OUTDIR gets clip.mp4, state.json (dump-state after the export) and seconds.txt (the video job's wall time).
# Not a test (minutes on lavapipe); docs/editor.md says what it showed.
set -eu
DIRIGENT=$(realpath "$1")
PNG=$(realpath -m "$2")
OUT=$(realpath -m "$3")
if [ -z "${DG_SHOT_INNER:-}" ]; then
  mkdir -p "$OUT"
  DG_SHOT_INNER=1 exec xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- bash "$0" "$DIRIGENT" "$PNG" "$OUT"
fi
APP_LOG="$OUT/app.log"
source "$(dirname "$0")/screenshot_common.sh"
state() { act dump-state "'$OUT/state.json'" && python3 -c "import json, sys; print(json.load(open('$OUT/state.json'))[sys.argv[1]])" "$1"; }
act set-opacity 0.15
act timeline-set-frames 16
act timeline-add-stage "(0, 'a red car on a country road at noon')"
act timeline-add-stage "(6, 'a red car on a country road at dusk')"
act timeline-add-stage "(11, 'a red car on a country road at night')"
t0=$(date +%s)
act generate-video
sleep 2
for _ in $(seq 3600); do # up to 30 min
  [ "$(state generating_video)" = False ] && break
  sleep 0.5
done
echo $(($(date +%s) - t0)) >"$OUT/seconds.txt"
[ "$(state video_frames)" = 16 ] || { echo "no 16-frame video: $(state status)"; act quit-discard; exit 1; }
act timeline-select-stage 1
act playhead 8
sleep 1
act screenshot "'$PNG'"
act export-video "'$OUT/clip.mp4'"
for _ in $(seq 600); do
  [[ "$(state last_export)" == Exported* ]] && break
  sleep 0.2
done
state last_export
act quit-discard
wait $APP || true
rm -rf "$TMP"
