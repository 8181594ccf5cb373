// A document's model choice: "default" (the embedded assets/models folder, or $DIRIGENT_MODEL when
// set) or the path of a model folder or checkpoint file (see dg_generate.h). Resolving a choice to a
// path, naming it for the user and checking it without a device.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "dg_status.h"

#define DG_MODEL_DEFAULT "default"

// True for "default" (and the empty string).
bool dg_model_choice_is_default(const char *choice);
// The default model's path: $DIRIGENT_MODEL when set, else the embedded models folder when it holds
// a model; NULL when neither (g_free the result).
char *dg_model_default_path(void);
// The path a choice names: the default's for "default" (NULL when there is none), else the choice.
char *dg_model_choice_path(const char *choice);
// What the editor shows: "Default (embedded)", "Default: NAME" ($DIRIGENT_MODEL), "Default (none
// installed)", or the folder's or file's name without .safetensors (g_free the result).
char *dg_model_choice_name(const char *choice);
// dg_model_set_check on `path` with the embedded tokenizer as the last resort, as the editor's
// pipeline opens it. Errors name the file; `kind` as there (may be NULL).
dg_status dg_model_choice_check(const char *path, char *kind, size_t kind_size);
// The image size against the rule of the model at `path` opened that way (dg_settings_check_size,
// without a device: the multiple and the largest side; the binding limit is the pipeline's to check).
dg_status dg_model_choice_check_size(const char *path, int width, int height);
// The temporal attention layers of the video UNet of the model folder at `path` (its video_unet.safetensors),
// from the file's header: the attention picture's layers are 0 .. this - 1. 0 when there is no such file or it
// does not read as a UNet3D (a video job says why when it loads it).
int dg_model_choice_video_layers(const char *path);
