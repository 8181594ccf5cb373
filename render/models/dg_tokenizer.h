// CLIP's byte-level BPE tokenizer, giving the same ids as Hugging Face's CLIPTokenizer (slow, without
// ftfy) and our Python reference (tools/train/dgtrain/tokenizer.py): special tokens split out, control
// characters dropped, whitespace collapsed, NFC, lower-case, CLIP's pre-tokenisation pattern, byte to
// unicode mapping, "</w>" word ends, merges by rank, start/end tokens, truncation and padding to 77.
// Reads a tokenizer folder (vocab.json + merges.txt), SD 1.5's or our own (assets/tokenizer/).
#pragma once
#include <stdint.h>

#include "dg_status.h"

typedef struct dg_tokenizer dg_tokenizer;

#define DG_TOKENS_MAX 77

// One token's [start, end) byte range in the encoded text; -1/-1 for the added start, end and pad
// tokens. Pieces of a non-ASCII word all carry the whole word's range.
typedef struct dg_token_span {
  int32_t start, end;
} dg_token_span;

dg_status dg_tokenizer_load(const char *dir, dg_tokenizer **out);
void dg_tokenizer_free(dg_tokenizer *tok);
// Pads with this id instead of the end token (OpenCLIP tokenizers pad with 0).
void dg_tokenizer_set_pad_id(dg_tokenizer *tok, int32_t pad_id);
int32_t dg_tokenizer_vocab_size(const dg_tokenizer *tok);

// Encodes UTF-8 text into exactly `max_len` ids (<= 77): start, pieces (truncated), end, padding.
// spans (optional) receives max_len entries. *n_tokens (optional) is the count before padding.
// Invalid UTF-8 is an error naming the byte offset.
dg_status dg_tokenizer_encode(const dg_tokenizer *tok, const char *text, int max_len, int32_t *ids,
                              dg_token_span *spans, int *n_tokens);
// Where encoding to `max_len` ids truncates `text`: *cut gets the byte offset of the first piece left out
// (-1 when every piece fits), *pieces (optional) the count of its pieces without start and end (at most 4096).
dg_status dg_tokenizer_cut(const dg_tokenizer *tok, const char *text, int max_len, int *pieces, int32_t *cut);
