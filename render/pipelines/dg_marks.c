#include "dg_marks.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dg_marks_colours[] = {"red",  "blue",  "green", "yellow", "white", "black", "gray",
                                        "grey", "orange", "purple", "pink",  "brown", "silver", "gold",
                                        "golden", "violet", "cyan", "beige", "dark",  "light", NULL};

static bool word_byte(unsigned char c) { return g_ascii_isalnum(c) || c >= 0x80; }

typedef struct word_at {
  int start, end;
} word_at;

// The words of the prompt in order (at most max).
static int split_words(const char *s, word_at *w, int max) {
  int n = 0;
  for (int i = 0; s[i] && n < max;) {
    if (!word_byte((unsigned char)s[i])) {
      i++;
      continue;
    }
    int j = i;
    while (s[j] && word_byte((unsigned char)s[j]))
      j++;
    w[n++] = (word_at){i, j};
    i = j;
  }
  return n;
}

static bool word_is(const char *prompt, word_at w, const char *word) {
  size_t len = strlen(word);
  return (size_t)(w.end - w.start) == len && g_ascii_strncasecmp(prompt + w.start, word, len) == 0;
}

#define MAX_WORDS 512

typedef struct ctx {
  const char *prompt;
  word_at words[MAX_WORDS];
  int n_words;
  dg_token_span spans[DG_TOKENS_MAX];
  int n_tokens, max_len;
} ctx;

// "word" or "word#n" -> word (lower-cased) and n (0 if absent).
static dg_status parse_ref(const char *item, const char *ref, size_t len, char *word, int *occ) {
  const char *hash = memchr(ref, '#', len);
  size_t wl = hash ? (size_t)(hash - ref) : len;
  *occ = 0;
  if (hash) {
    char num[16];
    size_t nl = len - wl - 1;
    if (nl == 0 || nl >= sizeof num) return dg_fail(DG_ERR_ARG, "marks: '%s': #n needs a number from 1", item);
    memcpy(num, hash + 1, nl), num[nl] = 0;
    for (size_t i = 0; i < nl; i++)
      if (!g_ascii_isdigit(num[i])) return dg_fail(DG_ERR_ARG, "marks: '%s': '#%s' is not a number", item, num);
    *occ = atoi(num);
    if (*occ < 1) return dg_fail(DG_ERR_ARG, "marks: '%s': occurrences count from #1", item);
  }
  if (wl == 0) return dg_fail(DG_ERR_ARG, "marks: '%s' names no word", item);
  if (wl >= DG_MARK_WORD_MAX) return dg_fail(DG_ERR_ARG, "marks: '%s': the word is longer than %d bytes", item, DG_MARK_WORD_MAX - 1);
  for (size_t i = 0; i < wl; i++) {
    if (!word_byte((unsigned char)ref[i]))
      return dg_fail(DG_ERR_ARG, "marks: '%s': '%.*s' is not one word (letters, digits)", item, (int)wl, ref);
    word[i] = g_ascii_tolower(ref[i]);
  }
  word[wl] = 0;
  return DG_OK;
}

// Word index of the occ-th (1-based) occurrence of word, -1 if fewer.
static int find_occurrence(const ctx *c, const char *word, int occ) {
  for (int i = 0, k = 0; i < c->n_words; i++)
    if (word_is(c->prompt, c->words[i], word) && ++k == occ) return i;
  return -1;
}

static int count_occurrences(const ctx *c, const char *word) {
  int k = 0;
  for (int i = 0; i < c->n_words; i++)
    k += word_is(c->prompt, c->words[i], word);
  return k;
}

// 1-based occurrence of word wi among the words equal to it.
static int occurrence_of(const ctx *c, int wi) {
  int n = 0;
  size_t len = (size_t)(c->words[wi].end - c->words[wi].start);
  for (int i = 0; i <= wi; i++)
    n += (size_t)(c->words[i].end - c->words[i].start) == len &&
         g_ascii_strncasecmp(c->prompt + c->words[i].start, c->prompt + c->words[wi].start, len) == 0;
  return n;
}

static dg_status fill_word(const ctx *c, const char *item, const char *word, int wi, dg_mark_word *out) {
  memset(out, 0, sizeof *out);
  g_strlcpy(out->word, word, sizeof out->word);
  out->occurrence = occurrence_of(c, wi);
  out->start = c->words[wi].start, out->end = c->words[wi].end;
  for (int t = 1; t <= c->n_tokens && t < c->max_len - 1; t++)
    if (c->spans[t].start < out->end && c->spans[t].end > out->start) {
      if (out->n_tokens == DG_MARK_MAX_TOKENS)
        return dg_fail(DG_ERR_ARG, "marks: '%s': the word has more than %d tokens", item, DG_MARK_MAX_TOKENS);
      out->tokens[out->n_tokens++] = t;
    }
  if (!out->n_tokens)
    return dg_fail(DG_ERR_ARG, "marks: '%s': the word lies past the prompt's %d-token limit", item, c->max_len);
  return DG_OK;
}

static dg_status missing(const ctx *c, const char *item, const char *word, int occ) {
  int have = count_occurrences(c, word);
  if (!have) return dg_fail(DG_ERR_ARG, "marks: '%s': the word '%s' is not in the prompt", item, word);
  return dg_fail(DG_ERR_ARG, "marks: '%s': the prompt has '%s' %d time%s, not #%d", item, word, have,
                 have == 1 ? "" : "s", occ);
}

// The object of word index wi: its index in out->objects, added if new.
static dg_status add_object(const ctx *c, const char *item, const char *word, int wi, dg_marks *out, int *index) {
  for (int i = 0; i < out->n_objects; i++)
    if (out->objects[i].start == c->words[wi].start) return (*index = i), DG_OK;
  if (out->n_objects == DG_MARKS_MAX) return dg_fail(DG_ERR_ARG, "marks: '%s': more than %d objects", item, DG_MARKS_MAX);
  DG_TRY(fill_word(c, item, word, wi, &out->objects[out->n_objects]));
  *index = out->n_objects++;
  return DG_OK;
}

static dg_status resolve_item(const ctx *c, const char *item, dg_marks *out) {
  const char *colon = strchr(item, ':');
  char oword[DG_MARK_WORD_MAX], aword[DG_MARK_WORD_MAX];
  int oocc, aocc;
  const char *obj = colon ? colon + 1 : item;
  DG_TRY(parse_ref(item, obj, strlen(obj), oword, &oocc));
  int owi = find_occurrence(c, oword, oocc ? oocc : 1);
  if (owi < 0) return missing(c, item, oword, oocc ? oocc : 1);
  int oi = -1;
  DG_TRY(add_object(c, item, oword, owi, out, &oi));
  if (!colon) return DG_OK;
  DG_TRY(parse_ref(item, item, (size_t)(colon - item), aword, &aocc));
  int awi = -1;
  if (aocc) {
    awi = find_occurrence(c, aword, aocc);
    if (awi < 0) return missing(c, item, aword, aocc);
  } else {
    for (int i = owi - 1; i >= 0 && awi < 0; i--)
      if (word_is(c->prompt, c->words[i], aword)) awi = i;
    for (int i = owi + 1; i < c->n_words && awi < 0; i++)
      if (word_is(c->prompt, c->words[i], aword)) awi = i;
    if (awi < 0) return missing(c, item, aword, 1);
  }
  if (awi == owi) return dg_fail(DG_ERR_ARG, "marks: '%s' binds a word to itself", item);
  for (int i = 0; i < out->n_attrs; i++)
    if (out->attrs[i].start == c->words[awi].start) {
      if (out->attr_object[i] == oi) return DG_OK;
      return dg_fail(DG_ERR_ARG, "marks: '%s': '%s' is already bound to '%s'", item, aword,
                     out->objects[out->attr_object[i]].word);
    }
  if (out->n_attrs == DG_MARKS_MAX) return dg_fail(DG_ERR_ARG, "marks: '%s': more than %d attributes", item, DG_MARKS_MAX);
  DG_TRY(fill_word(c, item, aword, awi, &out->attrs[out->n_attrs]));
  out->attr_object[out->n_attrs++] = oi;
  return DG_OK;
}

dg_status dg_marks_resolve(const dg_tokenizer *tok, const char *prompt, int max_len, const char *text, dg_marks *out) {
  memset(out, 0, sizeof *out);
  if (!text) return DG_OK;
  ctx *c = calloc(1, sizeof *c);
  if (!c) return dg_fail(DG_ERR_OOM, "marks: out of memory");
  c->prompt = prompt ? prompt : "";
  c->max_len = max_len < 3 ? 3 : max_len > DG_TOKENS_MAX ? DG_TOKENS_MAX : max_len;
  c->n_words = split_words(c->prompt, c->words, MAX_WORDS);
  int32_t ids[DG_TOKENS_MAX];
  dg_status s = dg_tokenizer_encode(tok, c->prompt, c->max_len, ids, c->spans, &c->n_tokens);
  c->n_tokens -= 2; // prompt tokens between the start and end tokens
  gchar **items = s == DG_OK ? g_strsplit(text, ",", -1) : NULL;
  for (int i = 0; s == DG_OK && items[i]; i++) {
    char *item = g_strstrip(items[i]);
    if (!*item) continue;
    char *sp = item;
    while (*sp && !g_ascii_isspace(*sp))
      sp++;
    if (*sp) s = dg_fail(DG_ERR_ARG, "marks: '%s' is not WORD, WORD#n or ATTR:OBJECT (items are separated by commas)", item);
    else s = resolve_item(c, item, out);
  }
  g_strfreev(items);
  free(c);
  if (s != DG_OK) memset(out, 0, sizeof *out);
  return s;
}

void dg_marks_text_append(char **text, const char *item) {
  char *t = *text && **text ? g_strdup_printf("%s, %s", *text, item) : g_strdup(item);
  g_free(*text);
  *text = t;
}

static bool names_class(const char *prompt, word_at w, const char *const *classes, int n) {
  for (int i = 0; i < n; i++) {
    const char *cl = classes[i];
    size_t len = strlen(cl);
    if (!len || strchr(cl, ' ')) continue;
    if (word_is(prompt, w, cl)) return true;
    char plural[96];
    snprintf(plural, sizeof plural, "%ss", cl);
    if (word_is(prompt, w, plural)) return true;
    snprintf(plural, sizeof plural, "%ses", cl);
    if (word_is(prompt, w, plural)) return true;
    if (len > 1 && len < 80 && cl[len - 1] == 'y') {
      snprintf(plural, sizeof plural, "%.*sies", (int)(len - 1), cl);
      if (word_is(prompt, w, plural)) return true;
    }
  }
  return false;
}

static bool is_colour(const char *prompt, word_at w) {
  for (int i = 0; dg_marks_colours[i]; i++)
    if (word_is(prompt, w, dg_marks_colours[i])) return true;
  return false;
}

// "word" or "word#n" for word index wi, lower-cased.
static void ref_text(const ctx *c, int wi, char *buf, size_t size) {
  int len = c->words[wi].end - c->words[wi].start, occ = occurrence_of(c, wi);
  if (len >= DG_MARK_WORD_MAX) len = DG_MARK_WORD_MAX - 1;
  char w[DG_MARK_WORD_MAX];
  for (int i = 0; i < len; i++)
    w[i] = g_ascii_tolower(c->prompt[c->words[wi].start + i]);
  w[len] = 0;
  if (occ > 1) snprintf(buf, size, "%s#%d", w, occ);
  else snprintf(buf, size, "%s", w);
}

static bool phrase_break(const char *prompt, int from, int to) {
  for (int i = from; i < to; i++)
    if (strchr(",.;:!?", prompt[i])) return true;
  return false;
}

char *dg_marks_suggest(const char *prompt, const char *const *classes, int n_classes) {
  ctx *c = calloc(1, sizeof *c);
  if (!c) return g_strdup("");
  c->prompt = prompt ? prompt : "";
  c->n_words = split_words(c->prompt, c->words, MAX_WORDS);
  char *text = NULL;
  int n_obj = 0, n_attr = 0;
  for (int i = 0; i < c->n_words; i++) {
    if (!names_class(c->prompt, c->words[i], classes, n_classes) || n_obj == DG_MARKS_MAX) continue;
    char obj[DG_MARK_WORD_MAX + 16], item[2 * DG_MARK_WORD_MAX + 40];
    ref_text(c, i, obj, sizeof obj);
    // colour words of this object's phrase: after the previous object (or the phrase start), before it
    bool bound = false;
    for (int j = i - 1; j >= 0 && !names_class(c->prompt, c->words[j], classes, n_classes) &&
                        !phrase_break(c->prompt, c->words[j].end, c->words[j + 1].start);
         j--)
      if (is_colour(c->prompt, c->words[j]) && n_attr < DG_MARKS_MAX) {
        char attr[DG_MARK_WORD_MAX + 16];
        ref_text(c, j, attr, sizeof attr);
        snprintf(item, sizeof item, "%s:%s", attr, obj);
        dg_marks_text_append(&text, item);
        bound = true, n_attr++;
      }
    if (!bound) dg_marks_text_append(&text, obj);
    n_obj++;
  }
  free(c);
  return text ? text : g_strdup("");
}

char *dg_marks_all_words(const char *prompt) {
  ctx *c = calloc(1, sizeof *c);
  if (!c) return g_strdup("");
  c->prompt = prompt ? prompt : "";
  c->n_words = split_words(c->prompt, c->words, DG_MARKS_MAX);
  char *text = NULL;
  for (int i = 0; i < c->n_words; i++) {
    char ref[DG_MARK_WORD_MAX + 16];
    ref_text(c, i, ref, sizeof ref);
    dg_marks_text_append(&text, ref);
  }
  free(c);
  return text ? text : g_strdup("");
}

char *dg_marks_word_at(const char *prompt, int at) {
  ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->prompt = prompt ? prompt : "";
  c->n_words = split_words(c->prompt, c->words, MAX_WORDS);
  char *out = NULL;
  for (int i = 0; i < c->n_words && !out; i++)
    if (at >= c->words[i].start && at <= c->words[i].end) {
      char ref[DG_MARK_WORD_MAX + 16];
      ref_text(c, i, ref, sizeof ref);
      out = g_strdup(ref);
    }
  free(c);
  return out;
}

char *dg_marks_text_remove(const char *text, const char *item) {
  char *out = NULL;
  gchar **items = g_strsplit(text ? text : "", ",", -1);
  for (int i = 0; items[i]; i++) {
    char *it = g_strstrip(items[i]);
    if (*it && strcmp(it, item)) dg_marks_text_append(&out, it);
  }
  g_strfreev(items);
  return out ? out : g_strdup("");
}

int dg_marks_list(const dg_marks *m, dg_mark_ref *refs, int max_refs) {
  int n = 0;
  for (int o = 0; o < m->n_objects; o++) {
    for (int a = 0; a < m->n_attrs; a++)
      if (m->attr_object[a] == o && n < max_refs) {
        const dg_mark_word *w = &m->attrs[a];
        refs[n] = (dg_mark_ref){.is_attr = true, .index = a};
        if (w->occurrence > 1) snprintf(refs[n].label, sizeof refs[n].label, "%s#%d", w->word, w->occurrence);
        else snprintf(refs[n].label, sizeof refs[n].label, "%s", w->word);
        n++;
      }
    if (n < max_refs) {
      const dg_mark_word *w = &m->objects[o];
      refs[n] = (dg_mark_ref){.is_attr = false, .index = o};
      if (w->occurrence > 1) snprintf(refs[n].label, sizeof refs[n].label, "%s#%d", w->word, w->occurrence);
      else snprintf(refs[n].label, sizeof refs[n].label, "%s", w->word);
      n++;
    }
  }
  return n;
}
