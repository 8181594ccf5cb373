// Deterministic fuzz of the project-file parser: mutations (byte flips, inserts, deletions,
// truncation, splices of JSON tokens) of a valid old single-file project, of the project.json of a
// valid bundle, and of a bundle's bytes must either parse into a valid document or fail with a
// message; never crash, hang or leak (run under ASan/valgrind for the latter).
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_bundle.h"
#include "dg_check.h"
#include "dg_project.h"
#include "dg_style_edit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

static const char *tokens[] = {"{",
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
                               "\xff\xfe",
                               "PK\x01\x02",
                               "\"layout.png\""};

// The bundle `valid` with its project.json replaced by json.
static char *with_json(const char *valid, size_t valid_len, const char *json, size_t json_len, size_t *len) {
  dg_bundle *b = dg_bundle_open((const uint8_t *)valid, valid_len);
  dg_bundle_writer *w = dg_bundle_writer_new();
  for (int i = 0; i < dg_bundle_count(b); i++) {
    const char *name = dg_bundle_name(b, i);
    size_t n;
    uint8_t *bytes = dg_bundle_read(b, name, 1 << 20, &n);
    if (!strcmp(name, "project.json"))
      dg_bundle_writer_add(w, name, json, json_len);
    else
      dg_bundle_writer_add(w, name, bytes, n);
    free(bytes);
  }
  dg_bundle_free(b);
  return (char *)dg_bundle_writer_finish(w, len);
}

// Mutates `valid` (wrapped into `bundle` as its project.json when bundle is set) `iterations` times.
static void fuzz(const char *name, const char *valid, size_t len, const char *bundle, size_t bundle_len, int iterations,
                 bool expect_parses) {
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
    size_t plen = n;
    char *project = bundle ? with_json(bundle, bundle_len, buf, n, &plen) : buf;
    dg_status st;
    dg_document *out = dg_project_parse(project, plen, &st);
    if (out) {
      parsed++;
      dg_check(st == DG_OK && dg_document_width(out) >= 1 && dg_document_height(out) >= 1, "%s %d", name, it);
      dg_document_free(out);
    } else {
      rejected++;
      dg_check(st != DG_OK && *dg_last_error(), "%s %d: rejected without a message", name, it);
    }
    if (project != buf) free(project);
  }
  printf("%s: %d mutations: %d parsed, %d rejected\n", name, iterations, parsed, rejected);
  dg_check(rejected > iterations / 2, "%s: most mutations should be rejected", name);
  if (expect_parses) dg_check(parsed > 0, "%s: some mutations (e.g. in the prompt text) should still parse", name);
  free(buf);
}

int main(int argc, char **argv) {
  int iterations = argc > 1 ? atoi(argv[1]) : 3000;
  // An old single-file project (version 1), committed.
  gchar *old = NULL;
  gsize old_len = 0;
  dg_check(g_file_get_contents(DG_SOURCE_DIR "/tests/ui/data/project-v1.dirigent", &old, &old_len, NULL),
           "the version 1 project is missing");
  if (old) fuzz("version 1 file", old, old_len, NULL, 0, iterations, true);
  g_free(old);

  // A bundle of a small document.
  dg_document *d = dg_document_new(24, 40);
  dg_document_fill_rect(d, 3, 3, 20, 10, 5);
  dg_document_set_text(d, DG_FIELD_PROMPT, "a tree by the water", false);
  dg_document_set_control_scale(d, 1.5);
  dg_result r = {.width = 4, .height = 3, .seed = 7, .steps = 2, .guidance = 1.5, .control_scale = 0.5};
  r.rgba = calloc(48, 1), r.prompt = strdup("x"), r.negative = strdup(""), r.model = strdup("m");
  dg_document_add_result(d, &r);
  // the style panel: one slot filled (its PNG a bundle entry, its size and source in the JSON), FDA at 0.5
  uint8_t px[2 * 3 * 4] = {9, 8, 7, 255, 1, 2, 3, 255};
  dg_style_image *ex = dg_style_image_new(2, 3, px, "world 12");
  dg_style_edit_set_slot(d, DG_STYLE_EXEMPLAR, ex);
  dg_style_edit_set_strength(d, 0.5, false);
  dg_style_image_unref(ex);
  size_t len;
  char *valid = dg_project_serialize(d, &len);
  dg_bundle *b = dg_bundle_open((const uint8_t *)valid, len);
  size_t json_len = 0;
  char *json = (char *)dg_bundle_read(b, "project.json", 1 << 20, &json_len);
  dg_bundle_free(b);
  fuzz("bundle project.json", json, json_len, valid, len, iterations, true);
  fuzz("bundle bytes", valid, len, NULL, 0, iterations, false);
  free(json);
  free(valid);
  dg_document_free(d);
  return dg_check_finish("fuzz_project");
}
