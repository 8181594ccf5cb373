// Where the embedded assets (models, tokenizer, palettes) are: $DIRIGENT_ASSETS, the source tree's
// assets/ (a build that has not been installed), then the installed data directory.
#pragma once

// The path of `relative` (e.g. "palettes/world.json") in the first of those directories that has
// it, or in the first directory that exists when none has it (g_free the result).
char *dg_assets_path(const char *relative);
