// A prompt longer than the model's text encoder reads (77 ids: start, 75 pieces, end) is cut there, as
// SD 1.5 and its tools do; this says so, quoting what was left out, so that the person can move the words
// that matter forward.
#pragma once
#include "dg_model_set.h"

// "the WHAT is N tokens and the text encoder reads the first 75; left out: "REST"" when the model's
// tokenizer cuts `text` (NULL: none), else NULL. Free with g_free.
char *dg_prompt_cut_note(const dg_model_set *m, const char *what, const char *text);
