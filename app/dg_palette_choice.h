// The layout palette that follows the model: which class palette a model set's layout ControlNet
// was trained with (docs/palettes.md), from what dg_model_control_inspect reads of its files.
#pragma once
#include <stddef.h>

#include "dg_model_set.h"
#include "dg_palette.h"

// The palette for `info` (NULL when it cannot be told; *status then says why and what to pass):
// - no layout ControlNet: "world" (the default; a text-only set paints nothing);
// - the ControlNet's "class_names": the shipped palette with exactly those names in that order, else a
//   palette of those names whose colours come from the shipped palettes by name where free, else
//   distinct generated ones;
// - an ALDM (id-hint) ControlNet with a stored class table of 14 / 19 / 150 classes: world /
//   cityscapes / ade20k; with no table and no names it cannot be told (real ALDM checkpoints);
// - a colour-hint ControlNet without names: "ade20k" (stock segmentation ControlNets).
// `why` (may be NULL) gets one line saying which rule chose it.
dg_palette *dg_palette_for_control(const dg_model_control_info *info, char *why, size_t why_size, dg_status *status);

// The class names of `p` as a NULL-terminated array of its own strings (free the array only).
const char **dg_palette_class_names(const dg_palette *p);
