#include "dg_tokenizer.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_file.h"
#include "dg_json.h"

#define SOT "<|startoftext|>"
#define EOT "<|endoftext|>"
#define MAX_MERGES (49152 - 256 - 2) // what HF reads of merges.txt

struct dg_tokenizer {
  GHashTable *vocab; // piece (UTF-8) -> id + 1
  GHashTable *ranks; // "first second" -> rank + 1
  char byte_chars[256][4]; // bytes_to_unicode as UTF-8
  int32_t sot, eot, pad;
};

static void init_byte_chars(dg_tokenizer *t) {
  bool printable[256] = {0};
  for (int b = '!'; b <= '~'; b++) printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
  int n = 0;
  for (int b = 0; b < 256; b++) {
    gunichar c = printable[b] ? (gunichar)b : (gunichar)(256 + n++);
    int len = g_unichar_to_utf8(c, t->byte_chars[b]);
    t->byte_chars[b][len] = '\0';
  }
}

// vocab.json and merges.txt: regular files of at most this size (CLIP's are 0.9 and 0.5 MB).
#define DG_TOKENIZER_MAX_FILE (64u << 20)

static char *read_file(const char *path, size_t *len) {
  char *data = NULL;
  if (dg_file_read(path, DG_TOKENIZER_MAX_FILE, &data, len) != DG_OK) return NULL;
  return data;
}

static int32_t lookup(GHashTable *h, const char *key) {
  gpointer v = g_hash_table_lookup(h, key);
  return v ? (int32_t)(GPOINTER_TO_INT(v) - 1) : -1;
}

static dg_status load_vocab(dg_tokenizer *t, const char *path) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return dg_fail(DG_ERR_IO, "tokenizer: %s", dg_last_error());
  dg_json *doc;
  dg_status s = dg_json_parse(text, len, path, 0, 0, &doc);
  free(text);
  if (s != DG_OK) return s;
  const dg_json_value *root = dg_json_root(doc);
  if (root->type != DG_JSON_OBJECT) s = dg_fail(DG_ERR_FORMAT, "tokenizer: %s is not a JSON object", path);
  for (size_t i = 0; s == DG_OK && i < root->count; i++) {
    const dg_json_member *m = &root->members[i];
    if (m->value->type != DG_JSON_NUMBER || !m->value->is_uint || m->value->uint >= (1u << 30))
      s = dg_fail(DG_ERR_FORMAT, "tokenizer: %s: id of '%s' is not a small non-negative integer", path, m->key);
    else g_hash_table_insert(t->vocab, g_strdup(m->key), GINT_TO_POINTER((int)m->value->uint + 1));
  }
  dg_json_free(doc);
  return s;
}

static dg_status load_merges(dg_tokenizer *t, const char *path) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return dg_fail(DG_ERR_IO, "tokenizer: %s", dg_last_error());
  if (memchr(text, 0, len)) {
    free(text);
    return dg_fail(DG_ERR_FORMAT, "tokenizer: %s holds a NUL byte (not a merges file)", path);
  }
  // HF: strip, split on \n, skip the first ("#version") line, keep MAX_MERGES lines. An empty file
  // splits into no lines at all.
  char **lines = g_strsplit(g_strstrip(text), "\n", -1);
  dg_status s = DG_OK;
  int rank = 0;
  for (int i = 1; lines[0] && lines[i] && rank < MAX_MERGES; i++) {
    char **parts = g_strsplit_set(lines[i], " \t\r", -1);
    char *words[2];
    int n = 0;
    for (int k = 0; parts[k]; k++)
      if (parts[k][0] && n < 3) words[n < 2 ? n : 1] = parts[k], n++;
    if (n != 2) s = dg_fail(DG_ERR_FORMAT, "tokenizer: %s line %d is not a pair of symbols", path, i + 1);
    else g_hash_table_insert(t->ranks, g_strconcat(words[0], " ", words[1], NULL), GINT_TO_POINTER(++rank));
    g_strfreev(parts);
    if (s != DG_OK) break;
  }
  g_strfreev(lines);
  free(text);
  return s;
}

dg_status dg_tokenizer_load(const char *dir, dg_tokenizer **out) {
  *out = NULL;
  dg_tokenizer *t = calloc(1, sizeof *t);
  if (!t) return dg_fail(DG_ERR_OOM, "out of host memory");
  t->vocab = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  t->ranks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  init_byte_chars(t);
  char *vocab = g_build_filename(dir, "vocab.json", NULL), *merges = g_build_filename(dir, "merges.txt", NULL);
  dg_status s = load_vocab(t, vocab);
  if (s == DG_OK) s = load_merges(t, merges);
  if (s == DG_OK) {
    t->sot = lookup(t->vocab, SOT);
    t->eot = t->pad = lookup(t->vocab, EOT);
    if (t->sot < 0 || t->eot < 0) s = dg_fail(DG_ERR_FORMAT, "tokenizer: %s lacks %s or %s", vocab, SOT, EOT);
  }
  g_free(vocab);
  g_free(merges);
  if (s != DG_OK) {
    dg_tokenizer_free(t);
    return s;
  }
  *out = t;
  return DG_OK;
}

void dg_tokenizer_free(dg_tokenizer *t) {
  if (!t) return;
  g_hash_table_destroy(t->vocab);
  g_hash_table_destroy(t->ranks);
  free(t);
}

void dg_tokenizer_set_pad_id(dg_tokenizer *t, int32_t pad_id) { t->pad = pad_id; }
int32_t dg_tokenizer_vocab_size(const dg_tokenizer *t) { return (int32_t)g_hash_table_size(t->vocab); }

// ---- encoding ------------------------------------------------------------------------------

typedef struct token_list {
  int32_t ids[4096];
  dg_token_span spans[4096];
  int n;
} token_list;

static void push_token(token_list *l, int32_t id, int32_t start, int32_t end) {
  if (l->n < (int)(sizeof l->ids / sizeof l->ids[0])) {
    l->ids[l->n] = id;
    l->spans[l->n] = (dg_token_span){start, end};
    l->n++;
  }
}

static bool is_letter(gunichar c) {
  if (c == 0x345) return false; // matches neither class in the regex module (see tokenizer.py)
  switch (g_unichar_type(c)) {
  case G_UNICODE_LOWERCASE_LETTER:
  case G_UNICODE_MODIFIER_LETTER:
  case G_UNICODE_OTHER_LETTER:
  case G_UNICODE_TITLECASE_LETTER:
  case G_UNICODE_UPPERCASE_LETTER: return true;
  default: return false;
  }
}

static bool is_number(gunichar c) {
  GUnicodeType ty = g_unichar_type(c);
  return ty == G_UNICODE_DECIMAL_NUMBER || ty == G_UNICODE_LETTER_NUMBER || ty == G_UNICODE_OTHER_NUMBER;
}

static bool is_control(gunichar c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  GUnicodeType ty = g_unichar_type(c);
  return ty == G_UNICODE_CONTROL || ty == G_UNICODE_FORMAT || ty == G_UNICODE_UNASSIGNED ||
         ty == G_UNICODE_PRIVATE_USE || ty == G_UNICODE_SURROGATE;
}

static bool is_space_char(gunichar c) { // Python str.isspace() for what survives the cleanup
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d ||
         c == 0x1e || c == 0x1f || c == 0x85 || g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR ||
         g_unichar_type(c) == G_UNICODE_LINE_SEPARATOR || g_unichar_type(c) == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static bool is_cjk(gunichar cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// BPE of one pre-token (UTF-8 of the normalised text): appends its pieces' ids.
static void bpe(const dg_tokenizer *t, const char *piece, size_t len, int32_t start, int32_t end, token_list *out) {
  // Symbols: one per byte, as bytes_to_unicode strings; the last gets "</w>".
  size_t n = len;
  char **sym = malloc(n * sizeof *sym);
  for (size_t i = 0; i < n; i++)
    sym[i] = g_strconcat(t->byte_chars[(unsigned char)piece[i]], i + 1 == n ? "</w>" : "", NULL);
  GString *key = g_string_new(NULL);
  while (n > 1) {
    int best_rank = 0;
    size_t best = 0;
    for (size_t i = 0; i + 1 < n; i++) {
      g_string_printf(key, "%s %s", sym[i], sym[i + 1]);
      int r = GPOINTER_TO_INT(g_hash_table_lookup(t->ranks, key->str));
      if (r && (!best_rank || r < best_rank)) best_rank = r, best = i;
    }
    if (!best_rank) break;
    // Merge every occurrence of the best pair, left to right (as HF's bpe does).
    char *first = g_strdup(sym[best]), *second = g_strdup(sym[best + 1]);
    size_t w = 0;
    for (size_t i = 0; i < n;) {
      if (i + 1 < n && !strcmp(sym[i], first) && !strcmp(sym[i + 1], second)) {
        char *merged = g_strconcat(sym[i], sym[i + 1], NULL);
        g_free(sym[i]);
        g_free(sym[i + 1]);
        sym[w++] = merged;
        i += 2;
      } else {
        sym[w++] = sym[i++];
      }
    }
    n = w;
    g_free(first);
    g_free(second);
  }
  for (size_t i = 0; i < n; i++) {
    int32_t id = lookup(t->vocab, sym[i]);
    push_token(out, id < 0 ? t->eot : id, start, end); // unknown pieces become the unknown token (EOT)
    g_free(sym[i]);
  }
  g_string_free(key, TRUE);
  free(sym);
}

// Pre-tokenises one normalised word (lower-cased NFC UTF-8) with CLIP's pattern and BPEs each piece.
// ascii: the word's bytes map 1:1 onto the original text starting at `origin`, so spans are exact.
static void tokenize_word(const dg_tokenizer *t, const char *w, bool ascii, int32_t origin, int32_t wstart,
                          int32_t wend, token_list *out) {
  static const char *contractions[] = {"s", "t", "re", "ve", "m", "ll", "d"};
  const char *p = w;
  while (*p) {
    const char *q = p;
    gunichar c = g_utf8_get_char(p);
    if (c == '\'') {
      const char *hit = NULL;
      for (int k = 0; k < 7 && !hit; k++) {
        size_t n = strlen(contractions[k]);
        if (!strncmp(p + 1, contractions[k], n)) hit = contractions[k];
      }
      if (!hit && !strncmp(p + 1, "\xc5\xbf", 2)) hit = "\xc5\xbf"; // long s matches 's with IGNORECASE
      if (hit) q = p + 1 + strlen(hit);
    }
    if (q == p) {
      if (is_letter(c)) {
        while (*q && is_letter(g_utf8_get_char(q))) q = g_utf8_next_char(q);
      } else if (is_number(c)) {
        q = g_utf8_next_char(q);
      } else if (!is_space_char(c) && c != 0x345) {
        while (*q) {
          gunichar d = g_utf8_get_char(q);
          if (is_letter(d) || is_number(d) || is_space_char(d) || d == 0x345) break;
          q = g_utf8_next_char(q);
        }
      } else {
        p = g_utf8_next_char(p); // skipped character
        continue;
      }
    }
    int32_t s = ascii ? origin + (int32_t)(p - w) : wstart, e = ascii ? origin + (int32_t)(q - w) : wend;
    bpe(t, p, (size_t)(q - p), s, e, out);
    p = q;
  }
}

// Normalises and tokenises a chunk of text without special tokens, text[begin, end).
static void tokenize_chunk(const dg_tokenizer *t, const char *text, int32_t begin, int32_t end, token_list *out) {
  // Build words: maximal runs of kept non-space characters (controls dropped, CJK isolated).
  int32_t i = begin;
  while (i < end) {
    gunichar c = g_utf8_get_char(text + i);
    int32_t next = (int32_t)(g_utf8_next_char(text + i) - text);
    if (c == 0 || c == 0xFFFD || is_control(c) || is_space_char(c)) {
      i = next;
      continue;
    }
    // A word: until whitespace; CJK characters are words of their own.
    GString *raw = g_string_new(NULL);
    int32_t wstart = i, wend = i;
    bool ascii = true;
    if (is_cjk(c)) {
      g_string_append_len(raw, text + i, next - i);
      wend = next;
      ascii = false;
      i = next;
    } else {
      while (i < end) {
        gunichar d = g_utf8_get_char(text + i);
        int32_t nx = (int32_t)(g_utf8_next_char(text + i) - text);
        if (is_space_char(d) || is_cjk(d)) break;
        if (!(d == 0 || d == 0xFFFD || is_control(d))) {
          g_string_append_len(raw, text + i, nx - i);
          if (d >= 0x80) ascii = false;
          wend = nx;
        } else {
          ascii = false; // dropped characters break the 1:1 byte mapping
        }
        i = nx;
      }
    }
    char *nfc = g_utf8_normalize(raw->str, -1, G_NORMALIZE_NFC);
    char *low = nfc ? g_utf8_strdown(nfc, -1) : NULL;
    if (low) {
      if (ascii && strlen(low) != raw->len) ascii = false;
      tokenize_word(t, low, ascii, wstart, wstart, wend, out);
    }
    g_free(low);
    g_free(nfc);
    g_string_free(raw, TRUE);
  }
}

// All of `text`'s tokens in *out (no start and end added; at most 4096).
static dg_status tokenize(const dg_tokenizer *t, const char *text, token_list **out) {
  const char *bad;
  if (!g_utf8_validate(text, -1, &bad))
    return dg_fail(DG_ERR_ARG, "prompt is not valid UTF-8 at byte %d", (int)(bad - text));
  token_list *l = *out = calloc(1, sizeof *l);
  if (!l) return dg_fail(DG_ERR_OOM, "out of host memory");
  int32_t len = (int32_t)strlen(text), start = 0;
  for (int32_t i = 0; i <= len;) {
    bool sot = i < len && !strncmp(text + i, SOT, strlen(SOT)), eot = i < len && !strncmp(text + i, EOT, strlen(EOT));
    if (i == len || sot || eot) {
      if (i > start) tokenize_chunk(t, text, start, i, l);
      if (i == len) break;
      int32_t n = (int32_t)strlen(sot ? SOT : EOT);
      push_token(l, sot ? t->sot : t->eot, i, i + n);
      i += n;
      start = i;
    } else {
      i++;
    }
  }
  return DG_OK;
}

dg_status dg_tokenizer_cut(const dg_tokenizer *t, const char *text, int max_len, int *pieces, int32_t *cut) {
  if (max_len < 2 || max_len > DG_TOKENS_MAX) return dg_fail(DG_ERR_ARG, "tokenizer: max_len %d outside 2..77", max_len);
  token_list *l;
  DG_TRY(tokenize(t, text, &l));
  if (pieces) *pieces = l->n;
  *cut = l->n > max_len - 2 ? l->spans[max_len - 2].start : -1;
  free(l);
  return DG_OK;
}

dg_status dg_tokenizer_encode(const dg_tokenizer *t, const char *text, int max_len, int32_t *ids,
                              dg_token_span *spans, int *n_tokens) {
  if (max_len < 2 || max_len > DG_TOKENS_MAX) return dg_fail(DG_ERR_ARG, "tokenizer: max_len %d outside 2..77", max_len);
  token_list *l;
  DG_TRY(tokenize(t, text, &l));
  int keep = l->n < max_len - 2 ? l->n : max_len - 2;
  ids[0] = t->sot;
  if (spans) spans[0] = (dg_token_span){-1, -1};
  for (int k = 0; k < keep; k++) {
    ids[1 + k] = l->ids[k];
    if (spans) spans[1 + k] = l->spans[k];
  }
  ids[keep + 1] = t->eot;
  if (spans) spans[keep + 1] = (dg_token_span){-1, -1};
  for (int k = keep + 2; k < max_len; k++) {
    ids[k] = t->pad;
    if (spans) spans[k] = (dg_token_span){-1, -1};
  }
  if (n_tokens) *n_tokens = keep + 2;
  free(l);
  return DG_OK;
}
