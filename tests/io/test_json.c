// dg_json: valid documents decode exactly; every kind of malformed input gives DG_ERR_FORMAT with the
// source name and the byte offset of the problem.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dg_json.h"
#include "io_util.h"

static dg_json *parse(const char *text, int depth) {
  dg_json *doc = NULL;
  dg_check_status(dg_json_parse(text, strlen(text), "test.json", 0, depth, &doc), text);
  return doc;
}

static void expect_bad(const char *text, const char *needle, size_t offset) {
  dg_json *doc = (dg_json *)1;
  dg_status s = dg_json_parse(text, strlen(text), "bad.json", 100, 0, &doc);
  char what[160];
  snprintf(what, sizeof what, "reject `%.60s`", text);
  dg_check_error(s, DG_ERR_FORMAT, needle, what);
  char at[64];
  snprintf(at, sizeof at, "bad.json: invalid JSON at byte %zu:", offset + 100);
  dg_check(strstr(dg_last_error(), at) != NULL, "%s: message '%s' lacks '%s'", what, dg_last_error(), at);
  dg_check(doc == NULL, "%s: output not cleared", what);
}

static void valid(void) {
  dg_json *doc = parse(" {\"a\": [1, -2.5e3, 0, true, false, null, {}, []], \"b\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\","
                       " \"u\": \"\\u00e9\\u20AC\\ud83d\\ude00\", \"raw\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                       " \"big\": 18446744073709551615, \"over\": 18446744073709551616, \"z\": \"\\u0000x\"} \n",
                       0);
  if (!doc) return;
  const dg_json_value *r = dg_json_root(doc);
  dg_check(r->type == DG_JSON_OBJECT && r->count == 7, "root object with 7 members");
  dg_check(!strcmp(r->members[0].key, "a") && !strcmp(r->members[6].key, "z"), "members keep source order");
  const dg_json_value *a = dg_json_get(r, "a");
  dg_check(a && a->type == DG_JSON_ARRAY && a->count == 8, "array of 8");
  if (a && a->count == 8) {
    dg_check(a->items[0]->is_uint && a->items[0]->uint == 1 && a->items[0]->number == 1, "1 is uint");
    dg_check(!a->items[1]->is_uint && a->items[1]->number == -2500.0, "-2.5e3");
    dg_check(a->items[2]->is_uint && a->items[2]->uint == 0, "0");
    dg_check(a->items[3]->type == DG_JSON_TRUE && a->items[4]->type == DG_JSON_FALSE &&
                 a->items[5]->type == DG_JSON_NULL,
             "literals");
    dg_check(a->items[6]->type == DG_JSON_OBJECT && a->items[6]->count == 0, "empty object");
    dg_check(a->items[7]->type == DG_JSON_ARRAY && a->items[7]->count == 0, "empty array");
    dg_check(a->offset == 7, "array offset %zu == 7", a->offset);
  }
  const dg_json_value *b = dg_json_get(r, "b");
  dg_check(b && b->len == 9 && !memcmp(b->str, "x\"\\/\b\f\n\r\t", 9), "simple escapes");
  const dg_json_value *u = dg_json_get(r, "u"), *raw = dg_json_get(r, "raw");
  dg_check(u && raw && u->len == 9 && raw->len == 9 && !memcmp(u->str, raw->str, 9),
           "\\u escapes incl. a surrogate pair decode to the same UTF-8 as the raw text");
  const dg_json_value *big = dg_json_get(r, "big"), *over = dg_json_get(r, "over");
  dg_check(big && big->is_uint && big->uint == UINT64_MAX, "2^64-1 is exact");
  dg_check(over && !over->is_uint && over->number == 18446744073709551616.0, "2^64 is a double only");
  const dg_json_value *z = dg_json_get(r, "z");
  dg_check(z && z->len == 2 && z->str[0] == 0 && z->str[1] == 'x', "\\u0000 keeps its length");
  dg_check(dg_json_get(r, "missing") == NULL && dg_json_get(a, "a") == NULL, "lookups of absent keys");
  dg_json_free(doc);

  doc = parse("\"top\"", 0);
  dg_check(doc && dg_json_root(doc)->type == DG_JSON_STRING, "scalar root");
  dg_json_free(doc);
  // Depth: 3 nested arrays pass with limit 3, fail with limit 2.
  doc = parse("[[[]]]", 3);
  dg_json_free(doc);
  dg_json *bad = NULL;
  dg_check_error(dg_json_parse("[[[]]]", 6, "d.json", 0, 2, &bad), DG_ERR_FORMAT, "nesting deeper", "depth limit");
  // Deep nesting far beyond the default limit must not recurse unboundedly.
  static char deep[200001];
  memset(deep, '[', 100000);
  memset(deep + 100000, ']', 100000);
  dg_check_error(dg_json_parse(deep, 200000, "deep.json", 0, 0, &bad), DG_ERR_FORMAT, "nesting deeper",
                 "100000 nested arrays");
  // Many members: sorted lookup.
  char many[40000];
  size_t n = 0;
  n += (size_t)snprintf(many + n, sizeof many - n, "{");
  for (int i = 0; i < 2000; i++)
    n += (size_t)snprintf(many + n, sizeof many - n, "%s\"k%d\":%d", i ? "," : "", i, i);
  snprintf(many + n, sizeof many - n, "}");
  doc = parse(many, 0);
  if (doc) {
    bool all = true;
    for (int i = 0; i < 2000; i += 7) {
      char k[16];
      snprintf(k, sizeof k, "k%d", i);
      const dg_json_value *v = dg_json_get(dg_json_root(doc), k);
      all &= v && v->uint == (uint64_t)i;
    }
    dg_check(all, "lookup among 2000 members");
  }
  dg_json_free(doc);
}

static void invalid(void) {
  expect_bad("", "end of the input", 0);
  expect_bad("   ", "end of the input", 3);
  expect_bad("{\"a\":1,}", "expected a string key", 7);
  expect_bad("[1,]", "unexpected character", 3);
  expect_bad("[1 2]", "expected ',' or ']'", 3);
  expect_bad("{\"a\" 1}", "expected ':'", 5);
  expect_bad("{\"a\":1", "unterminated object", 0);
  expect_bad("[1", "unterminated array", 0);
  expect_bad("\"abc", "unterminated string", 0);
  expect_bad("01", "leading zero", 0);
  expect_bad("-", "needs a digit", 0);
  expect_bad("1.", "after '.'", 2);
  expect_bad("1e+", "exponent", 3);
  expect_bad("+1", "unexpected character", 0);
  expect_bad("tru", "unknown literal", 0);
  expect_bad("nul", "unknown literal", 0);
  expect_bad("{} x", "trailing characters", 3);
  expect_bad("[1] [2]", "trailing characters", 4);
  expect_bad("\"a\\x\"", "invalid escape", 2);
  expect_bad("\"\\u12x4\"", "four hex digits", 5);
  expect_bad("\"\\u12", "truncated \\u escape", 3);
  expect_bad("\"\\udc00\"", "lone low surrogate", 1);
  expect_bad("\"\\ud800\"", "high surrogate not followed", 1);
  expect_bad("\"\\ud800\\u0041\"", "not followed by a low surrogate", 1);
  expect_bad("\"a\tb\"", "control character", 2);
  expect_bad("\"\xff\"", "invalid UTF-8", 1);
  expect_bad("\"\xc0\xaf\"", "invalid UTF-8", 1);         // overlong '/'
  expect_bad("\"\xed\xa0\x80\"", "invalid UTF-8", 1);     // encoded surrogate
  expect_bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8", 1); // above U+10FFFF
  expect_bad("\"\xe2\x82\"", "invalid UTF-8", 1);         // truncated sequence
  expect_bad("{\"a\":1,\"b\":2,\"a\":3}", "duplicate object key", 13);
  expect_bad("{1:2}", "expected a string key", 1);
  expect_bad("[1,2", "unterminated array", 0);
  // Not NUL-terminated: the parser must stop at len.
  dg_json *doc = NULL;
  dg_check_error(dg_json_parse("[1, 2]", 4, "cut.json", 0, 0, &doc), DG_ERR_FORMAT, "cut.json", "length respected");
}

// The guard in front of json-glib (app/dg_json_glib): nesting and size limits, strings skipped.
static void limits(void) {
  dg_check_status(dg_json_check_limits("[[[]]]", 6, "a.json", 0, 3), "3 levels within a limit of 3");
  dg_check_error(dg_json_check_limits("[{\"a\":[]}]", 10, "b.json", 0, 2), DG_ERR_FORMAT,
                 "b.json: JSON nested deeper than the limit of 2 levels (at byte 6)", "third level past 2");
  // Brackets inside strings do not count, escaped quotes do not end a string, an escaped backslash does.
  const char *str = "[\"[[[[\\\"{{{{\", \"\\\\\", [\"}}}}\"]]";
  dg_check_status(dg_json_check_limits(str, strlen(str), "s.json", 0, 2), "brackets in strings skipped");
  const char *after = "[\"\\\\\", [[]]]"; // ["\\", [[]]]: the string ends at the third quote
  dg_check_error(dg_json_check_limits(after, strlen(after), "e.json", 0, 2), DG_ERR_FORMAT, "limit of 2",
                 "a string ending in an escaped backslash ends there");
  dg_check_status(dg_json_check_limits("\"[[[", 4, "u.json", 0, 1), "an unterminated string: left to the parser");
  dg_check_error(dg_json_check_limits("[1, 2, 3]", 9, "big.json", 8, 0), DG_ERR_FORMAT,
                 "big.json: 9 bytes of JSON, more than the limit of 8 bytes", "size limit");
  dg_check_error(dg_json_check_limits("[]", 2, NULL, 1, 0), DG_ERR_FORMAT, "2 bytes of JSON", "no source, no prefix");
  dg_check(!strncmp(dg_last_error(), "2 bytes", 7), "no prefix without a source: %s", dg_last_error());
  // The project file of the issue: {"x": and 200000 '[' (json-glib overflowed its stack on it).
  static char deep[200007];
  memcpy(deep, "{\"x\": ", 6);
  memset(deep + 6, '[', 200000);
  dg_check_error(dg_json_check_limits(deep, 200006, "deep.json", 0, 0), DG_ERR_FORMAT,
                 "limit of 64 levels (at byte 69)", "200000 nested arrays, default limit");
  memset(deep, ' ', 6);
  memset(deep + 6, '[', 64);
  memset(deep + 70, ']', 64);
  dg_check_status(dg_json_check_limits(deep, 134, "ok.json", 0, 0), "64 levels pass the default limit");
}

int main(void) {
  valid();
  invalid();
  limits();
  return dg_check_finish("test_json");
}
