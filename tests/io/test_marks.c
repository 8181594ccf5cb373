// Marked words (render/pipelines/dg_marks) with the shipped tokenizer: words to token positions,
// repeated words by #n, attribute bindings to the nearest preceding occurrence, errors naming the
// word, a word split into several tokens, and the automatic suggestion from class and colour words.
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "dg_check.h"
#include "dg_marks.h"

// Position of the first token whose text range starts at the n-th (1-based) occurrence of word.
static int token_at(const dg_tokenizer *tok, const char *prompt, const char *word, int n) {
  int32_t ids[DG_TOKENS_MAX];
  dg_token_span spans[DG_TOKENS_MAX];
  int count;
  if (dg_tokenizer_encode(tok, prompt, DG_TOKENS_MAX, ids, spans, &count) != DG_OK) return -1;
  const char *p = prompt;
  for (int k = 0; k < n; k++) {
    p = strstr(k ? p + 1 : p, word);
    if (!p) return -1;
  }
  for (int i = 1; i < count - 1; i++)
    if (spans[i].start == (int)(p - prompt)) return i;
  return -1;
}

int main(void) {
  dg_tokenizer *tok = NULL;
  if (!dg_check_status(dg_tokenizer_load(DG_SOURCE_DIR "/assets/tokenizer", &tok), "the shipped tokenizer loads"))
    return dg_check_finish("test_marks");
  dg_marks m;
  const char *p = "a red car and a blue car by the tree";
  if (dg_check_status(dg_marks_resolve(tok, p, 77, "red:car, blue:car#2, tree", &m), "resolve")) {
    dg_check(m.n_objects == 3 && m.n_attrs == 2, "3 objects, 2 attributes (%d, %d)", m.n_objects, m.n_attrs);
    dg_check(m.objects[0].occurrence == 1 && m.objects[1].occurrence == 2 && !strcmp(m.objects[2].word, "tree"),
             "car, car#2, tree");
    dg_check(m.objects[0].n_tokens == 1 && m.objects[0].tokens[0] == token_at(tok, p, "car", 1) &&
                 m.objects[1].tokens[0] == token_at(tok, p, "car", 2) && m.objects[0].tokens[0] == 3,
             "car at position 3 (a=1 red=2), car#2 at %d", m.objects[1].tokens[0]);
    dg_check(m.attr_object[0] == 0 && m.attr_object[1] == 1 && m.attrs[1].tokens[0] == token_at(tok, p, "blue", 1),
             "red -> car, blue -> car#2");
    dg_mark_ref refs[8];
    int n = dg_marks_list(&m, refs, 8);
    dg_check(n == 5 && !strcmp(refs[0].label, "red") && !strcmp(refs[1].label, "car") &&
                 !strcmp(refs[2].label, "blue") && !strcmp(refs[3].label, "car#2") && !strcmp(refs[4].label, "tree"),
             "list order: attribute before its object (%d items)", n);
  }
  // the nearest preceding attribute occurrence: "red" bound to car#2 is the second "red"
  const char *p2 = "a red car and a red truck near a car";
  if (dg_check_status(dg_marks_resolve(tok, p2, 77, "red:car#2", &m), "nearest preceding"))
    dg_check(m.n_attrs == 1 && m.attrs[0].occurrence == 2, "red of car#2 is red#2 (got #%d)", m.attrs[0].occurrence);
  if (dg_check_status(dg_marks_resolve(tok, p2, 77, "red#1:car#2", &m), "explicit attribute occurrence"))
    dg_check(m.attrs[0].occurrence == 1, "red#1 kept");
  // errors name the word
  dg_check_error(dg_marks_resolve(tok, p, 77, "boat", &m), DG_ERR_ARG, "'boat' is not in the prompt", "absent word");
  dg_check_error(dg_marks_resolve(tok, p, 77, "car#3", &m), DG_ERR_ARG, "'car' 2 times, not #3", "too few");
  dg_check_error(dg_marks_resolve(tok, p, 77, "green:car", &m), DG_ERR_ARG, "'green' is not in the prompt",
                 "absent attribute");
  dg_check_error(dg_marks_resolve(tok, p, 77, "car#x", &m), DG_ERR_ARG, "not a number", "bad #");
  dg_check_error(dg_marks_resolve(tok, p, 77, "red car", &m), DG_ERR_ARG, "separated by commas", "two words");
  dg_check(m.n_objects == 0, "a failed resolve leaves no marks");
  dg_check_error(dg_marks_resolve(tok, p, 5, "tree", &m), DG_ERR_ARG, "token limit", "past the limit");
  dg_check_status(dg_marks_resolve(tok, p, 77, NULL, &m), "no marks");
  dg_check_status(dg_marks_resolve(tok, p, 77, " , ", &m), "blank marks");
  // a word the tokenizer splits: all its positions
  const char *p3 = "a zyxwvutq car";
  if (dg_check_status(dg_marks_resolve(tok, p3, 77, "zyxwvutq", &m), "split word")) {
    int32_t ids[DG_TOKENS_MAX];
    int count;
    dg_tokenizer_encode(tok, p3, 77, ids, NULL, &count);
    dg_check(m.objects[0].n_tokens == count - 4 && m.objects[0].n_tokens > 1 && m.objects[0].tokens[0] == 2,
             "zyxwvutq: %d tokens from position 2 (prompt %d tokens)", m.objects[0].n_tokens, count);
  }
  // suggestion: classes (and plurals), colours bound to the next object of the same phrase
  const char *classes[] = {"car", "tree", "person", "sky", "traffic sign"};
  char *s = dg_marks_suggest("A red car and a blue car, green trees, white sky", classes, 5);
  dg_check(!strcmp(s, "red:car, blue:car#2, green:trees, white:sky"), "suggestion: '%s'", s);
  g_free(s);
  s = dg_marks_suggest("red, a car", classes, 5);
  dg_check(!strcmp(s, "car"), "a colour of another phrase stays unbound: '%s'", s);
  g_free(s);
  s = dg_marks_suggest("a bus", classes, 5);
  dg_check(!strcmp(s, ""), "no class word, no marks: '%s'", s);
  g_free(s);
  char *text = NULL;
  dg_marks_text_append(&text, "car");
  dg_marks_text_append(&text, "red:car#2");
  dg_check(!strcmp(text, "car, red:car#2"), "append: '%s'", text);
  char *less = dg_marks_text_remove(text, "car");
  dg_check(!strcmp(less, "red:car#2"), "remove: '%s'", less);
  g_free(less);
  char *w = dg_marks_word_at(p, 19); // "a red car and a blue car": byte 19 is in the second "car"
  dg_check(w && !strcmp(w, "blue"), "word at 19: '%s'", w ? w : "(none)");
  g_free(w);
  w = dg_marks_word_at(p, 22);
  dg_check(w && !strcmp(w, "car#2"), "word at 22: '%s'", w ? w : "(none)");
  g_free(w);
  w = dg_marks_word_at("a  b", 2);
  dg_check(!w, "no word between spaces");
  g_free(text);
  dg_tokenizer_free(tok);
  return dg_check_finish("test_marks");
}
