#!/usr/bin/env bash
# UI test of the video timeline panel under Xvfb, driven through the editor's GActions:
#   ui_timeline.sh BUILD/ui/dirigent OUTDIR DESKTOP_FILE TINY_MODEL_DIR TINY_VIDEO_UNET VIDEO_PROBE
# A timeline of two stages is built and edited (each edit one undo step: add, move, resize, prompt, frames,
# TAR, keep-layout; real pointer drags of a block and of its edge and a double-click on the track), a 4-frame
# 64x32 video generated with the tiny model and the tiny video UNet of tests/pipeline (2 steps; a 60-step one
# shows its live preview and is cancelled; with a painted layout, keep-layout on and off give other frames),
# the playhead scrubbed (the viewer shows another frame), played and looped, exported as MP4, WebM, GIF and
# PNG frames (decoded back with libav: frame count, size, the job's JSON), a bad export name refused leaving
# no file, and the project saved and reopened with its timeline and frames; a project with a broken timeline
# is refused with a dialog, the document unchanged. An image job before the first video loads no video UNet;
# the first video job loads it once for every later job. The attn layer and attn step spins range over the
# model's temporal layers and the run's steps, and fewer steps or another model clamp the choice. The attention
# picture's layer and step are chosen
# (one undo step each), the running job's picture shows once that step has run, and a layer the model lacks
# fails the job naming it. Every video stays in the results strip (a frame-count badge each); choosing one
# loads it into the player; deleting one is undone; the bundle keeps them all.
set -u
DIRIGENT=$(realpath "$1")
OUT=$(realpath -m "$2")
DESKTOP=$(realpath "$3")
TINY_MODEL=$(realpath "$4")
TINY_VIDEO_UNET=$(realpath "$5")
PROBE=$(realpath "$6")
source "$(dirname "$0")/ui_common.sh" "$@"
# The model: the tiny model's files with the tiny video UNet beside them, as a model folder holds it.
MODEL="$OUT/video-model"
mkdir -p "$MODEL"
for f in text_encoder.safetensors unet.safetensors vae.safetensors controlnet_aldm.safetensors tokenizer; do
  ln -s "$TINY_MODEL/$f" "$MODEL/$f"
done
ln -s "$TINY_VIDEO_UNET" "$MODEL/video_unet.safetensors"
export DIRIGENT_MODEL="$MODEL"
start
act new "(32, 64)"
act set-steps 2
act set-seed "'5'"
act set-guidance 3.0
# The model set opens without its video UNet: an image job never loads it (the first video job does, below).
act set-prompt "$(q 'a red car')"
act generate
wait_for generating False 600 >/dev/null
check "an image job: one result, and no video UNet loaded" is "$(state results)/$(state video_unet_loads)" 1/0

# ---- building the timeline: each edit one undo step ----
check "a new document's timeline: 16 frames, 8 fps, no stage" is "$(state timeline_frames)/$(state timeline_fps)/$(state timeline_stages)" "16/8.0/[]"
act timeline-set-frames 4
check "4 frames" is "$(state timeline_frames)" 4
act timeline-add-stage "(0, 'a red car on a snowy street')"
act timeline-add-stage "(2, 'a blue car on a road in autumn')"
check "two stages" is "$(state timeline_stages)" "[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn']]"
depth=$(state undo_depth)
act timeline-move-stage "(1, 3)"
check "moving stage 2 to frame 3" has "$(state timeline_stages)" "[3, 'a blue car"
check "  ... is one undo step" is "$(state undo_depth)" $((depth + 1))
act undo
check "  ... undone: back at frame 2" has "$(state timeline_stages)" "[2, 'a blue car"
act redo
act timeline-resize-stage "(0, 1)"
check "resizing stage 1 to end at frame 1 starts stage 2 at 2" has "$(state timeline_stages)" "[2, 'a blue car"
act timeline-move-stage "(1, 0)"
check "a stage cannot pass its neighbour (clamped to frame 1)" has "$(state timeline_stages)" "[1, 'a blue car"
act timeline-move-stage "(1, 2)"
act timeline-set-prompt "(1, 'a blue car at night')"
check "a stage's prompt edited" has "$(state timeline_stages)" "[2, 'a blue car at night']"
act undo
check "  ... undone" has "$(state timeline_stages)" "[2, 'a blue car on a road in autumn']"
act timeline-add-stage "(2, 'twice')"
check "a second stage at a frame refused, saying why" has "$(state status)" "frame 2 already has a stage"
act timeline-set-frames 1
check "1 frame refused" is "$(state timeline_frames)" 4
act timeline-set-tar "(2.0, 0.0, 1)"
check "TAR sigma and until" is "$(state timeline_sigma)/$(state timeline_until)" "[2.0, 0.0]/1"
act timeline-set-vsp "'same'"
check "VSP same" is "$(state timeline_vsp)" 2
act timeline-set-vsp "'sideways'"
check "  ... another name refused" has "$(state status)" "'sideways' is not linear, same or off"
act undo
check "  ... undone: linear" is "$(state timeline_vsp)" 1
act timeline-keep-layout
check "keep layout off" is "$(state keep_layout)" False
act undo
check "  ... undone" is "$(state keep_layout)" True
# Real pointer input on the track (xdotool, at the surface positions dump-state's `track` gives): dragging
# stage 2's block one frame right, its right edge, and a double-click each make one undo step.
at() { # at FRAME [1]: "X Y" of that frame's cell middle on the blocks (1: of its left boundary)
  $PY -c "
import json; x, y, c, b = json.load(open('$OUT/state.json'))['track']; f = $1; e = ${2:-0}
print(int(x + (f if e else f + 0.5) * c), int((y + b) / 2))"
}
state track >/dev/null
depth=$(state undo_depth)
xdotool mousemove $(at 2) mousedown 1 mousemove $(at 2 | awk '{print $1 + 20, $2}') mousemove $(at 3) mouseup 1
check "dragging stage 2's block one frame right moves it" wait_for timeline_stages "[[0, 'a red car on a snowy street'], [3, 'a blue car on a road in autumn']]" 20
check "  ... as one undo step" is "$(state undo_depth)" $((depth + 1))
xdotool mousemove $(at 3 1) mousedown 1 mousemove $(at 2 1 | awk '{print $1 + 10, $2}') mousemove $(at 1 1) mouseup 1
check "dragging stage 1's right edge to frame 1 starts stage 2 there" wait_for timeline_stages "[[0, 'a red car on a snowy street'], [1, 'a blue car on a road in autumn']]" 20
check "  ... as one undo step" is "$(state undo_depth)" $((depth + 2))
act undo
act undo
check "  ... both undone" is "$(state timeline_stages)" "[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn']]"
xdotool mousemove $(at 3) click --repeat 2 --delay 80 1
check "a double-click on frame 4's cell adds a stage there, with the document's prompt" wait_for timeline_stages "[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn'], [3, 'a red car']]" 20
check "  ... selected" is "$(state selected_stage)" 2
act undo
check "  ... undone" is "$(state timeline_stages)" "[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn']]"
act timeline-select-stage 1
check "stage 2 selected" is "$(state selected_stage)" 1
act playhead 2
check "the playhead at frame 3 of 4" is "$(state playhead)" 2
act playhead 9
check "  ... clamped to the last frame" is "$(state playhead)" 3
act play
check "nothing to play before a video" is "$(state playing)" False
act timeline-remove-stage 0
act timeline-remove-stage 0
act generate-video
check "a timeline without stages does not start, saying why" has "$(state dialogs)" "Could not start the video: video: the timeline has no prompt stage"
act undo
act undo
check "  ... (the stages back by undo)" is "$(state timeline_stages)" "[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn']]"

# ---- generating: the playhead's frame previewed, the frames kept ----
act timeline-set-fps 7.5 # the video keeps the rate it was made at: its exports below are 7.5 fps
act playhead 2
act generate-video
wait_for generating False 600 >/dev/null
check "a video of 4 frames of 64x32" is "$(state video_frames)/$(state video_size)" 4/64x32
check "  ... the status says so" has "$(state status)" "Generated a video of 4 frames"
check "  ... the frame strip shows 4 frames, the attention matrix 4x4" is "$(state strip_frames)/$(state video_attention)" 4/4
check "  ... no result image was added" is "$(state results)" 1
check "  ... the video UNet was loaded for it" is "$(state video_unet_loads)" 1
act playhead 0
v0=$(state viewer)
act playhead 3
v3=$(state viewer)
check "scrubbing: the viewer shows frame 1 at 64x32" has "$v0" "64x32 "
check "  ... and another picture at frame 4" bash -c "[ '$v0' != '$v3' ] && [[ '$v3' == 64x32* ]]"
# While a video generates, the viewer shows the predicted frame at the playhead (latent resolution), and
# cancel stops the job and keeps the video there was.
check "the attn spins range over the video model's 4 temporal layers and the run's 2 steps" \
  is "$(state attention_range)" "[4, 2]"
act set-steps 60
act playhead 1
act timeline-set-attention "(1, 1)"
check "the attention picture's layer and step chosen" is "$(state timeline_attention)" "[1, 1]"
check "  ... the attn step spin follows the steps: 60" is "$(state attention_range)" "[4, 60]"
act set-steps 1
check "  ... 1 step: the attention picture's step clamped to the last (0), the spin to 1 step" \
  is "$(state attention_range)/$(state timeline_attention)" "[4, 1]/[1, 0]"
act undo
act undo
check "  ... the clamp and the steps undone" is "$(state steps)/$(state timeline_attention)" "60/[1, 1]"
act undo
check "  ... undone" is "$(state timeline_attention)" "[0, 0]"
act redo
act generate-video
check "a longer video job runs" wait_for generating_video True 10
check "  ... its attention picture (layer 1, step 1) shows while it runs" wait_for attention_live True 300
check "  ... 4x4, still running" is "$(state video_attention)/$(state generating_video)" 4/True
for _ in $(seq 100); do [[ "$(state viewer)" == 32x16* ]] && break; sleep 0.1; done
p1=$(state viewer)
check "  ... the viewer shows the live preview (32x16, the latent's size)" has "$p1" "32x16 "
act playhead 3 # the job previews frame 4 from its next step on (tests/pipeline/test_runner_video checks which)
act cancel
check "  ... cancel stops it" wait_for generating False 100
check "  ... and keeps the video there was" is "$(state video_frames)/$(state viewer)" "4/$v3"
check "  ... and its attention picture" is "$(state attention_live)/$(state video_attention)" False/4
act timeline-set-attention "(40, 0)"
act generate-video
wait_for generating False 600 >/dev/null
check "an attention layer the model lacks fails the job naming it" has "$(state dialogs)" "The attention picture's layer 40: this video model has temporal layers 0.."
act set-model "$(q "$MODEL")"
check "choosing a model clamps the attention picture's layer to its last temporal layer" \
  is "$(state model)/$(state timeline_attention)/$(state attention_range)" "$MODEL/[3, 0]/[4, 60]"
act undo
act undo
check "  ... the clamp and the model undone" is "$(state model)/$(state timeline_attention)" "default/[40, 0]"
act undo
act undo
act set-steps 2
act timeline-set-fps 5.0
act loop
act play
check "play with loop" is "$(state playing)/$(state loop)" True/True
seen="" last=-1
for _ in $(seq 60); do # each sample takes a few frames' time; a loaded machine takes longer to wrap
  p=$(state playhead)
  seen="$seen $p"
  [ "$p" -lt "$last" ] && break
  last=$p
done
check "  ... the playhead moves and wraps around ($seen)" $PY -c "
s = [int(x) for x in '$seen'.split()]
assert len(set(s)) > 1 and any(b < a for a, b in zip(s, s[1:])), s"
act play
check "pause" is "$(state playing)" False
act loop
act playhead 3
act play
check "without loop, play stops at the end" wait_for playing False 20
check "  ... at the last frame" is "$(state playhead)" 3

# ---- export: MP4, WebM, GIF, PNG frames, decoded back ----
for f in mp4 webm gif; do
  act export-video "$(q "$OUT/clip.$f")"
  wait_for exporting False 100 >/dev/null
  probe=$("$PROBE" "$OUT/clip.$f" 2>&1)
  check "$f: 4 frames of 64x32 decode" is "$(head -1 <<<"$probe" | cut -d' ' -f1-2)" "4 64x32"
  # 7.5 fps as it is (a rational time base), not rounded to 8: MP4 and WebM say so, GIF's 1/100 s delays (13,
  # 14, 13, 13) make the clip 0.53 s, 4 / 7.5 to within 1/100 s.
  read -r _ _ rate secs <<<"$(head -1 <<<"$probe")"
  check "  ... at 7.5 fps ($rate fps, $secs s)" $PY -c "
assert '$f' == 'gif' or abs($rate - 7.5) < 1e-3, $rate
assert abs($secs - 4 / 7.5) <= 0.0101, $secs"
  check "  ... with the job's JSON (its stages)" has "$probe" '"stages": [{"frame": 0, "prompt": "a red car on a snowy street"}'
done
check "the status names the last export" has "$(state last_export)" "Exported 4 frames of 64x32 to $OUT/clip.gif (gif)"
act export-video "$(q "$OUT/frames/")"
wait_for exporting False 100 >/dev/null
check "PNG frames: 4 files of 64x32" bash -c "[ \$(ls '$OUT/frames' | wc -l) = 4 ] && [ \"\$(identify -format %wx%h '$OUT/frames/frame_0003.png')\" = 64x32 ]"
act export-video "$(q "$OUT/clip.avi")"
check "an unknown export name is refused with a dialog" has "$(state dialogs)" "Could not export the video: $OUT/clip.avi: not a video file name"
check "  ... and writes nothing" bash -c "[ ! -e '$OUT/clip.avi' ] && [ -z \"\$(ls -A '$OUT' | grep '^\.clip')\" ]"

# ---- keep layout: a painted layout conditions the frames through the layout ControlNet, or not ----
act fill-rect "(0, 16, 63, 31, 5)"
act fill-rect "(20, 18, 40, 28, 9)"
act playhead 0
act generate-video
wait_for generating False 600 >/dev/null
with=$(state viewer)
act timeline-keep-layout
act generate-video
wait_for generating False 600 >/dev/null
without=$(state viewer)
check "keep layout changes the frames of a painted layout" bash -c "[ -n '$with' ] && [ '$with' != '$without' ] && [ '$with' != '$v0' ]"
act undo
act generate
wait_for generating False 600 >/dev/null
check "after 5 video jobs and 2 image jobs the video UNet was loaded once" is "$(state results)/$(state video_unet_loads)" 2/1

# ---- every video kept in the results strip; one chosen for the player; one deleted and undone ----
check "3 videos in the results strip, each with its frame count, the newest in the player" is "$(state videos)/$(state video_badges)/$(state current_video)" "3/['4 frames', '4 frames', '4 frames']/2"
act select-video 0
act playhead 0
check "selecting the first video loads it into the player (its frame 1 again)" is "$(state current_video)/$(state viewer)" "0/$v0"
depth=$(state undo_depth)
act delete-video 1
check "deleting video 2 leaves 2, the first still in the player, one undo step" is "$(state videos)/$(state current_video)/$(state undo_depth)" "2/0/$((depth + 1))"
act delete-video 7
check "  ... a video that is not there is refused, saying so" has "$(state status)" "no video 8 to delete"
act undo
check "  ... undone: 3 again" is "$(state videos)/$(state video_badges)/$(state current_video)/$(state viewer)" "3/['4 frames', '4 frames', '4 frames']/0/$v0"

# ---- the project keeps the timeline and the frames ----
act save "$(q "$OUT/t.dirigent")"
wait_for saving False 50 >/dev/null
check "the bundle holds 3 videos of 4 frames, a folder each" bash -c "[ \$(unzip -l '$OUT/t.dirigent' | grep -c 'video/000[1-3]/000[1-4].png') = 12 ]"
act playhead 3
before=$(state viewer)
act new "(32, 64)"
check "a new canvas has no video" is "$(state video_frames)" 0
act open "$(q "$OUT/t.dirigent")"
check "reopened: the timeline" is "$(state timeline_frames)/$(state timeline_stages)" "4/[[0, 'a red car on a snowy street'], [2, 'a blue car on a road in autumn']]"
check "  ... the videos, the first in the player" is "$(state videos)/$(state current_video)/$(state video_frames)/$(state video_size)/$(state video_attention)" 3/0/4/64x32/4
act playhead 3
check "  ... the same frame at the playhead" is "$(state viewer)" "$before"
check "  ... the results strip's \"No results yet\" hint hidden" is "$(state results_hint)" False
# Videos are results too: with videos and no image the hint stays hidden; with neither it shows.
rebundle "$OUT/t.dirigent" "$OUT/videos-only.dirigent" \
  "json.dumps(dict(json.loads(b), results=[], current_result=-1)).encode()"
act open "$(q "$OUT/videos-only.dirigent")"
check "a project of videos and no image: no \"No results yet\" hint beside them" \
  is "$(state results)/$(state videos)/$(state results_hint)" "0/3/False"
act new "(32, 64)"
check "  ... a new canvas, neither images nor videos: the hint" is "$(state results)/$(state videos)/$(state results_hint)" "0/0/True"
act open "$(q "$OUT/t.dirigent")"
# A broken timeline (a stage past the last frame): a dialog naming it, the document unchanged.
rebundle "$OUT/t.dirigent" "$OUT/broken.dirigent" "b.replace(b'\"frame\" : 2,', b'\"frame\" : 9,', 1)"
act open "$(q "$OUT/broken.dirigent")"
check "a project with a broken timeline is refused naming the stage" has "$(state dialogs)" "timeline: stage 2 at frame 9, outside 0..3"
check "  ... the open document is unchanged" is "$(state path)/$(state video_frames)" "$OUT/t.dirigent/4"

act screenshot "$(q "$OUT/timeline.png")"
act quit-discard
wait "$APP"
echo "$fails failures"
[ "$fails" -eq 0 ]
