// Generated images as PNG files that carry how they were made: an A1111-compatible `parameters`
// text chunk (what other tools read) and a `dirigent` JSON chunk with the whole job, read back to
// restore the settings. The CLI and the editor both write through here.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dg_guidance.h"
#include "dg_status.h"

typedef struct dg_generation_info {
  char *prompt, *negative, *sampler, *model, *layout; // layout: its source file, or "" / "editor"
  char *marks; // the marked words (dg_marks.h's text: "red:car, car#2"), "" or NULL for none
  dg_guidance_kind guidance; // the marked objects' attention guidance (not cfg, the CFG scale)
  int steps, width, height;
  double cfg;
  // The layout ControlNet's residual scale (the editor's layout strength, the CLI's --control-scale); 1 as
  // trained, and 0 (not set) is written as 1.
  double control_scale;
  uint64_t seed;
} dg_generation_info;

// pixels: width*height*channels bytes (3 = RGB, 4 = RGBA). The file is written to a temporary name
// and renamed, so a failure leaves no partial file.
dg_status dg_generation_png_write(const char *path, const uint8_t *pixels, int channels, const dg_generation_info *info);
// The marks go into `parameters` as `Marks: "TEXT"` (quoted, as A1111 quotes values holding commas)
// and into the job as "marks"; files without them read as no marks. The guidance, unless none, goes into
// `parameters` as `Guidance: divide-bind` and into the job as "guidance" (dg_guidance_name); files
// without it read as none, a name other than those is DG_ERR_FORMAT naming it. The control scale goes into
// the job as "control_scale" and, unless 1, into `parameters` as `Control scale: 1.5`; files without it (older
// ones, other tools') read as 1, a value outside above 0 .. 4 (DG_SETTINGS_MAX_CONTROL_SCALE) is DG_ERR_FORMAT
// naming the file and the value.
// Reads the `dirigent` chunk (or, failing that, parses an A1111 `parameters` chunk) into *out; the
// strings are g_malloc'd UTF-8 (free with dg_generation_info_clear). DG_ERR_FORMAT if the PNG has neither,
// or if the chunk to read is unreadable (an iTXt chunk that is not UTF-8, nesting past the JSON limit).
// The image itself is not decoded.
dg_status dg_generation_png_read(const char *path, dg_generation_info *out);
void dg_generation_info_clear(dg_generation_info *info);
