#include "dg_json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// All nodes and strings of a document live in a chain of bump-allocated chunks.
typedef struct chunk {
  struct chunk *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
} chunk;

struct dg_json {
  chunk *chunks;
  const dg_json_value *root;
};

typedef struct parser {
  const unsigned char *s;
  size_t len, pos, base;
  const char *source;
  int max_depth;
  dg_json *doc;
  dg_status status; // first error; DG_OK while parsing succeeds
} parser;

static void *doc_alloc(parser *p, size_t bytes) {
  bytes = (bytes + 15) & ~(size_t)15;
  chunk *c = p->doc->chunks;
  if (!c || c->size - c->used < bytes) {
    size_t size = bytes > 65536 ? bytes : 65536;
    chunk *n = malloc(sizeof(chunk) + size);
    if (!n) {
      p->status = dg_fail(DG_ERR_OOM, "%s: out of memory parsing JSON", p->source);
      return NULL;
    }
    n->next = c;
    n->used = 0;
    n->size = size;
    p->doc->chunks = c = n;
  }
  void *r = c->data + c->used;
  c->used += bytes;
  return r;
}

static bool fail_at(parser *p, size_t at, const char *what) {
  if (p->status == DG_OK)
    p->status = dg_fail(DG_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", p->source, p->base + at, what);
  return false;
}

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    unsigned char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static bool literal(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail_at(p, p->pos, "unknown literal");
  p->pos += n;
  return true;
}

// A growable byte buffer for decoding one string.
typedef struct buf {
  char *data;
  size_t len, cap;
} buf;

static bool buf_put(parser *p, buf *b, const void *src, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      p->status = dg_fail(DG_ERR_OOM, "%s: out of memory parsing JSON", p->source);
      return false;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, src, n);
  b->len += n;
  return true;
}

static bool put_utf8(parser *p, buf *b, uint32_t cp) {
  unsigned char u[4];
  size_t n;
  if (cp < 0x80)
    u[0] = (unsigned char)cp, n = 1;
  else if (cp < 0x800)
    u[0] = (unsigned char)(0xC0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12));
    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return buf_put(p, b, u, n);
}

static bool hex4(parser *p, uint32_t *out) {
  if (p->len - p->pos < 4) return fail_at(p, p->pos, "truncated \\u escape");
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = p->s[p->pos + i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return fail_at(p, p->pos + i, "\\u escape needs four hex digits");
    v = v * 16 + (uint32_t)d;
  }
  p->pos += 4;
  *out = v;
  return true;
}

// Length of the valid UTF-8 sequence at s[0..avail), or 0 (overlong forms, surrogates and code points
// above U+10FFFF are invalid).
static size_t utf8_seq(const unsigned char *s, size_t avail) {
  unsigned char c = s[0];
  size_t n;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool dg_json_utf8_valid(const char *s, size_t n, size_t *bad_at) {
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (!k) {
      if (bad_at) *bad_at = i;
      return false;
    }
    i += k;
  }
  return true;
}

// Parses the string starting at the opening quote into a NUL-terminated copy in the document.
static bool parse_string(parser *p, const char **out, size_t *out_len) {
  size_t start = p->pos;
  p->pos++; // opening quote
  buf b = {0};
  bool ok = false;
  for (;;) {
    if (p->pos >= p->len) {
      fail_at(p, start, "unterminated string");
      break;
    }
    unsigned char c = p->s[p->pos];
    if (c == '"') {
      p->pos++;
      ok = true;
      break;
    }
    if (c < 0x20) {
      fail_at(p, p->pos, "control character in string (must be escaped)");
      break;
    }
    if (c == '\\') {
      if (p->pos + 1 >= p->len) {
        fail_at(p, p->pos, "unterminated escape");
        break;
      }
      unsigned char e = p->s[p->pos + 1];
      const char *simple = NULL;
      switch (e) {
      case '"': simple = "\""; break;
      case '\\': simple = "\\"; break;
      case '/': simple = "/"; break;
      case 'b': simple = "\b"; break;
      case 'f': simple = "\f"; break;
      case 'n': simple = "\n"; break;
      case 'r': simple = "\r"; break;
      case 't': simple = "\t"; break;
      }
      if (simple) {
        p->pos += 2;
        if (!buf_put(p, &b, simple, 1)) break;
        continue;
      }
      if (e != 'u') {
        fail_at(p, p->pos, "invalid escape (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        break;
      }
      size_t esc = p->pos;
      p->pos += 2;
      uint32_t cp;
      if (!hex4(p, &cp)) break;
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail_at(p, esc, "lone low surrogate in \\u escape");
        break;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
          fail_at(p, esc, "high surrogate not followed by a \\u low surrogate");
          break;
        }
        p->pos += 2;
        if (!hex4(p, &lo)) break;
        if (lo < 0xDC00 || lo > 0xDFFF) {
          fail_at(p, esc, "high surrogate not followed by a low surrogate");
          break;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      if (!put_utf8(p, &b, cp)) break;
      continue;
    }
    size_t n = utf8_seq(p->s + p->pos, p->len - p->pos);
    if (n == 0) {
      fail_at(p, p->pos, "invalid UTF-8 in string");
      break;
    }
    if (!buf_put(p, &b, p->s + p->pos, n)) break;
    p->pos += n;
  }
  if (ok) {
    char *s = doc_alloc(p, b.len + 1);
    if (s) {
      if (b.len) memcpy(s, b.data, b.len);
      s[b.len] = '\0';
      *out = s;
      *out_len = b.len;
    } else
      ok = false;
  }
  free(b.data);
  return ok;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static bool parse_number(parser *p, dg_json_value *v) {
  size_t start = p->pos, i = p->pos;
  const unsigned char *s = p->s;
  bool integer = true, negative = false;
  if (i < p->len && s[i] == '-') i++, negative = true;
  if (i >= p->len || !(s[i] >= '0' && s[i] <= '9')) return fail_at(p, start, "number needs a digit");
  if (s[i] == '0') {
    i++;
    if (i < p->len && s[i] >= '0' && s[i] <= '9') return fail_at(p, start, "number has a leading zero");
  } else
    while (i < p->len && s[i] >= '0' && s[i] <= '9')
      i++;
  if (i < p->len && s[i] == '.') {
    integer = false;
    i++;
    if (i >= p->len || !(s[i] >= '0' && s[i] <= '9')) return fail_at(p, i, "number needs a digit after '.'");
    while (i < p->len && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
    integer = false;
    i++;
    if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= p->len || !(s[i] >= '0' && s[i] <= '9')) return fail_at(p, i, "number needs a digit in the exponent");
    while (i < p->len && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  size_t n = i - start;
  v->type = DG_JSON_NUMBER;
  v->is_uint = false;
  if (integer && !negative) {
    uint64_t u = 0;
    bool fits = true;
    for (size_t k = start; k < i; k++)
      if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, (uint64_t)(s[k] - '0'), &u)) fits = false;
    if (fits) v->is_uint = true, v->uint = u;
  }
  char small[64], *tmp = n < sizeof small ? small : malloc(n + 1);
  if (!tmp) {
    p->status = dg_fail(DG_ERR_OOM, "%s: out of memory parsing JSON", p->source);
    return false;
  }
  memcpy(tmp, s + start, n);
  tmp[n] = '\0';
  pthread_once(&c_locale_once, make_c_locale);
  v->number = c_locale ? strtod_l(tmp, NULL, c_locale) : strtod(tmp, NULL);
  if (tmp != small) free(tmp);
  p->pos = i;
  return true;
}

static int cmp_member(const void *a, const void *b) {
  const dg_json_member *x = *(const dg_json_member *const *)a, *y = *(const dg_json_member *const *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  if (c) return c;
  return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static const dg_json_value *parse_value(parser *p, int depth);

// Collects children in a temporary growable array, then copies them into the document.
static bool parse_container(parser *p, dg_json_value *v, int depth, bool object) {
  size_t start = p->pos;
  if (depth >= p->max_depth) return fail_at(p, start, "nesting deeper than the limit");
  p->pos++;
  size_t count = 0, cap = 0, elem = object ? sizeof(dg_json_member) : sizeof(dg_json_value *);
  size_t *key_offsets = NULL;
  unsigned char *tmp = NULL;
  bool ok = false;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == (object ? '}' : ']')) {
    p->pos++;
    ok = true;
  } else
    for (;;) {
      if (count == cap) {
        cap = cap ? cap * 2 : 8;
        unsigned char *t = realloc(tmp, cap * elem);
        size_t *k = object ? realloc(key_offsets, cap * sizeof(size_t)) : NULL;
        if (t) tmp = t;
        if (k) key_offsets = k;
        if (!t || (object && !k)) {
          p->status = dg_fail(DG_ERR_OOM, "%s: out of memory parsing JSON", p->source);
          break;
        }
      }
      skip_ws(p);
      if (object) {
        dg_json_member *m = (dg_json_member *)tmp + count;
        if (p->pos >= p->len || p->s[p->pos] != '"') {
          fail_at(p, p->pos, p->pos >= p->len ? "unterminated object" : "expected a string key");
          break;
        }
        key_offsets[count] = p->pos;
        if (!parse_string(p, &m->key, &m->key_len)) break;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
          fail_at(p, p->pos, "expected ':' after object key");
          break;
        }
        p->pos++;
        if (!(m->value = parse_value(p, depth + 1))) break;
      } else {
        const dg_json_value *item = parse_value(p, depth + 1);
        if (!item) break;
        ((const dg_json_value **)tmp)[count] = item;
      }
      count++;
      skip_ws(p);
      if (p->pos >= p->len) {
        fail_at(p, start, object ? "unterminated object" : "unterminated array");
        break;
      }
      unsigned char c = p->s[p->pos];
      if (c == ',') {
        p->pos++;
        continue;
      }
      if (c == (object ? '}' : ']')) {
        p->pos++;
        ok = true;
        break;
      }
      fail_at(p, p->pos, object ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
      break;
    }
  if (ok) {
    void *items = count ? doc_alloc(p, count * elem) : NULL;
    if (count && !items)
      ok = false;
    else {
      if (count) memcpy(items, tmp, count * elem);
      v->type = object ? DG_JSON_OBJECT : DG_JSON_ARRAY;
      v->count = count;
      if (object) {
        v->members = items;
        const dg_json_member **sorted = count ? doc_alloc(p, count * sizeof *sorted) : NULL;
        if (count && !sorted)
          ok = false;
        else {
          for (size_t i = 0; i < count; i++)
            sorted[i] = v->members + i;
          if (count > 1) qsort(sorted, count, sizeof *sorted, cmp_member);
          for (size_t i = 1; i < count && ok; i++)
            if (cmp_member(&sorted[i - 1], &sorted[i]) == 0)
              ok = fail_at(p, key_offsets[sorted[i] - v->members], "duplicate object key");
          v->sorted = sorted;
        }
      } else
        v->items = items;
    }
  }
  free(tmp);
  free(key_offsets);
  return ok;
}

static const dg_json_value *parse_value(parser *p, int depth) {
  skip_ws(p);
  if (p->pos >= p->len) {
    fail_at(p, p->pos, "expected a value, found the end of the input");
    return NULL;
  }
  dg_json_value *v = doc_alloc(p, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->offset = p->base + p->pos;
  unsigned char c = p->s[p->pos];
  bool ok;
  switch (c) {
  case '{': ok = parse_container(p, v, depth, true); break;
  case '[': ok = parse_container(p, v, depth, false); break;
  case '"':
    v->type = DG_JSON_STRING;
    ok = parse_string(p, &v->str, &v->len);
    break;
  case 't': v->type = DG_JSON_TRUE, ok = literal(p, "true"); break;
  case 'f': v->type = DG_JSON_FALSE, ok = literal(p, "false"); break;
  case 'n': v->type = DG_JSON_NULL, ok = literal(p, "null"); break;
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      ok = parse_number(p, v);
    else
      ok = fail_at(p, p->pos, "unexpected character where a value should start");
  }
  return ok ? v : NULL;
}

dg_status dg_json_parse(const char *text, size_t len, const char *source, size_t base_offset, int max_depth,
                        dg_json **out) {
  *out = NULL;
  if (!text && len) return dg_fail(DG_ERR_ARG, "dg_json_parse: NULL text");
  dg_json *doc = calloc(1, sizeof *doc);
  if (!doc) return dg_fail(DG_ERR_OOM, "dg_json_parse: out of memory");
  parser p = {.s = (const unsigned char *)text,
              .len = len,
              .base = base_offset,
              .source = source ? source : "JSON",
              .max_depth = max_depth > 0 ? max_depth : DG_JSON_DEFAULT_DEPTH,
              .doc = doc};
  const dg_json_value *root = parse_value(&p, 0);
  if (root) {
    skip_ws(&p);
    if (p.pos != p.len) fail_at(&p, p.pos, "trailing characters after the JSON value");
  }
  if (p.status != DG_OK || !root) {
    dg_json_free(doc);
    return p.status != DG_OK ? p.status : dg_fail(DG_ERR_FORMAT, "%s: invalid JSON", p.source);
  }
  doc->root = root;
  *out = doc;
  return DG_OK;
}

dg_status dg_json_check_limits(const char *text, size_t len, const char *source, size_t max_bytes, int max_depth) {
  const char *sep = source ? ": " : "";
  source = source ? source : "";
  if (max_bytes && len > max_bytes)
    return dg_fail(DG_ERR_FORMAT, "%s%s%zu bytes of JSON, more than the limit of %zu bytes", source, sep, len,
                   max_bytes);
  int limit = max_depth > 0 ? max_depth : DG_JSON_DEFAULT_DEPTH, depth = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == '"') { // to the closing quote: one not preceded by an odd run of backslashes
      for (;;) {
        const char *q = memchr(text + i + 1, '"', len - i - 1);
        if (!q) return DG_OK; // unterminated: the parser reports it
        size_t at = (size_t)(q - text), bs = 0;
        while (text[at - 1 - bs] == '\\')
          bs++;
        i = at;
        if (bs % 2 == 0) break;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return dg_fail(DG_ERR_FORMAT, "%s%sJSON nested deeper than the limit of %d levels (at byte %zu)", source, sep,
                       limit, i);
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return DG_OK;
}

void dg_json_free(dg_json *doc) {
  if (!doc) return;
  for (chunk *c = doc->chunks, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  free(doc);
}

const dg_json_value *dg_json_root(const dg_json *doc) { return doc ? doc->root : NULL; }

const dg_json_value *dg_json_get(const dg_json_value *obj, const char *key) {
  if (!obj || obj->type != DG_JSON_OBJECT || !key) return NULL;
  dg_json_member probe = {.key = key, .key_len = strlen(key)};
  const dg_json_member *pp = &probe;
  size_t lo = 0, hi = obj->count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = cmp_member(&obj->sorted[mid], &pp);
    if (c == 0) return obj->sorted[mid]->value;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const char *dg_json_type_name(dg_json_type type) {
  switch (type) {
  case DG_JSON_NULL: return "null";
  case DG_JSON_FALSE: return "false";
  case DG_JSON_TRUE: return "true";
  case DG_JSON_NUMBER: return "number";
  case DG_JSON_STRING: return "string";
  case DG_JSON_ARRAY: return "array";
  case DG_JSON_OBJECT: return "object";
  }
  return "unknown";
}
