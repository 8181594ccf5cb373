// Marked words of a prompt (Divide & Bind's objects and attribute -> object bindings, and the words the
// attention heatmaps show), resolved to the positions of their tokens in the text encoder's context.
//
// A marks text lists the marked words, separated by commas: "car" marks an object, "red:car" binds the
// attribute "red" to the object "car" (and marks "car"). A word's n-th occurrence in the prompt is
// WORD#n ("car#2" in "a red car and a blue car"); a bare WORD is its first occurrence. The attribute of a
// binding without #n is its nearest occurrence before the object's (else the nearest after it). Words
// compare case-insensitively; a word is a run of letters, digits and non-ASCII bytes.
//
// A word the tokenizer splits into several tokens maps to all their positions; its attention map is the
// mean of theirs (dg_attn_maps). Positions count from the start token: position 1 is the prompt's first
// token. The guidance reads objects[] and each attribute's object index directly.
#pragma once
#include <stdbool.h>

#include "dg_status.h"
#include "dg_tokenizer.h"

#define DG_MARKS_MAX 16      // objects, and attributes, at most
#define DG_MARK_MAX_TOKENS 8 // tokens of one marked word
#define DG_MARK_WORD_MAX 64  // bytes of one word

typedef struct dg_mark_word {
  char word[DG_MARK_WORD_MAX]; // as written in the marks text, lower-cased
  int occurrence;              // 1-based occurrence of the word in the prompt
  int start, end;              // its bytes in the prompt, [start, end)
  int tokens[DG_MARK_MAX_TOKENS];
  int n_tokens;
} dg_mark_word;

typedef struct dg_marks {
  dg_mark_word objects[DG_MARKS_MAX];
  int n_objects;
  dg_mark_word attrs[DG_MARKS_MAX];
  int attr_object[DG_MARKS_MAX]; // index into objects of the object each attribute is bound to
  int n_attrs;
} dg_marks;

// Resolves `text` (the marks text above; NULL or blank: no marks) against `prompt` tokenised by `tok`
// (max_len as the text encoder uses, <= 77). Errors name the word: absent from the prompt, fewer
// occurrences than #n, past the token limit, a malformed item, too many marks.
dg_status dg_marks_resolve(const dg_tokenizer *tok, const char *prompt, int max_len, const char *text, dg_marks *out);

// Appends `item` ("car", "red:car#2") to the marks text *text (g_malloc'd, NULL for empty), ", "-separated.
void dg_marks_text_append(char **text, const char *item);

// The automatic suggestion for `prompt` as a marks text (g_malloc'd, "" for none): objects are the words
// that name one of `classes` (or its plural: +s, +es, y -> ies), attributes the colour words
// (dg_marks_colours) bound to the next object word of the same phrase (up to , . ; : ! ? or the end),
// each repeated word written with its #n.
char *dg_marks_suggest(const char *prompt, const char *const *classes, int n_classes);

// Every word of the prompt (at most DG_MARKS_MAX) as a marks text of objects, repeated words with #n:
// what heatmaps show when there are no marks and no suggestion.
char *dg_marks_all_words(const char *prompt);

// The marks reference ("word", or "word#n" for its n-th occurrence) of the word holding byte `at` of the
// prompt (or ending just before it), g_malloc'd; NULL if none. The editor marks the word at the cursor.
char *dg_marks_word_at(const char *prompt, int at);
// text without the item `item` (compared after trimming), g_malloc'd.
char *dg_marks_text_remove(const char *text, const char *item);

// The fixed colour words the suggestion treats as attributes, NULL-terminated.
extern const char *const dg_marks_colours[];

// The marked words in display order (each attribute before its object, then unbound objects), as
// "red:car", "car#2" ...: n items written to items (each DG_MARK_WORD_MAX * 2 + 8 bytes), returned.
// The token maps of item i are objects[] / attrs[] as *is_attr and *index say.
typedef struct dg_mark_ref {
  bool is_attr;
  int index;
  char label[DG_MARK_WORD_MAX * 2 + 8];
} dg_mark_ref;
int dg_marks_list(const dg_marks *m, dg_mark_ref *refs, int max_refs);
