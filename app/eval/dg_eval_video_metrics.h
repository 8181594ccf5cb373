// The numbers of the VSTAR evaluation (issue 19, `dirigent-cli eval video`) that need no model: the
// ground-truth stage of each frame, stage-following accuracy and transition position from per-frame
// image-text similarities, the band mass of a temporal attention matrix, adjacent-frame similarity and
// difference, and the layout's stability between consecutive frames' segmentations.
#pragma once
#include <stddef.h>
#include <stdint.h>

// Stage k holds frames start[k]..end[k] (inclusive) of a src_frames-long clip; the same span scaled to
// `frames`: s_start[k] = floor(start[k] * frames / src_frames), s_end[k] = floor((end[k] + 1) * frames /
// src_frames) - 1 (so a clip's frames keep their stage when frames == src_frames).
void dg_eval_video_scale_stages(const int *start, const int *end, int n_stages, int src_frames, int frames,
                                int *s_start, int *s_end);
// truth[f] for f < frames: the stage whose span holds f, -1 for frames between stages (transitions).
void dg_eval_video_truth(const int *start, const int *end, int n_stages, int frames, int *truth);

// sim [frames * n_stages]: frame f's similarity to stage k's text at sim[f * n_stages + k]. The share of
// the frames with a stage (truth >= 0) whose most similar stage is theirs; NaN with fewer than 2 stages
// (nothing to tell apart) or no such frame.
double dg_eval_video_stage_accuracy(const float *sim, int frames, int n_stages, const int *truth);
// The frame at which stage k + 1 takes over from stage k, judged on frames start[k]..end[k + 1]: the
// split p (the first frame of k + 1, start[k] < p <= end[k + 1]) that the fewest frames disagree with (a
// frame before p more similar to k + 1 than to k, or one from p on more similar to k); the mean of the
// tied splits.
double dg_eval_video_transition_at(const float *sim, int n_stages, int k, const int *start, const int *end);
// The mean over the transitions k -> k + 1 of |judged - true| in frames, the true position being the
// middle of the frames between the stages, (end[k] + 1 + start[k + 1]) / 2; NaN with fewer than 2 stages.
double dg_eval_video_transition_error(const float *sim, int n_stages, const int *start, const int *end);
// How sharp transition k -> k + 1 is, in frames: with the preference d_f = sim(k + 1) - sim(k) and its
// medians over the two stages' own frames as the levels, one plus the frames of start[k]..end[k + 1] whose
// preference lies between 10% and 90% of the way from stage k's level to stage k + 1's: 1 for a cut, about
// 0.8 n + 1 for a linear cross-fade over n frames. NaN when stage k + 1's frames do not prefer its text more
// than stage k's do (no transition to measure).
double dg_eval_video_transition_width_at(const float *sim, int n_stages, int k, const int *start, const int *end);
// The mean of the defined widths over the transitions; NaN with fewer than 2 stages or none defined.
double dg_eval_video_transition_width(const float *sim, int n_stages, const int *start, const int *end);

// probs [frames * frames], row i the attention of query frame i over the key frames (rows sum to 1):
// the share of the total mass within |i - j| <= band.
double dg_eval_video_band_mass(const float *probs, int frames, int band);

// The mean over the frames - 1 adjacent pairs of the mean absolute difference of their bytes (0..255);
// rgb holds `frames` frames of frame_bytes each.
double dg_eval_video_adjacent_l1(const uint8_t *rgb, int frames, size_t frame_bytes);
// The mean cosine of adjacent frames' unit embeddings emb [frames * dim].
double dg_eval_video_adjacent_cosine(const float *emb, int frames, int dim);
// classes [frames * pixels], class ids < k: the mean over adjacent pairs of the mIoU of frame f + 1's
// classes against frame f's (dg_eval_iou); NaN for fewer than 2 frames.
double dg_eval_video_layout_stability(const uint8_t *classes, int frames, int64_t pixels, int k);
