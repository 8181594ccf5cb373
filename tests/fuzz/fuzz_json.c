// The strict JSON parser (dg_json_parse) at the default depth limit: a parsed tree stays within the
// limit, its strings are NUL-terminated at their length, and every key is found by lookup.
#include <string.h>

#include "dg_json.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_init();
  return 0;
}

static void walk(const dg_json_value *v, int depth) {
  if (depth > DG_JSON_DEFAULT_DEPTH) fuzz_fail("tree deeper than the limit");
  dg_json_type_name(v->type);
  switch (v->type) {
  case DG_JSON_STRING:
    if (v->str[v->len] || strlen(v->str) > v->len) fuzz_fail("string at byte %zu: length", v->offset);
    break;
  case DG_JSON_ARRAY:
    for (size_t i = 0; i < v->count; i++)
      walk(v->items[i], depth + 1);
    break;
  case DG_JSON_OBJECT:
    for (size_t i = 0; i < v->count; i++) {
      const dg_json_member *m = &v->members[i];
      if (m->key[m->key_len]) fuzz_fail("key at byte %zu: length", v->offset);
      if (strlen(m->key) == m->key_len && dg_json_get(v, m->key) != m->value)
        fuzz_fail("lookup of '%s' at byte %zu", m->key, v->offset);
      walk(m->value, depth + 1);
    }
    break;
  case DG_JSON_NUMBER:
    if (v->is_uint && (double)v->uint != v->number) fuzz_fail("number at byte %zu: uint and double differ", v->offset);
    break;
  default: break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_json *doc = NULL;
  dg_clear_error();
  dg_status s = dg_json_parse((const char *)data, size, "fuzz", 0, 0, &doc);
  if (s != DG_OK) {
    fuzz_expect_error(s, "dg_json_parse");
    if (doc) fuzz_fail("a failed parse returned a document");
    return 0;
  }
  walk(dg_json_root(doc), 0);
  dg_json_free(doc);
  return 0;
}
