// Deterministic fuzz of the project-file parser: mutations of a valid project (byte flips, inserts,
// deletions, truncation, splices of JSON tokens) must either parse into a valid document or fail with
// a message; never crash, hang or leak (run under ASan/valgrind for the latter).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_check.h"
#include "dg_project.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  int iterations = argc > 1 ? atoi(argv[1]) : 3000;
  dg_document *d = dg_document_new(24, 40);
  dg_document_fill_rect(d, 3, 3, 20, 10, 5);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a tree by the water", false);
  dg_result r = {.width = 4, .height = 3, .seed = 7, .steps = 2, .guidance = 1.5};
  r.rgba = calloc(48, 1), r.prompt = strdup("x"), r.negative = strdup(""), r.model = strdup("m");
  dg_document_add_result(d, &r);
  size_t len;
  char *valid = dg_project_serialize(d, &len);
  const char *tokens[] = {"{",
                          "}",
                          "[",
                          "]",
                          "\"",
                          ",",
                          ":",
                          "null",
                          "true",
                          "-1",
                          "1e308",
                          "4096",
                          "\"AAAA\"",
                          "\\u0000",
                          "\"===\"",
                          "0",
                          "99999999999999999999",
                          "[[[[[[",
                          "\xff\xfe"};
  int parsed = 0, rejected = 0;
  char *buf = malloc(len + 64 * 32);
  for (int it = 0; it < iterations; it++) {
    memcpy(buf, valid, len);
    size_t n = len;
    int edits = 1 + (int)(next() % 4);
    for (int e = 0; e < edits && n > 0; e++) {
      size_t at = next() % n;
      switch (next() % 5) {
      case 0: buf[at] ^= (char)(1u << (next() % 8)); break;
      case 1: buf[at] = (char)next(); break;
      case 2: memmove(buf + at, buf + at + 1, n - at - 1), n--; break;
      case 3: n = at; break;
      case 4: {
        const char *t = tokens[next() % (sizeof tokens / sizeof tokens[0])];
        size_t tl = strlen(t);
        memmove(buf + at + tl, buf + at, n - at);
        memcpy(buf + at, t, tl);
        n += tl;
        break;
      }
      }
    }
    dg_status st;
    dg_document *out = dg_project_parse(buf, n, &st);
    if (out) {
      parsed++;
      dg_check(st == DG_OK && dg_document_width(out) >= 1 && dg_document_height(out) >= 1, "iteration %d", it);
      dg_document_free(out);
    } else {
      rejected++;
      dg_check(st != DG_OK && *dg_last_error(), "iteration %d: rejected without a message", it);
    }
  }
  printf("%d mutations: %d parsed, %d rejected\n", iterations, parsed, rejected);
  dg_check(rejected > iterations / 2, "most mutations should be rejected");
  dg_check(parsed > 0, "some mutations (e.g. in the prompt text) should still parse");
  free(buf);
  free(valid);
  dg_document_free(d);
  return dg_check_finish("fuzz_project");
}
