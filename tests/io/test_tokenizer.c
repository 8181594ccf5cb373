// The tokenizer's files as outside data (no device): the shipped tokenizer loads and encodes; broken
// vocab.json and merges.txt files fail with a message. Ids are checked against the Python reference
// by tests/golden/test_golden_clip_text.
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_tokenizer.h"
#include "io_util.h"

static const char vocab[] = "{\"<|startoftext|>\": 0, \"<|endoftext|>\": 1, \"a</w>\": 2, \"b</w>\": 3, \"a\": 4}";

// Writes DIR/vocab.json and DIR/merges.txt (merges_len bytes) and loads them.
static dg_status load(const char *dir, const char *merges, size_t merges_len, dg_tokenizer **tok) {
  char *v = g_build_filename(dir, "vocab.json", NULL), *m = g_build_filename(dir, "merges.txt", NULL);
  io_write_file(v, vocab, strlen(vocab));
  io_write_file(m, merges, merges_len);
  g_free(v);
  g_free(m);
  return dg_tokenizer_load(dir, tok);
}

int main(void) {
  dg_tokenizer *tok = NULL;
  if (dg_check_status(dg_tokenizer_load(DG_SOURCE_DIR "/assets/tokenizer", &tok), "the shipped tokenizer loads")) {
    int32_t ids[DG_TOKENS_MAX];
    int n = 0;
    dg_check_status(dg_tokenizer_encode(tok, "a red car by the sea", DG_TOKENS_MAX, ids, NULL, &n), "encode");
    dg_check(n >= 7 && ids[0] != ids[n - 1], "start and end tokens around the words (%d tokens)", n);
    dg_check_error(dg_tokenizer_encode(tok, "bad \xff", DG_TOKENS_MAX, ids, NULL, &n), DG_ERR_ARG, "byte 4",
                   "invalid UTF-8 prompt");
    // Where truncation cuts: nowhere for a short prompt; for a long one, at the first piece past the 75th,
    // which is where encoding's spans stop.
    int pieces;
    int32_t cut;
    dg_check(dg_tokenizer_cut(tok, "a red car by the sea", DG_TOKENS_MAX, &pieces, &cut) == DG_OK && cut == -1 &&
                 pieces == n - 2,
             "a short prompt is not cut (%d pieces, cut %d)", pieces, cut);
    char long_text[1200] = "";
    for (int i = 0; i < 40; i++)
      strcat(long_text, i ? " a red car" : "a red car");
    dg_token_span spans[DG_TOKENS_MAX];
    dg_check_status(dg_tokenizer_encode(tok, long_text, DG_TOKENS_MAX, ids, spans, &n), "encode a long prompt");
    dg_status st = dg_tokenizer_cut(tok, long_text, DG_TOKENS_MAX, &pieces, &cut);
    dg_check(st == DG_OK && pieces == 120 && n == 77 && cut >= spans[75].end && cut == 250 && !strncmp(long_text + cut, "a red car", 9),
             "40 x 'a red car': 120 pieces (%d), cut after the 75th (at %d: '%.13s')", pieces, cut,
             cut >= 0 ? long_text + cut : "");
    dg_check_error(dg_tokenizer_cut(tok, "bad \xff", DG_TOKENS_MAX, &pieces, &cut), DG_ERR_ARG, "byte 4",
                   "invalid UTF-8 prompt to cut");
    dg_tokenizer_free(tok);
  }

  char *dir = io_tmpdir();
  // An empty or blank merges.txt (found by tests/fuzz/fuzz_tokenizer: the line loop read past the end
  // of an empty split) is a tokenizer without merges.
  const char *blank[] = {"", " \n\t\n", "#version: 0.2\n"};
  for (int i = 0; i < 3; i++) {
    tok = NULL;
    if (dg_check_status(load(dir, blank[i], strlen(blank[i]), &tok), "merges without pairs")) {
      int32_t ids[4];
      dg_check_status(dg_tokenizer_encode(tok, "ab", 4, ids, NULL, NULL), "encode without merges");
      dg_check(ids[0] == 0 && ids[1] == 4 && ids[2] == 3 && ids[3] == 1, "a, b</w> as single pieces");
    }
    dg_tokenizer_free(tok);
  }
  static const char nul[] = "\0\0\0Hsion: 0.2\na b</w>\n";
  tok = NULL;
  dg_check_error(load(dir, nul, sizeof nul - 1, &tok), DG_ERR_FORMAT, "NUL byte", "merges.txt with NUL bytes");
  dg_check(tok == NULL, "no tokenizer from a failed load");
  dg_check_error(load(dir, "#version\na b c\n", 15, &tok), DG_ERR_FORMAT, "line 2", "a line of three symbols");
  io_rmtree(dir);
  free(dir);
  return dg_check_finish("test_tokenizer");
}
