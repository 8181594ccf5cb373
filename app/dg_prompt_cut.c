#include "dg_prompt_cut.h"

#include <glib.h>

#include "dg_tokenizer.h"

char *dg_prompt_cut_note(const dg_model_set *m, const char *what, const char *text) {
  const dg_tokenizer *tok = dg_model_set_tokenizer(m);
  int pieces;
  int32_t cut;
  if (!tok || !text || dg_tokenizer_cut(tok, text, DG_TOKENS_MAX, &pieces, &cut) != DG_OK || cut < 0) return NULL;
  return g_strdup_printf("the %s is %d tokens and the text encoder reads the first %d; left out: \"%s\"", what, pieces,
                         DG_TOKENS_MAX - 2, text + cut);
}
