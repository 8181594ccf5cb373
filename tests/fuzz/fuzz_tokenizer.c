// The BPE tokenizer's files (dg_tokenizer_load: vocab.json and merges.txt of a tokenizer folder) and
// the encoding of a prompt with them (dg_tokenizer_encode). The input holds vocab.json, merges.txt
// and an optional prompt, separated by FUZZ_SEPARATOR; without a prompt, fixed ones are encoded.
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "dg_tokenizer.h"
#include "fuzz_util.h"

static char *tok_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  tok_dir = fuzz_path("tokenizer");
  if (g_mkdir(tok_dir, 0700) != 0) fuzz_fail("cannot create %s", tok_dir);
  return 0;
}

static void encode(const dg_tokenizer *tok, const char *text, int max_len) {
  int32_t ids[DG_TOKENS_MAX];
  dg_token_span spans[DG_TOKENS_MAX];
  int n = -1;
  dg_clear_error();
  dg_status s = dg_tokenizer_encode(tok, text, max_len, ids, spans, &n);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_tokenizer_encode");
    return;
  }
  int len = (int)strlen(text);
  if (n < 2 || n > max_len) fuzz_fail("%d tokens of at most %d", n, max_len);
  for (int i = 0; i < max_len; i++)
    if (!(spans[i].start == -1 && spans[i].end == -1) &&
        !(spans[i].start >= 0 && spans[i].start <= spans[i].end && spans[i].end <= len))
      fuzz_fail("token %d spans [%d, %d) of %d bytes", i, spans[i].start, spans[i].end, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_part parts[3];
  int n = fuzz_split(data, size, parts, 3);
  g_free(fuzz_write("tokenizer/vocab.json", parts[0].data, parts[0].size));
  g_free(fuzz_write("tokenizer/merges.txt", parts[1].data, parts[1].size));
  dg_tokenizer *tok = NULL;
  dg_clear_error();
  dg_status s = dg_tokenizer_load(tok_dir, &tok);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_tokenizer_load");
    if (tok) fuzz_fail("a failed load returned a tokenizer");
    return 0;
  }
  if (dg_tokenizer_vocab_size(tok) < 2) fuzz_fail("a vocabulary of %d tokens", dg_tokenizer_vocab_size(tok));
  if (n == 3) {
    char *prompt = fuzz_strndup(parts[2].data, parts[2].size);
    encode(tok, prompt, DG_TOKENS_MAX);
    encode(tok, prompt, 5);
    free(prompt);
  } else {
    encode(tok, "a red car on a road by the sea, at night", DG_TOKENS_MAX);
    encode(tok, "<|startoftext|>Ünïcödé 東京 don't 1234 ,.!?<|endoftext|>", 8);
  }
  dg_tokenizer_free(tok);
  return 0;
}
