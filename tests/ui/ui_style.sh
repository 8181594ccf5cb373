#!/usr/bin/env bash
# UI test of the style panel under Xvfb, driven through the editor's GActions:
#   ui_style.sh BUILD/ui/dirigent OUTDIR DESKTOP_FILE TEST_RUNNER_MODULE
# Two results are made with the test-only stand-in job function; the content slot is filled from a result and
# the exemplar from a world sample (bad files refused, naming them, the slots unchanged); the FDA preview
# appears and changes with the strength, with the three radial power spectra (the preview's mean power between
# the content's and the exemplar's); the encoder's preview (the shipped MNE pair) appears once the slider
# rests after a burst of moves; Apply adds a stylized result and Apply to every result restyles them all, each
# one undo step (undone and redone), and restyles only the results it started with that are still there when a
# result is removed and another generated while it runs; compare shows the content beside the preview; the project is saved and
# reopened with its slots, method, strength and stylized results, and a project with a broken style is
# refused with a dialog naming it, the document unchanged. Prints the preview latencies it measured.
set -u
DIRIGENT=$(realpath "$1")
OUT=$(realpath -m "$2")
DESKTOP=$(realpath "$3")
MODULE=$(realpath "$4")
source "$(dirname "$0")/ui_common.sh" "$@"
export DIRIGENT_TEST_RUNNER="$MODULE" DG_TEST_STEP_MS=10
start
act new "(64, 128)"
act fill-rect "(0, 0, 127, 30, 0)"
act fill-rect "(0, 31, 127, 63, 5)"
act set-steps 2
act generate
wait_for results 1 100 >/dev/null
act fill-rect "(40, 20, 90, 50, 9)"
act generate
wait_for results 2 100 >/dev/null
check "two results to style" is "$(state results)/$(state result_styles)" "2/['', '']"

# ---- the slots: each fill one undo step; bad files refused, naming them ----
depth=$(state undo_depth)
act style-set-content "'result 1'"
wait_for style_pending 0 300 >/dev/null # the worker warms up (device, FFT plans) while the exemplar is picked
act style-set-exemplar "'world 7'"
check "content from result 1, exemplar a world sample" is "$(state style_content)/$(state style_exemplar)" "result 1/world 7"
check "  ... two undo steps" is "$(state undo_depth)" $((depth + 2))
act style-set-exemplar "$(q "$OUT/missing.png")"
check "a missing exemplar file is refused, named" has "$(state status)" "$OUT/missing.png"
echo "not a png" >"$OUT/text.png"
act style-set-exemplar "$(q "$OUT/text.png")"
check "a file that is no PNG is refused, named" has "$(state status)" "$OUT/text.png"
convert -size 96x48 gradient:'rgb(250,200,120)-rgb(40,40,90)' -quality 90 "$OUT/dusk.jpg"
act style-set-exemplar "$(q "$OUT/dusk.jpg")"
check "a JPEG exemplar (a photo) is taken" is "$(state style_exemplar)" "file $OUT/dusk.jpg"
act undo
check "  ... and undone" is "$(state style_exemplar)" "world 7"
act style-set-content "'result 9'"
check "a result that does not exist is refused" has "$(state status)" "no result 9"
check "  ... the slots are unchanged" is "$(state style_content)/$(state style_exemplar)/$(state undo_depth)" "result 1/world 7/$((depth + 2))"

# ---- the live preview: FDA at once, changing with the strength ----
wait_for style_pending 0 300 >/dev/null
p0=$(state style_preview)
check "the FDA preview is shown (128x64)" has "$p0" "128x64 "
fda_ms=$(state style_preview_latency_ms)
act style-set-strength 0.2
wait_for style_pending 0 300 >/dev/null
p1=$(state style_preview)
check "the preview changes with the strength" bash -c "[ -n '$p1' ] && [ '$p1' != '$p0' ]"
fda2_ms=$(state style_preview_latency_ms)
check "the spectra of content, exemplar and preview (33 radii at 128x64)" is "$(state style_spectrum_bins)" "[33, 33, 33]"
check "  ... FDA puts the preview's mean power between the content's and the exemplar's" $PY -c "
c, e, p = $(state style_spectrum_dc)
assert min(c, e) - 1e-3 <= p <= max(c, e) + 1e-3 and c != e, (c, e, p)"

# ---- the encoder: a burst of slider moves, one preview once it rests ----
act style-set-method "'mne'"
shown=$(state style_previews_shown)
for s in 0.3 0.5 0.7; do act style-set-strength $s; done
wait_for style_pending 0 600 >/dev/null
p2=$(state style_preview)
check "the encoder's preview is shown and differs from FDA's" bash -c "[ -n '$p2' ] && [ '$p2' != '$p1' ]"
check "  ... at strength 0.7" is "$(state style_strength)" 0.7
mne_ms=$(state style_preview_latency_ms)
mne_run=$(state style_preview_run_ms)
after=$(state style_previews_shown)
check "  ... the burst asked the encoder for at most two previews (debounced)" bash -c "[ $((after - shown)) -ge 1 ] && [ $((after - shown)) -le 2 ]"
act style-set-method "'cubist'"
check "an unknown method is refused" has "$(state status)" "'cubist' is not fda or mne"

# ---- apply: a new result, one undo step ----
depth=$(state undo_depth)
act style-apply
wait_for results 3 600 >/dev/null
check "apply adds a stylized result" has "$(state result_styles)" "'mne 0.70 of world 7']"
check "  ... one undo step" is "$(state undo_depth)" $((depth + 1))
act undo
check "undo removes it" is "$(state results)" 2
act redo
check "redo brings it back" is "$(state results)/$(state style_applying)" 3/False

# ---- apply to every result: all restyled, one undo step ----
act style-set-method "'fda'"
act style-apply-all
wait_for style_applying False 600 >/dev/null
check "every result restyled" is "$(state result_styles)" "['fda 0.70 of world 7', 'fda 0.70 of world 7', 'fda 0.70 of world 7']"
act undo
check "undo restores all of them in one step" is "$(state result_styles)" "['', '', 'mne 0.70 of world 7']"
act redo
check "redo restyles them again" is "$(state result_styles)" "['fda 0.70 of world 7', 'fda 0.70 of world 7', 'fda 0.70 of world 7']"
# ---- apply to every result while the results change: the results it started with, by id ----
# The encoder takes seconds a result: meanwhile undo removes the newest stylized result (a generated one takes
# its place at the end) and a generation adds one. The run restyles the results it started with that are still
# there, skips the removed one and leaves the new one alone, as one undo step.
act style-set-method "'mne'"
act style-apply
wait_for results 4 600 >/dev/null
wait_for style_applying False 600 >/dev/null
act style-apply-all
act undo
act generate
wait_for results 4 100 >/dev/null
check "  ... results changed while every result is restyled: one removed, one generated" \
  is "$(state style_applying)/$(state result_styles)" "True/['fda 0.70 of world 7', 'fda 0.70 of world 7', 'fda 0.70 of world 7', '']"
depth=$(state undo_depth)
wait_for style_applying False 900 >/dev/null
check "  ... the three it started with restyled, the new result untouched" is "$(state result_styles)" \
  "['mne 0.70 of world 7', 'mne 0.70 of world 7', 'mne 0.70 of world 7', '']"
check "  ... saying it skipped the removed one, in one undo step" \
  is "$(state undo_depth)/$(has "$(state status)" "1 removed or changed meanwhile skipped" && echo said)" "$((depth + 1))/said"
act undo
check "  ... undone in one step" is "$(state result_styles)" \
  "['fda 0.70 of world 7', 'fda 0.70 of world 7', 'fda 0.70 of world 7', '']"
act style-set-method "'fda'"
wait_for style_pending 0 300 >/dev/null
p3=$(state style_preview)
act style-compare
check "compare shows the content beside the preview" is "$(state style_compare)" True

# ---- the project keeps the style ----
act save "$(q "$OUT/s.dirigent")"
wait_for saving False 50 >/dev/null
check "the bundle holds both slots" bash -c "[ \$(unzip -l '$OUT/s.dirigent' | grep -c 'style/\(content\|exemplar\).png') = 2 ]"
act new "(32, 64)"
check "a new canvas has an empty style panel" is "$(state style_content)/$(state style_exemplar)/$(state style_preview)" "//"
act open "$(q "$OUT/s.dirigent")"
check "reopened: slots, method, strength" is "$(state style_content)/$(state style_exemplar)/$(state style_method)/$(state style_strength)" "result 1/world 7/fda/0.7"
check "  ... the stylized results" is "$(state results)/$(state result_styles)" "4/['fda 0.70 of world 7', 'fda 0.70 of world 7', 'fda 0.70 of world 7', '']"
wait_for style_pending 0 300 >/dev/null
check "  ... and the same preview (FDA 0.7)" is "$(state style_preview)" "$p3"
# the encoder again, its models loaded: the latency of one slider move
act style-set-method "'mne'"
wait_for style_pending 0 600 >/dev/null
act style-set-strength 0.6
wait_for style_pending 0 600 >/dev/null
mne_warm_ms=$(state style_preview_latency_ms)
mne_warm_run=$(state style_preview_run_ms)
rebundle "$OUT/s.dirigent" "$OUT/broken.dirigent" "b.replace(b'\"method\" : \"fda\"', b'\"method\" : \"cubist\"', 1)"
act open "$(q "$OUT/broken.dirigent")"
check "a project with a broken style is refused naming it" has "$(state dialogs)" "style: method \"cubist\""
check "  ... the open document is unchanged" is "$(state path)/$(state results)/$(state style_method)" "$OUT/s.dirigent/4/mne"
echo "preview latency from the edit to the shown preview: FDA ${fda_ms} ms the first (after the warm-up), ${fda2_ms} ms the next;"
echo "  encoder ${mne_ms} ms after a burst (models loaded on first use; engine ${mne_run} ms), ${mne_warm_ms} ms for one move with the models loaded (engine ${mne_warm_run} ms, 300 ms of it the debounce)"
act screenshot "$(q "$OUT/style.png")"
act quit-discard
wait "$APP"
echo "$fails failures"
[ "$fails" -eq 0 ]
