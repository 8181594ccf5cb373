// The rules for generation settings that the CLI and the editor share, each refusal stating the rule:
// seeds, steps, guidance, prompt texts, the image size a model takes (checked from the model's file
// headers before anything is loaded) and output paths (checked before any work).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_device.h"
#include "dg_generate.h"

#define DG_SETTINGS_MAX_STEPS 1000
#define DG_SETTINGS_MAX_GUIDANCE 100.0
// The layout ControlNet's residual scale ("layout strength" in the editor, `--control-scale` on the CLI):
// above 0, at most this; 1 is the ControlNet as trained.
#define DG_SETTINGS_MAX_CONTROL_SCALE 4.0
// The sampling of a live-mode frame (the editor regenerates after every edit; the full-quality render after
// the edits stop takes the document's steps and guidance): 4 DDIM steps at guidance 1 (one UNet pass per
// step instead of two, no unconditional pass) with the layout ControlNet's residuals doubled, which keeps
// 0.82 of the 25-step render's mIoU on the world test layouts (4 steps as trained: 0.65). Chosen by latency
// and mIoU (docs/evaluation.md, "Live mode"; docs/performance.md). The one place these numbers live.
// Live frames decode with the model's tiny decoder where it has one (assets/models/tiny_decoder.safetensors,
// distilled from the VAE decoder; DG_SETTINGS_LIVE_FAST_DECODE).
#define DG_SETTINGS_LIVE_STEPS 4
#define DG_SETTINGS_LIVE_GUIDANCE 1.0
// A live frame's layout ControlNet scale is this times the document's layout strength
// (dg_document_control_scale, 1 unless the person changed it): the residuals doubled keep the layout at 4 steps,
// and the person's setting is felt in live frames as in full renders (dg_job_start_sampling multiplies).
#define DG_SETTINGS_LIVE_CONTROL_SCALE 2.0
#define DG_SETTINGS_LIVE_FAST_DECODE true
#define DG_SETTINGS_LIVE_SAMPLING                                                                          \
  ((dg_job_sampling){DG_SETTINGS_LIVE_STEPS, DG_SETTINGS_LIVE_GUIDANCE, DG_SETTINGS_LIVE_CONTROL_SCALE,   \
                     DG_SETTINGS_LIVE_FAST_DECODE})

// A seed: decimal digits only, 0 to 2^64 - 1 (no sign, no spaces). `what` names the setting ("--seed").
dg_status dg_settings_parse_seed(const char *what, const char *text, uint64_t *out);
dg_status dg_settings_check_steps(const char *what, long steps);
dg_status dg_settings_check_guidance(const char *what, double guidance);
// The layout ControlNet's scale: above 0, at most DG_SETTINGS_MAX_CONTROL_SCALE (NaN refused).
dg_status dg_settings_check_control_scale(const char *what, double scale);
// The same rules for text (command-line values): steps, guidance, the layout ControlNet's scale, and an image
// side (a whole number from 1 to DG_GENERATE_MAX_SIDE; the model's rule is dg_settings_check_size's).
dg_status dg_settings_parse_steps(const char *what, const char *text, int *out);
dg_status dg_settings_parse_guidance(const char *what, const char *text, double *out);
dg_status dg_settings_parse_control_scale(const char *what, const char *text, double *out);
dg_status dg_settings_parse_side(const char *what, const char *text, int *out);
// Valid UTF-8 (`what`: "prompt", "negative prompt").
dg_status dg_settings_check_text(const char *what, const char *text);
// The image size against the rule of the model set `model` (dg_model_sizes_check; the device's binding
// limit when `device` is given), reading only its file headers. Errors name the model's files or state
// the rule.
dg_status dg_settings_check_size(const char *model, const dg_model_options *o, const dg_device *device, int width,
                                 int height);
// A file that will be written (after the work, by rename in its folder): a name that is not empty and not
// a folder, in a folder that exists and may be written. `what` names the option ("--out").
dg_status dg_settings_check_output(const char *what, const char *path);
// A folder that files will be written into: created (with parents) if missing, and writable.
dg_status dg_settings_check_output_dir(const char *what, const char *dir);
// The marks text (dg_marks.h) a run with the attention guidance `kind` uses, g_malloc'd into *out:
// `marks` when it is not blank; else, for a guidance other than none, the automatic suggestion for
// `prompt` (dg_marks_suggest with the layout palette's class names), *suggested then true. A guidance
// other than none left with no marked word is DG_ERR_ARG: "<what> needs at least one marked object:
// <how>" (what: "--guidance divide-bind", how: "--object WORD").
dg_status dg_settings_guidance_marks(dg_guidance_kind kind, const char *marks, const char *prompt,
                                     const char *const *classes, int n_classes, const char *what, const char *how,
                                     char **out, bool *suggested);
