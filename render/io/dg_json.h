// A strict JSON (RFC 8259) parser into a read-only tree: objects, arrays, strings (escapes, \u with
// surrogate pairs, UTF-8 validated), numbers, true/false/null. Used for safetensors headers and
// model config files. Rejects duplicate object keys, trailing garbage and nesting deeper than a limit;
// every error names the source and the byte offset.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dg_status.h"

typedef enum dg_json_type {
  DG_JSON_NULL,
  DG_JSON_FALSE,
  DG_JSON_TRUE,
  DG_JSON_NUMBER,
  DG_JSON_STRING,
  DG_JSON_ARRAY,
  DG_JSON_OBJECT,
} dg_json_type;

typedef struct dg_json_value dg_json_value;

typedef struct dg_json_member {
  const char *key; // decoded UTF-8, NUL-terminated (may hold \u0000: then key_len tells the length)
  size_t key_len;
  const dg_json_value *value;
} dg_json_member;

struct dg_json_value {
  dg_json_type type;
  size_t offset; // byte offset in the source (base_offset included)
  // DG_JSON_STRING: decoded UTF-8, NUL-terminated.
  const char *str;
  size_t len;
  // DG_JSON_NUMBER: the value; is_uint when the literal is a non-negative integer (no fraction or
  // exponent) that fits in uint64, given exactly in `uint`.
  double number;
  bool is_uint;
  uint64_t uint;
  // DG_JSON_ARRAY: items; DG_JSON_OBJECT: members in source order.
  size_t count;
  const dg_json_value *const *items;
  const dg_json_member *members;
  const dg_json_member *const *sorted; // members sorted by key (for lookup)
};

typedef struct dg_json dg_json;

#define DG_JSON_DEFAULT_DEPTH 64

// Parses text[0..len) (not NUL-terminated). `source` names the input in error messages (e.g. the
// file name); `base_offset` is added to reported byte offsets. max_depth 0 means the default.
dg_status dg_json_parse(const char *text, size_t len, const char *source, size_t base_offset, int max_depth,
                        dg_json **out);
void dg_json_free(dg_json *doc);

// The limits every JSON text from outside meets before a parser sees it (this one checks the depth
// itself; json-glib, which app/ uses through app/dg_json_glib, has no limit and recurses once per level):
// at most max_bytes bytes (0: no size limit) and containers nested at most max_depth deep (0: the
// default). One pass without allocation that skips the insides of strings with memchr. The message names
// `source` (NULL: nothing) and the limit exceeded; the text is not otherwise checked.
dg_status dg_json_check_limits(const char *text, size_t len, const char *source, size_t max_bytes, int max_depth);
const dg_json_value *dg_json_root(const dg_json *doc);

// Member of an object by key (NULL if absent or `obj` is not an object).
const dg_json_value *dg_json_get(const dg_json_value *obj, const char *key);
const char *dg_json_type_name(dg_json_type type);

// Whether s[0..n) is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF); if not,
// *bad_at (may be NULL) gets the offset of the first bad sequence.
bool dg_json_utf8_valid(const char *s, size_t n, size_t *bad_at);
